"""The champion/challenger loop against a real `mlflow server` on loopback.

MLFLOW_TRACKING_URI points podium at the server (overriding the sqlite default in
podium.yaml); models go up to the server and come back through it, as in CI.
Each test uses its own model name: the server is shared by the whole session.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, USELESS, Project
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.server


@pytest.fixture
def on_server(
    make_project: Callable[..., Project],
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Project]:
    """Projects whose podium.yaml says sqlite, overridden by MLFLOW_TRACKING_URI=<server>."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)

    def factory(**overrides: Any) -> Project:
        overrides.setdefault("name", f"churn-{uuid.uuid4().hex[:8]}")
        overrides.setdefault("seeded", False)  # the sqlite store it names is never opened
        return make_project(**overrides)

    return factory


def _open(project: Project, registry_of: Callable[[Project], Any]) -> Any:
    registry = registry_of(project)
    assert registry.tracking_uri.startswith("http://127.0.0.1:")
    return registry


def test_loop_crowns_promotes_and_rejects_on_the_server(
    on_server: Callable[..., Project],
    registry_of: Callable[[Project], Any],
    mlflow_server: MlflowServer,
) -> None:
    project = on_server()
    registry = _open(project, registry_of)

    first = project.cli("run")
    assert first.code == 0, first.err
    assert registry.champion().version == "1"

    project.set_estimator(STRONG, **STRONG_PARAMS)
    better = project.cli("run")
    assert better.code == 0, better.err
    evaluation = json.loads((project.state / "evaluation.json").read_text())
    assert evaluation["tracking_uri"] == mlflow_server.url
    assert (evaluation["champion"]["version"], evaluation["challenger"]["version"]) == ("1", "2")
    assert registry.champion().version == "2"

    project.set_estimator(USELESS)
    worse = project.cli("run")
    assert worse.code == 1, worse.out + worse.err
    assert "nothing was promoted" in worse.err
    assert len(worse.err.strip().splitlines()) == 1
    assert registry.champion().version == "2"
    assert [e.version for e in registry.history()] == ["1", "2"]
    # MLFLOW_TRACKING_URI won: the sqlite registry named in podium.yaml was never created.
    assert not (project.state / "mlflow.db").exists()


def test_models_live_on_the_server_and_load_in_a_fresh_process(
    on_server: Callable[..., Project],
    registry_of: Callable[[Project], Any],
    mlflow_server: MlflowServer,
    tmp_path: Path,
) -> None:
    project = on_server()
    assert project.cli("run").code == 0
    champion = _open(project, registry_of).champion()

    run = registry_of(project).client.get_run(champion.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    # The client uploaded through HTTP; the files sit in the server's destination folder...
    on_disk = [p for p in mlflow_server.model_files() if champion.source.split("/")[-1] in str(p)]
    assert on_disk, f"no MLmodel for {champion.source} under {mlflow_server.artifacts}"
    assert (on_disk[0].parent / "model.pkl").is_file()
    # ...and nowhere in the project (no local mlruns/ or .podium/artifacts).
    assert not list(project.root.rglob("MLmodel"))

    # A fresh interpreter, in an empty folder, knowing only the URI, gets the champion back.
    script = textwrap.dedent(
        f"""
        import sys
        import mlflow.sklearn
        import pandas as pd
        model = mlflow.sklearn.load_model("models:/{champion.name}@champion")
        rows = pd.read_csv(sys.argv[1]).drop(columns=["churned", "customer_id"]).head(7)
        print(type(model).__name__, len(model.predict(rows)))
        """
    )
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    loaded = subprocess.run(
        [sys.executable, "-c", script, str(project.root / "data" / "eval.csv")],
        cwd=empty,
        env={**_env(), "MLFLOW_TRACKING_URI": mlflow_server.url},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-1] == "7"
    assert not list(empty.iterdir())


def test_rollback_and_history_on_the_server(
    on_server: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = on_server()
    assert project.cli("run").code == 0
    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("run").code == 0
    registry = _open(project, registry_of)
    assert registry.champion().version == "2"

    unknown = project.cli("rollback", "--to", "99", "--reason", "bad deploy")
    assert unknown.code == 2
    assert "no version '99'" in unknown.err and len(unknown.err.strip().splitlines()) == 1
    assert "Traceback" not in unknown.err
    assert registry.champion().version == "2"
    assert len(registry.history()) == 2

    back = project.cli("rollback", "--reason", "latency regression in prod")
    assert back.code == 0, back.err
    assert "champion is now v1 (was v2)" in back.out
    assert registry.champion().version == "1"
    tags = registry.get_version("1").tags
    assert tags["podium.champion_action"] == "rollback"
    assert tags["podium.champion_reason"] == "latency regression in prod"
    assert tags["podium.previous_champion"] == "2"

    listed = project.cli("history", "--json")
    assert listed.code == 0, listed.err
    events = json.loads(listed.out)
    assert isinstance(events, list)
    assert [(e["seq"], e["action"], e["version"], e["previous"]) for e in events] == [
        (1, "promote", "1", None),
        (2, "promote", "2", "1"),
        (3, "rollback", "1", "2"),
    ]
    assert events[-1]["reason"] == "latency regression in prod"
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    text = project.cli("history")
    assert text.code == 0
    lines = text.out.strip().splitlines()
    assert len(lines) == 3 and "rollback" in lines[-1] and "latency regression" in lines[-1]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}


# Reads what it can of the job's credentials, then logs a model where it is pointed.
COMMAND_PROBE = """\
import json, os
import mlflow
names = ["MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD", "AWS_SECRET_ACCESS_KEY"]
with open("seen.json", "w") as handle:
    json.dump({n: os.environ.get(n) for n in names} | {"uri": os.environ["MLFLOW_TRACKING_URI"]},
              handle)


class Zero(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        import pandas as pd

        return pd.Series([0.5] * len(model_input))


with mlflow.start_run():
    mlflow.log_metric("epochs", 3)
    mlflow.pyfunc.log_model(name="model", python_model=Zero())
"""


def test_a_command_trains_without_the_servers_credentials_and_lands_on_the_server(
    on_server: Callable[..., Project],
    registry_of: Callable[[Project], Any],
    mlflow_server: MlflowServer,
) -> None:
    project = on_server()
    (project.root / "train.py").write_text(COMMAND_PROBE)
    document = project.config()
    document["model"].pop("estimator", None)
    document["model"]["command"] = [sys.executable, "train.py"]
    project.write_config(document)
    secrets = {"MLFLOW_TRACKING_TOKEN": "server-write-token", "AWS_SECRET_ACCESS_KEY": "k"}

    result = project.cli("train", env=secrets)
    assert result.code == 0, result.err
    seen = json.loads((project.root / "seen.json").read_text())
    assert seen["MLFLOW_TRACKING_TOKEN"] is None and seen["AWS_SECRET_ACCESS_KEY"] is None
    assert seen["uri"].startswith("sqlite:///") and mlflow_server.url not in seen["uri"]
    registry = _open(project, registry_of)
    (version,) = registry.versions()
    assert registry.client.get_run(version.run_id).data.metrics["epochs"] == 3.0
    assert (registry.verified_files(version) / "MLmodel").is_file()  # digests of what landed
