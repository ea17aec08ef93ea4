"""`podium train`: a candidate registered with its provenance, and what training clears."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project, state_json
from tests.test_modeling import TABLE_KINDS


def test_training_records_provenance_fingerprints_and_signature(
    project: Project, registry_of: Callable[[Project], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.config import load

    # In Actions a registry must be kept somewhere (stages.refuse_throwaway): name it.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", load(project.config_path).tracking_uri)
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
    trained = state_json(project, "train.json")
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


def test_training_again_invalidates_the_previous_evaluation(project: Project) -> None:
    assert project.cli("train").code == 0
    assert project.cli("evaluate").code == 0
    assert project.cli("train").code == 0
    assert not (project.state / "evaluation.json").exists()
    assert project.cli("promote").code == 2


def test_a_profile_begun_during_validate_is_the_one_logged(
    project: Project, registry_of: Callable[[Project], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`podium run` profiles the training rows beside validate's work; train logs that
    profile instead of computing it again — the very profile it would have computed."""
    import threading

    from podium import data, drift
    from podium.config import load
    from podium.stages.train import EarlyProfile, train
    from podium.stages.validate import validate

    config = load(project.config_path)
    profiling_threads: list[str] = []
    real = drift.profile

    def noted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        profiling_threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(drift, "profile", noted)
    profiled = EarlyProfile()
    assert validate(config=config, on_prepared=profiled.begin).passed
    trained = train(config=config, profiled=profiled)
    assert profiling_threads == ["podium-profile-early"]  # once, beside validate

    logged = registry_of(project).run_json(trained.run_id, drift.PROFILE_ARTIFACT)
    table = data.read_table(config.resolve(config.data.train), label="data.train")
    rows = data.prepare(
        table,
        target=config.data.target,
        task=config.model.task,
        features=config.data.features,
        exclude=config.data.exclude,
    )
    assert logged == json.loads(json.dumps(real(rows.features, rows.feature_types)))
    # another table's rows: not taken
    other = data.Table(path=table.path, frame=table.frame, sha256="0" * 64)
    assert profiled.take(other, rows) is None


# -- the training rows scored a block at a time (memory) ------------------------------------


@TABLE_KINDS
def test_podiums_pipeline_scores_its_training_rows_in_blocks_as_in_one_call(
    tmp_path: Path, categorical: bool, missing: bool
) -> None:
    import numpy as np

    from podium.modeling import build, fit, training_outputs
    from podium.scoring import predict, score_outputs
    from tests.test_modeling import early_stopping_table, hgb_config, targets

    frame, types = early_stopping_table(categorical=categorical, missing=missing)
    for kind, y in targets(frame).items():
        config = hgb_config(tmp_path, kind)
        model = fit(build(config, types), frame, y, source="hgb", path=tmp_path / "t.csv")
        task = config.model.task
        whole = predict(model, frame, task)
        blocks = training_outputs(model, frame, task, cells=5_000 * len(frame.columns))
        assert blocks.classes == whole.classes
        for field in ("predicted", "proba", "decision"):
            ours, theirs = getattr(blocks, field), getattr(whole, field)
            assert (ours is None) == (theirs is None), (kind, field)
            if theirs is not None:
                assert ours.dtype == theirs.dtype, (kind, field)
                assert np.array_equal(ours, theirs), (kind, field)
        assert score_outputs(blocks, y, task) == score_outputs(whole, y, task)


def test_other_models_score_their_training_rows_in_one_call(tmp_path: Path) -> None:
    """A user's pipeline — even of podium's very steps — may see rows together: one call."""
    from sklearn.base import clone

    from podium.modeling import build, fit, predicts_row_by_row
    from tests.test_modeling import early_stopping_table, hgb_config, make_config, targets

    frame, types = early_stopping_table()
    y = targets(frame)["binary"]
    podiums = fit(
        build(hgb_config(tmp_path, "binary"), types), frame, y, source="hgb", path=tmp_path
    )
    forest = make_config(tmp_path / "rf", estimator="sklearn.ensemble.RandomForestClassifier")
    assert predicts_row_by_row(podiums)
    assert not predicts_row_by_row(clone(podiums).fit(frame, y))  # not one podium built
    assert not predicts_row_by_row(build(forest, types))  # not HistGradientBoosting


# -- issue 31: the registered model takes raw rows -------------------------------------------

_ENTRYPOINT = """
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder


def build_model():
    numbers = ["Age", "Duration", "CreditAmount", "Income", "Applied"]
    words = ["Housing", "Purpose", "Savings"]
    return make_pipeline(
        make_column_transformer(
            (SimpleImputer(), numbers),
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), words),
        ),
        RandomForestClassifier(n_estimators=20, random_state=0),
    )
"""


@pytest.mark.parametrize(
    ("kind", "estimator", "params"),
    [
        ("credit", "sklearn.ensemble.HistGradientBoostingClassifier", {"max_iter": 20}),
        ("credit", "sklearn.linear_model.LogisticRegression", {"max_iter": 300}),
        ("credit", "entrypoint", {}),
        ("house", "sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 20}),
    ],
    ids=["hgb-classifier", "linear", "entrypoint", "hgb-regressor"],
)
def test_the_champion_scores_the_raw_csv_and_a_json_payload_through_pyfunc(
    tmp_path: Path, store_template: Path, kind: str, estimator: str, params: dict[str, Any]
) -> None:
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    from tests.shaped import write_project

    config = write_project(
        tmp_path / kind,
        kind,
        estimator=estimator if estimator != "entrypoint" else "sklearn.tree.DecisionTreeClassifier",
        params=params,
        store_template=store_template,
    )
    project = Project(config.parent)
    if estimator == "entrypoint":
        project.use_entrypoint(_ENTRYPOINT)
    result = project.cli("run")
    assert result.code == 0, result.err
    mlflow.set_tracking_uri(f"sqlite:///{project.root / '.podium' / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"models:/{kind}@champion")
    raw = pd.read_csv(project.root / "data" / "eval.csv")
    assert raw["Age" if kind == "credit" else "LotArea"].dtype == np.int64  # ints, not floats
    predicted = model.predict(raw)  # was: "Can not safely convert int64 to float64"
    assert len(predicted) == len(raw)

    # podium's own scores of the same rows (prepared by podium) are the pyfunc's
    evaluation = state_json(project, "evaluation.json")
    metric = "roc_auc" if kind == "credit" else "rmse"
    from sklearn.metrics import mean_squared_error, roc_auc_score

    if kind == "credit":
        classes = sorted(raw["risk"].unique())
        proba = mlflow.sklearn.load_model(f"models:/{kind}@champion").predict_proba(raw)
        scored = roc_auc_score(raw["risk"] == classes[1], proba[:, 1])
    else:
        scored = mean_squared_error(raw["SalePrice"], predicted) ** 0.5
    assert scored == pytest.approx(evaluation["challenger"]["metrics"][metric], rel=1e-9)

    # a serving payload, as `mlflow models serve` parses it: a date as text, a missing value
    date = "Applied" if kind == "credit" else "SoldOn"
    rows = raw.drop(columns=["risk" if kind == "credit" else "SalePrice"]).head(3)
    rows[date] = "2010-05-01"
    payload = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split"))})
    parsed = infer_and_parse_data(json.loads(payload), model.metadata.get_input_schema())
    served = model.predict(parsed)
    direct = model.predict(rows.assign(**{date: pd.Timestamp("2010-05-01")}))
    assert list(served) == list(direct)


def test_the_raw_rows_model_loads_where_podium_is_not_installed(champion_project: Project) -> None:
    import subprocess
    import sys

    script = champion_project.root / "load.py"
    script.write_text(
        "import sys\n"
        "sys.modules['podium'] = None  # as on a serving host without podium\n"
        "import mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri('sqlite:///{champion_project.state / 'mlflow.db'}')\n"
        "model = mlflow.pyfunc.load_model('models:/churn@champion')\n"
        f"rows = pd.read_csv('{champion_project.root / 'data' / 'eval.csv'}')\n"
        "print(len(model.predict(rows)))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "600"


def test_a_dirty_working_tree_is_recorded_on_the_version(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=project.root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "podium.yaml", "data")
    git("commit", "-qm", "model")
    project.update(gates=[{"metric": "roc_auc", "min": 0.5}])  # not committed
    assert project.cli("run").code == 0
    tags = registry_of(project).get_version("1").tags
    assert tags["podium.dirty"] == "true"
    assert tags["podium.dirty_files"] == "podium.yaml"
    assert "+ uncommitted changes (podium.yaml)" in (project.state / "report.md").read_text()
    git("commit", "-qam", "gates")
    assert project.cli("train").code == 0
    clean = registry_of(project).get_version("2").tags
    assert clean["podium.dirty"] == "false" and "podium.dirty_files" not in clean
