"""`model.command`: the user's own training script, any MLflow flavor, judged like the rest.

Real scripts in real child processes log real models (LightGBM's native Booster with
`mlflow.lightgbm`, a pure-NumPy `mlflow.pyfunc.PythonModel` standing for PyTorch/Keras)
into a real sqlite registry; podium registers, scores, compares, promotes and rolls back.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project, state_json

NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "age"]

# A native LightGBM Booster (not the scikit-learn API), logged with mlflow.lightgbm.
LIGHTGBM_SCRIPT = """
import json, os
import lightgbm as lgb
import mlflow
import pandas as pd

train = pd.read_csv(os.environ["PODIUM_TRAIN_DATA"])
features = json.loads(os.environ["PODIUM_FEATURES"])
X, y = train[features], train[os.environ["PODIUM_TARGET"]]
print(f"training on {len(X)} rows, task {os.environ['PODIUM_TASK']}")
booster = lgb.train(
    {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 0},
    lgb.Dataset(X, y),
    num_boost_round=30,
)
with mlflow.start_run():
    mlflow.log_param("num_leaves", 7)
    mlflow.lightgbm.log_model(booster, name="model", input_example=X.head(5))
"""

# Logistic regression in NumPy, served by a PythonModel whose predict returns one
# probability column per class, named by class: stands for PyTorch/Keras models.
NUMPY_SCRIPT = """
import json, os
import mlflow
import numpy as np
import pandas as pd

LABELS_ONLY = os.environ.get("LABELS_ONLY") == "1"


class NumpyLogit(mlflow.pyfunc.PythonModel):
    def __init__(self, columns, mean, std, weights):
        self.columns, self.mean, self.std, self.weights = columns, mean, std, weights

    def predict(self, context, model_input, params=None):
        X = model_input[self.columns].to_numpy(dtype=float)
        X = np.nan_to_num((X - self.mean) / self.std)
        p = 1 / (1 + np.exp(-(X @ self.weights[1:] + self.weights[0])))
        if LABELS_ONLY:
            return (p > 0.5).astype(np.int64)
        return pd.DataFrame({0: 1 - p, 1: p})


train = pd.read_csv(os.environ["PODIUM_TRAIN_DATA"])
features = json.loads(os.environ["PODIUM_FEATURES"])
numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]
X = train[numeric].to_numpy(dtype=float)
mean, std = np.nanmean(X, axis=0), np.nanstd(X, axis=0) + 1e-9
Z = np.nan_to_num((X - mean) / std)
y = train[os.environ["PODIUM_TARGET"]].to_numpy(dtype=float)
w = np.zeros(Z.shape[1] + 1)
for _ in range(300):
    p = 1 / (1 + np.exp(-(Z @ w[1:] + w[0])))
    w -= 0.5 * np.concatenate([[np.mean(p - y)], Z.T @ (p - y) / len(y)])
with mlflow.start_run():
    mlflow.pyfunc.log_model(
        name="model",
        python_model=NumpyLogit(numeric, mean, std, w),
        input_example=train[features].head(5),
        pip_requirements=["numpy", "pandas"],
    )
"""


def readme_script() -> str:
    """The complete minimal train.py of README's "Bring your own training"."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    found = re.search(r"```python\n(# train\.py — .*?)```", readme, re.DOTALL)
    assert found, "README lost its train.py example"
    return found.group(1)


def use_command(project: Project, script: str, *, timeout_minutes: float | None = None) -> None:
    """Write train.py and point model.command at it (a list: the interpreter running tests)."""
    (project.root / "train.py").write_text(script)
    document = project.config()
    document["model"].pop("estimator", None)
    document["model"]["command"] = [sys.executable, "train.py"]
    if timeout_minutes is not None:
        document["model"]["timeout_minutes"] = timeout_minutes
    project.write_config(document)


def registry_state(registry: Any) -> tuple[list[tuple[str, str]], str | None]:
    """What a failed training must leave untouched: every version, and @champion."""
    versions = [(v.version, v.run_id or "") for v in registry.versions()]
    champion = registry.champion()
    return versions, champion.version if champion else None


def test_a_native_lightgbm_booster_from_a_script_is_registered_scored_and_promoted(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project()
    document = project.config()
    document["data"]["features"] = NUMERIC  # a Booster reads numbers, not text columns
    project.write_config(document)
    use_command(project, LIGHTGBM_SCRIPT)

    result = project.cli("run")
    assert result.code == 0, result.err
    assert "train | training on 1200 rows, task classification" in result.out  # live, prefixed
    registry = registry_of(project)
    version = registry.champion()
    assert version is not None and version.version == "1"
    assert version.tags["podium.candidate"] == "true"  # tagged like every version
    assert version.tags["podium.train_sha256"]
    assert json.loads(version.tags["podium.classes"]) == [0, 1]
    import mlflow

    assert "lightgbm" in mlflow.models.get_model_info(version.uri).flavors
    run = registry.client.get_run(version.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["num_leaves"] == "7"  # the script's own logging, same run
    assert run.data.params["podium.task"] == "classification"
    assert "train_roc_auc" in run.data.metrics
    # The command's own resource use is recorded like a fit's (a child process's CPU too).
    assert run.data.metrics["fit_cpu_seconds"] > 0.5 and run.data.metrics["fit_seconds"] > 0.5
    evaluated = state_json(project, "evaluation.json")["challenger"]
    metrics = evaluated["metrics"]
    assert metrics["roc_auc"] > 0.7  # probabilities read from the Booster's 1-D output
    assert metrics["log_loss"] > 0
    assert metrics["latency_ms"] > 0 and metrics["model_size_mb"] > 0
    assert "unavailable" not in evaluated  # written only when something is


def test_the_readme_script_scores_evaluation_rows_missing_an_integer_column(
    make_project: Callable[..., Project],
) -> None:
    # Its signature once typed tenure_months as long: a blank in it at evaluation was exit 2.
    project = make_project()
    evaluation = pd.read_csv(project.root / "data" / "eval.csv")
    assert pd.api.types.is_integer_dtype(evaluation["tenure_months"])
    evaluation["tenure_months"] = evaluation["tenure_months"].astype(float)
    evaluation.loc[::10, "tenure_months"] = None
    evaluation.to_csv(project.root / "data" / "eval.csv", index=False)
    use_command(project, readme_script())

    assert project.cli("train").code == 0
    result = project.cli("evaluate")
    assert result.code == 0, result.err
    assert state_json(project, "evaluation.json")["challenger"]["metrics"]["roc_auc"] > 0.6


def test_a_sklearn_champion_is_replaced_by_a_pyfunc_challenger_and_rolled_back(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project = champion_project  # v1: scikit-learn, the champion
    project.update(
        gates=[
            {"metric": "roc_auc", "min": 0.6, "min_delta": -0.2},
            {"metric": "f1", "min_delta": -0.2},
        ]
    )
    # As a version registered before any-framework support: no podium.classes tag.
    registry_of(project).client.delete_model_version_tag("churn", "1", "podium.classes")

    use_command(project, readme_script())  # README's own example, as a string command
    document = project.config()
    document["model"]["command"] = f"{sys.executable} train.py"
    project.write_config(document)
    second = project.cli("run")
    assert second.code == 0, second.err
    evaluated = state_json(project, "evaluation.json")
    assert evaluated["champion"]["version"] == "1"
    # The scikit-learn champion is still scored with its probabilities.
    assert evaluated["champion"]["metrics"]["log_loss"] > 0
    assert "unavailable" not in evaluated["champion"]
    assert evaluated["challenger"]["metrics"]["log_loss"] > 0
    assert evaluated["challenger"]["version"] == "2"
    # The same rows for both: paired bootstrap intervals and both importance rankings.
    roc_auc = evaluated["checks"][0]
    assert roc_auc["interval"] is not None and roc_auc["interval"]["rows"] == 600
    assert evaluated["importance"]["challenger"]["features"]
    assert evaluated["importance"]["champion"]["features"]
    ranked = {f["feature"] for f in evaluated["importance"]["challenger"]["features"]}
    assert "tenure_months" in ranked
    registry = registry_of(project)
    assert registry.champion().version == "2"  # pyfunc promoted over scikit-learn
    report = (project.state / "report.md").read_text()
    assert "95% CI" in report
    # Drift and monitoring against the pyfunc champion: its profile, its live metrics.
    assert project.cli("validate").code == 0
    assert state_json(project, "validation.json")["drift"]["features"]
    monitored = project.cli("monitor", "--data", str(project.root / "data" / "eval.csv"))
    assert monitored.code in (0, 1), monitored.err
    live = {m["metric"]: m for m in state_json(project, "monitor.json")["metrics"]}
    assert live["roc_auc"]["live"] == evaluated["challenger"]["metrics"]["roc_auc"]

    back = project.cli("rollback", "--reason", "pyfunc misbehaves in production")
    assert back.code == 0, back.err
    assert registry_of(project).champion().version == "1"  # scikit-learn again

    # …and the pyfunc one can be judged against the restored scikit-learn champion.
    again = project.cli("run", "--no-promote")
    assert again.code == 0, again.err
    assert state_json(project, "evaluation.json")["champion"]["version"] == "1"


def test_a_labels_only_model_gets_label_metrics_and_fails_a_roc_auc_gate_saying_why(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project(gates=[{"metric": "roc_auc", "min": 0.6}])
    use_command(project, NUMPY_SCRIPT)
    document = project.config()
    document["model"]["env"] = ["LABELS_ONLY"]  # beyond the allowlist: named to reach it
    project.write_config(document)

    result = project.cli("run", env={"LABELS_ONLY": "1"})
    assert result.code == 1
    evaluated = state_json(project, "evaluation.json")
    challenger = evaluated["challenger"]
    assert challenger["metrics"]["accuracy"] > 0.6 and challenger["metrics"]["f1"] > 0
    assert challenger["metrics"]["roc_auc"] is None
    assert challenger["metrics"]["log_loss"] is None
    assert "the model returns labels only" in challenger["unavailable"]["roc_auc"]
    reason = evaluated["checks"][0]["reasons"][0]
    assert reason.startswith("roc_auc of the challenger is not computable: the model returns")
    assert 'pyfunc_predict_fn="predict_proba"' in reason
    assert "not computable" in result.err
    report = (project.state / "report.md").read_text()
    assert "not computable for the challenger" in report
    assert "the model returns labels only" in report
    assert registry_of(project).champion() is None  # nothing promoted


BAD_SCRIPTS = {
    "fails": (
        "import sys\nprint('loading', file=sys.stderr)\n"
        "raise SystemExit('CUDA out of memory: tried to allocate 2 GiB')\n",
        ["failed with exit code 1", "CUDA out of memory"],
    ),
    "logs no model": (
        "import mlflow\nwith mlflow.start_run():\n    mlflow.log_metric('loss', 0.1)\n",
        ["logged no model"],
    ),
    "logs two models": (
        "import mlflow\n"
        "class First(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input.iloc[:, 0]\n"
        "with mlflow.start_run():\n"
        "    mlflow.pyfunc.log_model(name='model', python_model=First())\n"
        "    mlflow.pyfunc.log_model(name='other', python_model=First())\n",
        ["logged 2 models", "'model'", "'other'"],
    ),
    "times out": (
        "import sys, time\nprint('epoch 1', file=sys.stderr, flush=True)\ntime.sleep(60)\n",
        ["timed out after 0.05 min", "epoch 1"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_SCRIPTS))
def test_a_bad_script_is_exit_2_on_one_line_and_leaves_the_registry_unchanged(
    case: str, champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    before = registry_state(registry_of(champion_project))
    previous = (champion_project.state / "train.json").read_text()
    script, fragments = BAD_SCRIPTS[case]
    use_command(champion_project, script, timeout_minutes=0.05 if case == "times out" else None)

    started = time.perf_counter()
    result = champion_project.cli("train")
    assert result.code == 2, result.err
    complaint = [line for line in result.err.splitlines() if line.startswith("podium:")]
    assert len(complaint) == 1, result.err
    for fragment in fragments:
        assert fragment in complaint[0], complaint[0]
    assert "nothing was registered" in complaint[0]
    if case == "times out":
        assert time.perf_counter() - started < 30  # killed, not waited for
    assert registry_state(registry_of(champion_project)) == before
    # issue 31: the previous result stays (only a training that succeeds replaces it)
    assert (champion_project.state / "train.json").read_text() == previous


SELF_REGISTERING = """\
import mlflow
class First(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input.iloc[:, 0]
with mlflow.start_run():
    mlflow.pyfunc.log_model(name="model", python_model=First(), registered_model_name="churn")
"""


def test_a_script_that_registers_its_model_itself_is_exit_2_naming_the_version(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    # It used to pass: the script's untagged version and podium's own, two versions per run.
    use_command(champion_project, SELF_REGISTERING)
    previous = (champion_project.state / "train.json").read_text()

    result = champion_project.cli("train")
    assert result.code == 2, result.err
    complaint = [line for line in result.err.splitlines() if line.startswith("podium:")]
    assert len(complaint) == 1, result.err
    assert "registered version 1 of 'churn' itself" in complaint[0]  # in its own store
    assert "remove registered_model_name" in complaint[0]
    registry = registry_of(champion_project)
    assert [v.version for v in registry.versions()] == ["1"]  # the real registry: untouched
    assert registry.champion().version == "1"
    assert (champion_project.state / "train.json").read_text() == previous  # v1's, as before


def test_a_signature_that_rejects_the_evaluation_columns_is_exit_2_naming_them(
    make_project: Callable[..., Project],
) -> None:
    project = make_project()
    use_command(project, NUMPY_SCRIPT)
    assert project.cli("train").code == 0
    # Missing values make tenure_months float: numbers to podium, not the integers
    # (long) the model's signature was inferred with.
    import pandas as pd

    path = project.root / "data" / "eval.csv"
    frame = pd.read_csv(path)
    frame.loc[::7, "tenure_months"] = None
    frame.to_csv(path, index=False)
    result = project.cli("evaluate")
    assert result.code == 2, result.err
    assert "signature rejects column 'tenure_months': it expects long" in result.err


def test_a_sql_source_reaches_the_command_as_parquet(project: Project) -> None:
    import sqlite3

    import pandas as pd

    with sqlite3.connect(project.root / "data" / "warehouse.db") as connection:
        for name in ("train", "eval"):
            frame = pd.read_csv(project.root / "data" / f"{name}.csv")
            frame.to_sql(f"churn_{name}", connection, index=False)
    document = project.config()
    document["data"]["train"] = {"uri": "sqlite:///data/warehouse.db", "table": "churn_train"}
    document["data"]["eval"] = {"uri": "sqlite:///data/warehouse.db", "table": "churn_eval"}
    project.write_config(document)
    script = NUMPY_SCRIPT.replace(
        'train = pd.read_csv(os.environ["PODIUM_TRAIN_DATA"])',
        'assert os.environ["PODIUM_EVAL_DATA"].endswith("eval.parquet")\n'
        'train = pd.read_parquet(os.environ["PODIUM_TRAIN_DATA"])\n'
        'print("rows", len(train), os.environ["PODIUM_TRAIN_DATA"])',
    )
    use_command(project, script)

    result = project.cli("train")
    assert result.code == 0, result.err
    assert "train | rows 1200 " in result.out and "train.parquet" in result.out
    assert not list((project.state / "command").iterdir())  # copies removed after the run


# Training code that tries to take over: it reads every credential it can find, and writes
# to the registry it is pointed at (moves @champion to its own model, registers a version).
TAKEOVER = """\
import json, os
import mlflow
from mlflow import MlflowClient
names = ["GITHUB_TOKEN", "GIT_CONFIG_VALUE_1", "MLFLOW_TRACKING_TOKEN",
         "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_USERNAME", "AWS_SECRET_ACCESS_KEY",
         "WAREHOUSE_DSN"]
with open("seen.json", "w") as handle:
    json.dump({
        "env": {name: os.environ.get(name) for name in names},
        "uri": os.environ["MLFLOW_TRACKING_URI"],
    }, handle)


class First(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input.iloc[:, 0] * 0


with mlflow.start_run():
    mlflow.log_param("attempt", "takeover")
    info = mlflow.pyfunc.log_model(name="model", python_model=First())
client = MlflowClient()
try:
    client.set_registered_model_alias("churn", "champion", "1")
    moved = "moved"
except Exception as exc:  # not there: the champion lives elsewhere
    moved = type(exc).__name__
with open("moved.txt", "w") as handle:
    handle.write(moved)
"""


def test_a_training_command_gets_no_credential_and_cannot_touch_the_registry(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project = champion_project
    before = registry_state(registry_of(project))
    real_uri = registry_of(project).tracking_uri
    use_command(project, TAKEOVER)
    document = project.config()
    document["model"]["env"] = ["WAREHOUSE_DSN"]
    project.write_config(document)
    secrets = {
        "GITHUB_TOKEN": "ghs_write",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_1": "AUTHORIZATION: basic eC1hY2Nlc3M=",
        "MLFLOW_TRACKING_TOKEN": "mlflow-token",
        "MLFLOW_TRACKING_PASSWORD": "hunter2",
        "MLFLOW_TRACKING_USERNAME": "admin",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "WAREHOUSE_DSN": "postgres://reader@db/x",
    }
    result = project.cli("train", env=secrets)
    assert result.code == 0, result.err
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["env"] == {
        "GITHUB_TOKEN": None,
        "GIT_CONFIG_VALUE_1": None,  # git's auth header
        "MLFLOW_TRACKING_TOKEN": None,
        "MLFLOW_TRACKING_PASSWORD": None,
        "MLFLOW_TRACKING_USERNAME": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "WAREHOUSE_DSN": "postgres://reader@db/x",  # named in model.env
    }
    assert seen["uri"] != real_uri and "podium-command-" in seen["uri"]  # its own store
    # Its writes went to its throwaway store; the champion did not move.
    registry = registry_of(project)
    versions, champion = registry_state(registry)
    assert champion == before[1]
    assert [v for v, _ in versions] == ["1", "2"]  # podium registered its model, tagged
    version = registry.get_version("2")
    assert version.tags["podium.candidate"] == "true"
    assert len(version.tags["podium.model_sha256"]) == 64
    run = registry.client.get_run(version.run_id)
    assert run.data.params["attempt"] == "takeover"  # its own logging, copied over


# -- issue 31: which class a single probability is for ------------------------------------------

P_BAD_SCRIPT = """
import json, os
import mlflow
import numpy as np
import pandas as pd


class PBad(mlflow.pyfunc.PythonModel):
    def __init__(self, columns, mean, std, weights):
        self.columns, self.mean, self.std, self.weights = columns, mean, std, weights

    def predict(self, context, model_input, params=None):
        X = model_input[self.columns].to_numpy(dtype=float)
        X = np.nan_to_num((X - self.mean) / self.std)
        return 1 / (1 + np.exp(-(X @ self.weights[1:] + self.weights[0])))  # P(bad), 1-D


train = pd.read_csv(os.environ["PODIUM_TRAIN_DATA"])
numeric = ["Age", "Duration", "CreditAmount", "Income"]
X = train[numeric].to_numpy(dtype=float)
mean, std = np.nanmean(X, axis=0), np.nanstd(X, axis=0) + 1e-9
Z = np.nan_to_num((X - mean) / std)
y = (train["risk"] == "bad").to_numpy(dtype=float)
w = np.zeros(Z.shape[1] + 1)
for _ in range(300):
    p = 1 / (1 + np.exp(-(Z @ w[1:] + w[0])))
    w -= 0.5 * np.concatenate([[np.mean(p - y)], Z.T @ (p - y) / len(y)])
with mlflow.start_run():
    mlflow.pyfunc.log_model(
        name="model", python_model=PBad(numeric, mean, std, w), pip_requirements=["numpy"]
    )
"""


def test_a_script_returning_p_bad_is_scored_for_model_positive_class(
    tmp_path: Path, store_template: Path
) -> None:
    from tests.shaped import write_project

    project = Project(
        write_project(tmp_path / "credit", "credit", store_template=store_template).parent
    )
    use_command(project, P_BAD_SCRIPT)
    unnamed = project.cli("run", "--no-promote")
    assert unnamed.code == 1  # read as P(good): roc_auc below one half fails the 0.55 gate
    assert state_json(project, "evaluation.json")["challenger"]["metrics"]["roc_auc"] < 0.5
    report = (project.state / "report.md").read_text()
    assert "Scores are for the positive class 'good' (the second of the sorted labels; set " in (
        report
    )
    document = project.config()
    document["model"]["positive_class"] = "bad"
    project.write_config(document)
    named = project.cli("run", "--no-promote")
    assert named.code == 0, named.err
    assert state_json(project, "evaluation.json")["challenger"]["metrics"]["roc_auc"] > 0.5
    report = (project.state / "report.md").read_text()
    assert "Scores are for the positive class 'bad' (model.positive_class)." in report
    document["model"]["positive_class"] = "BAD"
    project.write_config(document)
    wrong = project.cli("train")
    assert wrong.code == 2 and "model.positive_class 'BAD' is not a label of 'risk'" in wrong.err
