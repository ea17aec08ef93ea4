"""The champion/challenger loop end to end on a real sqlite registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.results import Evaluation
from tests.conftest import STRONG, STRONG_PARAMS, USELESS, Project


def _json(project: Project, name: str) -> dict[str, Any]:
    loaded = json.loads((project.state / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_first_run_crowns_a_champion_then_a_better_challenger_replaces_it(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    first = project.cli("run")
    assert first.code == 0, first.err
    registry = registry_of(project)
    assert registry.champion().version == "1"
    evaluation = _json(project, "evaluation.json")
    assert evaluation["champion"] is None
    assert evaluation["summary"].startswith("first champion")

    project.set_estimator(STRONG, **STRONG_PARAMS)
    second = project.cli("run")
    assert second.code == 0, second.err
    evaluation = _json(project, "evaluation.json")
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


def test_training_records_provenance_fingerprints_and_signature(
    project: Project, registry_of: Callable[[Project], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SHA", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/churn")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    event = project.root / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 17}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    outputs = project.root / "outputs.txt"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))

    result = project.cli("train")
    assert result.code == 0, result.err
    trained = _json(project, "train.json")
    registry = registry_of(project)
    version = registry.get_version(trained["version"])
    assert version.tags["podium.candidate"] == "true"
    assert version.tags["podium.git_commit"].startswith("a1b2c3d")
    assert version.tags["podium.pr"] == "17"
    assert (
        version.tags["podium.workflow_run"] == "https://github.example/acme/churn/actions/runs/4242"
    )
    import hashlib

    digest = hashlib.sha256((project.root / "data" / "train.csv").read_bytes()).hexdigest()
    assert version.tags["podium.train_sha256"] == digest
    assert version.tags["podium.train_rows"] == "1200"
    assert "model-version<<" in outputs.read_text()
    assert f"\n{trained['version']}\n" in outputs.read_text()

    import mlflow

    info = mlflow.models.get_model_info(version.uri)
    assert info.signature is not None
    inputs = {spec.name for spec in info.signature.inputs.inputs}
    assert "plan" in inputs and "customer_id" not in inputs and "churned" not in inputs
    run = registry.client.get_run(trained["run_id"])
    assert "train_roc_auc" in run.data.metrics


def test_a_challenger_that_fails_a_gate_is_reported_and_not_promoted(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    assert project.cli("run").code == 0
    project.set_estimator(USELESS)
    result = project.cli("run")
    assert result.code == 1
    assert "roc_auc" in result.err and "nothing was promoted" in result.err
    assert len(result.err.strip().splitlines()) == 1
    registry = registry_of(project)
    assert registry.champion().version == "1"
    assert len(registry.history()) == 1
    report = (project.state / "report.md").read_text()
    assert "does not beat champion **v1**" in report and "❌" in report
    assert not (project.state / "promotion.json").exists()
    # And promote on its own refuses the failed verdict, moving nothing.
    refused = project.cli("promote")
    assert refused.code == 1
    assert "failed its gates" in refused.err
    assert registry.champion().version == "1"
    assert _json(project, "promotion.json")["promoted"] is False


def test_failed_gates_are_returned_values_not_exceptions(project: Project) -> None:
    """Outcomes are values: the stages return their result with `passed=False` (the CLI
    maps it to exit 1), and what they return is what they wrote."""
    from podium.config import load
    from podium.results import Promotion
    from podium.stages.evaluate import evaluate
    from podium.stages.promote import promote

    assert project.cli("run").code == 0
    project.set_estimator(USELESS)
    assert project.cli("train").code == 0
    config = load(str(project.config_path))
    evaluated = evaluate(config=config)
    assert evaluated.passed is False
    assert evaluated.failure == f"gates failed: {evaluated.summary}"
    assert Evaluation.load(project.state, needed_by="test", model="churn") == evaluated
    refused = promote(config=config)
    assert not refused.passed and not refused.promoted
    assert refused.failure == f"not promoted: v2 failed its gates: {evaluated.summary}"
    assert Promotion.load(project.state, needed_by="test").model_dump() == refused.model_dump()


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


def test_promote_without_evaluation_says_which_stage_to_run(project: Project) -> None:
    result = project.cli("promote")
    assert result.code == 2
    assert "evaluation.json" in result.err and "podium evaluate" in result.err


def test_training_again_invalidates_the_previous_evaluation(project: Project) -> None:
    assert project.cli("train").code == 0
    assert project.cli("evaluate").code == 0
    assert project.cli("train").code == 0
    assert not (project.state / "evaluation.json").exists()
    assert project.cli("promote").code == 2


def test_champion_moved_since_evaluation_is_refused(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    """Compare-and-set: the evaluation was against 'no champion', but one appeared since."""
    assert project.cli("train").code == 0
    assert project.cli("evaluate").code == 0  # judged v1 with no champion
    stale = Evaluation.load(project.state, needed_by="test")
    registry = registry_of(project)
    registry.client.set_registered_model_alias("churn", "champion", "1")  # someone else moved it
    project.set_estimator(STRONG, **STRONG_PARAMS)
    other = project.root / "other"
    other.mkdir()
    # Promote v1's stale evaluation after someone moved @champion to v2 behind its back.
    assert project.cli("train").code == 0  # v2
    registry.client.set_registered_model_alias("churn", "champion", "2")
    stale.model_copy(update={"passed": True, "summary": "every gate passes"}).save(project.state)
    refused = project.cli("promote")
    assert refused.code == 1
    assert "@champion of 'churn' is now v2, not unset" in refused.err
    assert registry.champion().version == "2"
    assert registry.history() == []


def test_rollback_to_previous_and_named_versions_is_audited(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    assert project.cli("run").code == 0  # v1 champion
    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("run").code == 0  # v2 champion
    project.set_estimator(STRONG, max_depth=4)
    assert project.cli("run").code == 0  # v3 champion (delta tolerance allows it)
    registry = registry_of(project)
    assert registry.champion().version == "3"

    back = project.cli("rollback", "--reason", "v3 misbehaves in production")
    assert back.code == 0, back.err
    assert registry.champion().version == "2"
    again = project.cli("rollback", "--reason", "v2 too")
    assert again.code == 0, again.err
    assert registry.champion().version == "1"  # walks back, does not flip-flop to v3
    named = project.cli("rollback", "--to", "3", "--reason", "fixed upstream")
    assert named.code == 0
    assert registry.champion().version == "3"

    listing = project.cli("history", "--json")
    events = json.loads(listing.out)
    assert [(e["action"], e["version"], e["previous"]) for e in events] == [
        ("promote", "1", None),
        ("promote", "2", "1"),
        ("promote", "3", "2"),
        ("rollback", "2", "3"),
        ("rollback", "1", "2"),
        ("rollback", "3", "1"),
    ]
    assert events[3]["reason"] == "v3 misbehaves in production"
    assert all(e["actor"] and e["at"].endswith("Z") for e in events)
    text = project.cli("history")
    assert text.code == 0 and "rollback" in text.out and "fixed upstream" in text.out
    assert registry.get_version("2").tags["podium.champion_action"] == "rollback"


def test_rollback_refusals(project: Project, registry_of: Callable[[Project], Any]) -> None:
    nothing = project.cli("rollback", "--reason", "oops")
    assert nothing.code == 2 and "no previous champion" in nothing.err
    assert project.cli("run").code == 0
    unknown = project.cli("rollback", "--to", "99", "--reason", "x")
    assert unknown.code == 2 and "no version '99'" in unknown.err
    same = project.cli("rollback", "--to", "1", "--reason", "x")
    assert same.code == 2 and "already the champion" in same.err
    missing_reason = project.cli("rollback", "--to", "1")
    assert missing_reason.code == 2 and "--reason" in missing_reason.err
    assert len(registry_of(project).history()) == 1


def _write(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_regression_loop(tmp_path: Path, suffix: str) -> None:
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
    evaluation = _json(project, "evaluation.json")
    assert evaluation["challenger"]["metrics"]["r2"] > 0.8
    assert evaluation["challenger"]["metrics"]["rmse"] < evaluation["champion"]["metrics"]["rmse"]
    assert {"rmse", "mae", "r2", "latency_ms", "model_size_mb"} <= set(
        evaluation["challenger"]["metrics"]
    )


def test_multiclass_with_text_labels_and_roc_auc(tmp_path: Path) -> None:
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
    metrics = _json(project, "evaluation.json")["challenger"]["metrics"]
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
    assert _json(project, "train.json")["estimator"] == "train_model.py:build_model"


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
