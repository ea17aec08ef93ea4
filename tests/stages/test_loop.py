"""`podium run`: the champion/challenger loop end to end on a real sqlite registry.

Tests of one stage live in the file of that stage (tests/stages/test_<stage>.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.results import Evaluation
from tests.conftest import STRONG, STRONG_PARAMS, USELESS, Project, seed_store, state_json


def test_first_run_crowns_a_champion_then_a_better_challenger_replaces_it(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    first = project.cli("run")
    assert first.code == 0, first.err
    registry = registry_of(project)
    assert registry.champion().version == "1"
    evaluation = state_json(project, "evaluation.json")
    assert evaluation["champion"] is None
    assert evaluation["summary"].startswith("first champion")

    project.set_estimator(STRONG, **STRONG_PARAMS)
    second = project.cli("run")
    assert second.code == 0, second.err
    evaluation = state_json(project, "evaluation.json")
    assert evaluation["champion"]["version"] == "1"
    assert evaluation["challenger"]["version"] == "2"
    gained = (
        evaluation["challenger"]["metrics"]["roc_auc"]
        - evaluation["champion"]["metrics"]["roc_auc"]
    )
    assert gained > 0.05
    assert registry.champion().version == "2"
    assert "challenger **v2** is the new champion (was v1)" in second.out
    report = (project.state / "report.md").read_text()
    assert report.startswith("<!-- podium-report: churn -->")
    assert "| roc_auc |" in report

    events = registry.history()
    assert [(e.action, e.version, e.previous) for e in events] == [
        ("promote", "1", None),
        ("promote", "2", "1"),
    ]
    tags = registry.get_version("2").tags
    assert tags["podium.champion_action"] == "promote"
    assert tags["podium.previous_champion"] == "1"
    assert tags["podium.verdict"] == "passed"
    assert tags["podium.evaluated_against"] == "1"


def test_a_challenger_that_fails_a_gate_is_reported_and_not_promoted(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    champion_project.set_estimator(USELESS)
    result = champion_project.cli("run")
    assert result.code == 1
    assert "roc_auc" in result.err and "nothing was promoted" in result.err
    assert len(result.err.strip().splitlines()) == 1
    registry = registry_of(champion_project)
    assert registry.champion().version == "1"
    assert len(registry.history()) == 1
    report = (champion_project.state / "report.md").read_text()
    assert "does not beat champion **v1**" in report and "❌" in report
    assert not (champion_project.state / "promotion.json").exists()
    # And promote on its own refuses the failed verdict, moving nothing.
    refused = champion_project.cli("promote")
    assert refused.code == 1
    assert "failed its gates" in refused.err
    assert registry.champion().version == "1"
    assert state_json(champion_project, "promotion.json")["promoted"] is False


def test_failed_gates_are_returned_values_not_exceptions(champion_project: Project) -> None:
    """Outcomes are values: the stages return their result with `passed=False` (the CLI
    maps it to exit 1), and what they return is what they wrote."""
    from podium.config import load
    from podium.results import Promotion
    from podium.stages.evaluate import evaluate
    from podium.stages.promote import promote

    champion_project.set_estimator(USELESS)
    assert champion_project.cli("train").code == 0
    config = load(str(champion_project.config_path))
    evaluated = evaluate(config=config)
    assert evaluated.passed is False
    assert evaluated.failure == f"gates failed: {evaluated.summary}"
    assert Evaluation.load(champion_project.state, needed_by="test", model="churn") == evaluated
    refused = promote(config=config)
    assert not refused.passed and not refused.promoted
    assert refused.failure == f"not promoted: v2 failed its gates: {evaluated.summary}"
    assert (
        Promotion.load(champion_project.state, needed_by="test").model_dump()
        == refused.model_dump()
    )


def test_no_promote_stops_before_promotion(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    result = project.cli("run", "--no-promote")
    assert result.code == 0, result.err
    assert registry_of(project).champion() is None
    assert "would become the first champion" in result.out


def test_stages_chain_through_state_files(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    for stage in ("validate", "train", "evaluate", "report", "promote"):
        outcome = project.cli(stage)
        assert outcome.code == 0, (stage, outcome.err)
    assert registry_of(project).champion().version == "1"
    # Re-promoting the same evaluation is a no-op, not a second audit event.
    again = project.cli("promote")
    assert again.code == 0
    assert len(registry_of(project).history()) == 1


def _write(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_regression_loop(tmp_path: Path, suffix: str, store_template: Path) -> None:
    seed_store(tmp_path / ".podium" / "mlflow.db", store_template)
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 900
    frame = pd.DataFrame(
        {
            "size_m2": rng.uniform(20, 200, n),
            "rooms": rng.integers(1, 7, n),
            "city": rng.choice(["lyon", "paris", "nantes"], n),
        }
    )
    frame.loc[rng.uniform(size=n) < 0.05, "size_m2"] = np.nan
    frame["price"] = (
        3000 * frame["size_m2"].fillna(80)
        + 10000 * frame["rooms"]
        + frame["city"].map({"lyon": 0, "paris": 150000, "nantes": -20000})
        + rng.normal(0, 20000, n)
    )
    _write(frame.iloc[:600], tmp_path / f"data/train{suffix}")
    _write(frame.iloc[600:], tmp_path / f"data/eval{suffix}")
    project = Project(tmp_path)
    project.write_config(
        {
            "model": {
                "name": "prices",
                "task": "regression",
                "estimator": {"class": "sklearn.dummy.DummyRegressor", "params": {}},
            },
            "data": {
                "train": f"data/train{suffix}",
                "eval": f"data/eval{suffix}",
                "target": "price",
            },
            "gates": [{"metric": "rmse", "max": 1e6, "min_delta": 0}, {"metric": "r2", "min": -1}],
        }
    )
    assert project.cli("run").code == 0
    project.set_estimator("sklearn.linear_model.Ridge", alpha=1.0)
    result = project.cli("run")
    assert result.code == 0, result.err
    evaluation = state_json(project, "evaluation.json")
    assert evaluation["challenger"]["metrics"]["r2"] > 0.8
    assert evaluation["challenger"]["metrics"]["rmse"] < evaluation["champion"]["metrics"]["rmse"]
    assert {"rmse", "mae", "r2", "latency_ms", "model_size_mb"} <= set(
        evaluation["challenger"]["metrics"]
    )


def test_multiclass_with_text_labels_and_roc_auc(tmp_path: Path, store_template: Path) -> None:
    seed_store(tmp_path / ".podium" / "mlflow.db", store_template)
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    n = 900
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    label = np.where(
        x1 + 0.3 * rng.normal(size=n) > 0.5, "gold", np.where(x2 > 0, "silver", "bronze")
    )
    frame = pd.DataFrame(
        {"x1": x1, "x2": x2, "colour": rng.choice(["red", "blue"], n), "tier": label}
    )
    _write(frame.iloc[:600], tmp_path / "data/train.csv")
    _write(frame.iloc[600:], tmp_path / "data/eval.csv")
    project = Project(tmp_path)
    project.write_config(
        {
            "model": {
                "name": "tiers",
                "task": "classification",
                "estimator": {"class": "sklearn.linear_model.LogisticRegression", "params": {}},
            },
            "data": {"train": "data/train.csv", "eval": "data/eval.csv", "target": "tier"},
            "gates": [{"metric": "roc_auc", "min": 0.8}, {"metric": "log_loss", "max": 1.0}],
        }
    )
    result = project.cli("run")
    assert result.code == 0, result.err
    metrics = state_json(project, "evaluation.json")["challenger"]["metrics"]
    assert metrics["roc_auc"] > 0.8 and 0 < metrics["log_loss"] < 1.0
    assert 0 < metrics["f1"] <= 1


ENTRYPOINT = '''
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder


class LogTenure(BaseEstimator, TransformerMixin):
    """A user-defined transformer: only this file knows it."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.log1p(np.asarray(X, dtype=float))


def build_model():
    numeric = Pipeline([("impute", SimpleImputer()), ("log", LogTenure())])
    categorical = Pipeline(
        [("impute", SimpleImputer(strategy="most_frequent")), ("onehot", OneHotEncoder(handle_unknown="ignore"))]
    )
    features = ColumnTransformer(
        [("num", numeric, ["tenure_months", "monthly_charges", "support_calls"]),
         ("cat", categorical, ["plan", "payment"])]
    )
    return Pipeline([("features", features), ("model", LogisticRegression(max_iter=500))])
'''


def test_entrypoint_model_is_trained_registered_and_loadable(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project.use_entrypoint(ENTRYPOINT)
    result = project.cli("run")
    assert result.code == 0, result.err
    registry = registry_of(project)
    assert registry.champion().version == "1"
    assert state_json(project, "train.json")["estimator"] == "train_model.py:build_model"


def test_run_with_data_that_fails_an_expectation_trains_nothing_and_reports_why(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project.expect_tenure_below(10)  # the sample data has tenures up to 72
    result = project.cli("run")
    assert result.code == 1
    assert "tenure_months" in result.err
    assert registry_of(project).versions() == []  # nothing trained, nothing registered
    assert "the data did not pass validation" in result.out  # shown, not only written
    report = (project.state / "report.md").read_text()
    assert "the data did not pass validation" in report and "tenure_months" in report
    assert not (project.state / "train.json").exists()


def test_a_new_state_folder_is_kept_out_of_git_and_a_users_choice_is_kept(
    make_project: Callable[..., Project],
) -> None:
    import subprocess

    project = make_project(seeded=False)  # a new project: podium makes `.podium/` itself
    git = ["git", "-C", str(project.root)]
    subprocess.run([*git, "init", "-q"], check=True)
    done = project.cli("run")
    assert done.code == 0, done.err
    assert (project.state / "mlflow.db").is_file() and (project.state / "report.md").is_file()
    untracked = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    assert untracked  # the project's own files are there to commit
    assert not [line for line in untracked if ".podium/" in line], untracked

    # A user who deletes the .gitignore to commit results is not overruled.
    (project.state / ".gitignore").unlink()
    assert project.cli("run").code in (0, 1)
    assert not (project.state / ".gitignore").exists()
