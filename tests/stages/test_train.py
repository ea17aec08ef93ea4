"""`podium train`: a candidate registered with its provenance, and what training clears."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Project, state_json


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
