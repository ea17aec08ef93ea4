"""`podium registry export`: a branch-kept registry moved to a real `mlflow server`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STRONG, Project
from tests.mlflow_server import MlflowServer
from tests.registry.test_git_branch import BRANCH, git, opened


@pytest.mark.server
def test_export_keeps_versions_aliases_history_and_is_idempotent(
    make_project: Callable[..., Project], mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    from mlflow import MlflowClient
    from mlflow.models import get_model_info

    from podium.registry import Registry
    from podium.registry.export import SOURCE_VERSION

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin))
    name = f"exported-{uuid.uuid4().hex[:8]}"
    project = make_project(STRONG, {"max_depth": 3}, name=name, seeded=False)
    project.update(registry={"git_branch": BRANCH})
    git("init", "-q", cwd=project.root)
    git("remote", "add", "origin", str(origin), cwd=project.root)
    assert project.cli("run").code == 0
    project.set_estimator(STRONG, max_depth=4)
    assert project.cli("run").code == 0
    assert project.cli("rollback", "--reason", "back to v1").code == 0
    source = opened(project)
    source_history = [e.to_dict() for e in source.history()]

    first = project.cli("registry", "export", "--to", mlflow_server.url)
    again = project.cli("registry", "export", "--to", mlflow_server.url)

    assert first.code == 0, first.err
    assert "2 version(s) copied" in first.out and "@champion = v1" in first.out, first.out
    assert again.code == 0 and "0 version(s) copied, 2 already there" in again.out, again.out
    target = Registry(mlflow_server.url, name)
    versions = target.versions()
    assert [(v.version, v.tags[SOURCE_VERSION]) for v in versions] == [("1", "1"), ("2", "2")]
    for copied, original in zip(versions, source.versions(), strict=True):
        # Every tag but the file digests: the copy's MLmodel names the target's run and
        # model, so its files are recorded anew — and verify on the target.
        drop = {SOURCE_VERSION, "podium.model_sha256"}
        kept = {k: v for k, v in copied.tags.items() if k not in drop}
        assert kept == {k: v for k, v in original.tags.items() if k not in drop}
        assert copied.tags["podium.model_sha256"] != original.tags["podium.model_sha256"]
        assert (target.verified_files(copied) / "MLmodel").is_file()
    assert target.champion().version == "1"
    assert [e.to_dict() for e in target.history()] == source_history
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    run = client.get_run(versions[0].run_id)
    original_run = source.client.get_run(source.versions()[0].run_id)
    assert run.data.params == original_run.data.params
    assert run.data.metrics == original_run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "podium")}
    assert "podium/profile.json" in artifacts, artifacts
    target.activate()  # get_model_info reads through MLflow's fluent (global) URI
    info = get_model_info(f"models:/{name}/1")
    source.activate()
    original_info = get_model_info(source.versions()[0].source)
    assert info.signature is not None and info.signature == original_info.signature
    model: Any = target.load_model(versions[0])
    frame = __import__("pandas").read_csv(project.root / "data" / "eval.csv")
    assert len(model.predict(frame.drop(columns=["churned", "customer_id"]))) == len(frame)
