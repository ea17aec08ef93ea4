"""Which registry a stage opens (stages.open_registry), and `podium registry pull|export`.

In GitHub Actions a registry written to a file on the runner is lost with the job:
writing stages refuse it, naming both ways to keep it.
"""

from __future__ import annotations

import pytest

from tests.conftest import Project


@pytest.mark.parametrize("stage", ["train", "promote", "rollback"])
def test_in_actions_a_runner_local_sqlite_registry_is_refused_for_writing(
    project: Project, stage: str
) -> None:
    args = [stage] + (["--reason", "r"] if stage == "rollback" else [])
    if stage == "promote":
        assert project.cli("train").code == 0 and project.cli("evaluate").code == 0

    result = project.cli(*args, env={"GITHUB_ACTIONS": "true"})

    assert result.code == 2, result.err
    line = result.err.strip()
    assert len(line.splitlines()) == 1 and "thrown away when the job ends" in line
    assert "registry.git_branch: podium-registry" in line and "MLFLOW_TRACKING_URI" in line


def test_in_actions_reading_a_local_registry_and_an_explicit_uri_are_allowed(
    project: Project,
) -> None:
    from tests.conftest import sqlite_path

    assert project.cli("history", env={"GITHUB_ACTIONS": "true"}).code == 0
    db = sqlite_path("sqlite:///.podium/mlflow.db", project.root)
    explicit = {"GITHUB_ACTIONS": "true", "MLFLOW_TRACKING_URI": f"sqlite:///{db}"}
    trained = project.cli("train", env=explicit)  # a deliberate choice: a persistent runner
    assert trained.code == 0, trained.err


def test_registry_pull_without_a_branch_prints_the_configured_uri(project: Project) -> None:
    import json

    from podium.config import load

    result = project.cli("registry", "pull", "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out) == {"tracking_uri": load(project.config_path).tracking_uri}


def test_registry_export_to_itself_is_refused(project: Project) -> None:
    from podium.config import load

    uri = load(project.config_path).tracking_uri
    result = project.cli("registry", "export", "--to", uri)

    assert result.code == 2 and "--to" in result.err and "another MLflow store" in result.err
