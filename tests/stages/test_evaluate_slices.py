"""`podium evaluate` with `slices:` on a real registry: a planted slice regression.

The champion is a stump; the challenger a depth-3 tree that is better on average and in
every region — except that, with the plant, its scores for region=south are shuffled
(f1 there drops by ~0.16 while the average still improves).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import Project, state_json

PLANTED = """
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

PLANT = {plant}


class Planted(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        prepare = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include=object)),
            (SimpleImputer(), make_column_selector(dtype_exclude=object)),
        )
        tree = DecisionTreeClassifier(max_depth=3, random_state=0)
        self.model_ = make_pipeline(prepare, tree).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        p = self.model_.predict_proba(X)
        if PLANT and "region" in X:
            south = (X["region"] == "south").to_numpy()
            p[south] = np.random.default_rng(0).permutation(p[south])
        return p

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def build_model():
    return Planted()
"""

GATES = [
    {"metric": "f1", "min_delta": 0, "per_slice": {"min_delta": -0.05}},
    {"metric": "roc_auc", "min": 0.6},
]


def _champion_then(project: Project, *, plant: bool, **config: Any) -> Any:
    project.update(gates=GATES, slices=["region"], **config)
    first = project.cli("run")
    assert first.code == 0, first.err
    project.use_entrypoint(PLANTED.format(plant=plant))
    return project.cli("run")


def test_a_planted_slice_regression_fails_the_per_slice_gate_and_names_the_slice(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    done = _champion_then(project, plant=True)
    assert done.code == 1, done.err
    evaluated = state_json(project, "evaluation.json")
    whole = evaluated["checks"][0]
    assert whole["metric"] == "f1" and whole["passed"] and whole["delta"] > 0  # average improves
    assert not evaluated["passed"]
    sliced = evaluated["slices"]
    worst = sliced["slices"][0]
    assert worst["slice"] == "region=south" and worst["passed"] is False
    assert worst["challenger"]["f1"] < worst["champion"]["f1"] - 0.05
    assert "f1 regresses by" in evaluated["summary"]
    assert f"for region=south (n={worst['rows']})" in evaluated["summary"]
    assert registry_of(project).champion().version == "1"  # nothing promoted
    report = (project.state / "report.md").read_text()
    assert "**Slices ❌" in report  # open, not collapsed
    assert "for region=south (n=" in report.split("\n\n")[1] + report  # the verdict names it
    assert report.index("`region=south`") < report.index("`region=north`")  # worst first


def test_the_same_data_without_the_plant_passes_with_the_slices_collapsed(
    project: Project,
) -> None:
    done = _champion_then(project, plant=False)
    assert done.code == 0, done.err
    evaluated = state_json(project, "evaluation.json")
    assert evaluated["passed"] and evaluated["slices"]["passed"]
    report = (project.state / "report.md").read_text()
    assert "<details><summary>Slices ✅" in report
    assert len(evaluated["slices"]["slices"]) == 4


def test_tiny_slices_never_gate(project: Project) -> None:
    # With a minimum above every slice's size, the planted regression is shown, not gated.
    done = _champion_then(project, plant=True, slices_min_rows=1000)
    assert done.code == 0, done.err
    sliced = state_json(project, "evaluation.json")["slices"]
    assert all(s["passed"] is None for s in sliced["slices"])
    south = next(s for s in sliced["slices"] if s["slice"] == "region=south")
    assert south["challenger"]["f1"] < south["champion"]["f1"] - 0.05
    assert "slices under 1,000 rows are shown, never gated" in sliced["guard"]


def test_the_cross_slice_gap_gate_judges_the_challengers_best_against_its_worst(
    project: Project,
) -> None:
    project.update(
        gates=[{"metric": "f1", "min_delta": 0, "max_slice_gap": 0.1}], slices=["region"]
    )
    assert project.cli("run").code == 0
    project.use_entrypoint(PLANTED.format(plant=True))
    done = project.cli("run")
    assert done.code == 1, done.err
    evaluated = state_json(project, "evaluation.json")
    (gap,) = evaluated["slices"]["gaps"]
    assert gap["slicing"] == "region" and gap["worst"] == "region=south"
    assert gap["gap"] > 0.1 and not gap["passed"]
    assert "f1 differs by" in evaluated["summary"] and "across region" in evaluated["summary"]

    # Generous bound, but "not wider than the champion's gap": the stump's gap is smaller.
    project.update(
        gates=[{"metric": "f1", "min_delta": 0, "max_slice_gap": 0.9, "slice_gap_not_wider": True}]
    )
    done = project.cli("evaluate")
    assert done.code == 1
    assert "wider than the champion's" in state_json(project, "evaluation.json")["summary"]


def test_a_sensitive_column_is_sliced_but_never_a_feature(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    document = project.config()
    document["data"]["exclude"] = ["customer_id", "region"]
    project.write_config(document)
    done = _champion_then(project, plant=True)
    # The plant needs region as a feature: without it the challenger is just better.
    assert done.code == 0, done.err
    trained = state_json(project, "train.json")
    assert "region" not in trained["feature_types"]
    sliced = state_json(project, "evaluation.json")["slices"]
    assert {s["slice"] for s in sliced["slices"] if s["slicing"] == "region"} == {
        "region=east",
        "region=north",
        "region=south",
        "region=west",
    }


def test_bad_slices_are_exit_2_naming_the_key_and_the_fix(project: Project) -> None:
    assert project.cli("train").code == 0
    project.update(slices=["regoin"])
    done = project.cli("evaluate")
    assert done.code == 2
    assert "slices[0]: column 'regoin' is not in the evaluation data (did you mean 'region'?)" in (
        done.err
    )
    project.update(slices=[{"column": "age", "bins": [30, 50, 120]}])
    done = project.cli("evaluate")
    assert done.code == 2 and "outside the bins [30, 50, 120]" in done.err
    assert "widen the first or last bin edge" in done.err
    # `podium run` refuses them before training: no version is registered for nothing.
    done = project.cli("run")
    assert done.code == 2 and "outside the bins" in done.err
    assert "train:" not in done.out  # issue 31: refused by validate, before training began
    assert json.loads((project.state / "train.json").read_text())["version"] == "1"
    checked = project.cli("validate")
    assert checked.code == 2 and "outside the bins" in checked.err
