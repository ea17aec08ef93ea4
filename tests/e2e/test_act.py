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

from podium.stages.init import file_name
from tests.conftest import STRONG, STRONG_PARAMS, USELESS, Project, run_cli, write_sample_project
from tests.e2e.act import Act, git
from tests.github_fake import FakeGitHub
from tests.mlflow_server import MlflowServer
from tests.tools import ACT, UV, requires

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.server,
    # The setup action installs podium with uv, as on a runner after astral-sh/setup-uv.
    requires(ACT, UV),
]


@pytest.fixture
def act_repo(
    make_project: Callable[..., Project],
    mlflow_server: MlflowServer,
    github: FakeGitHub,
    podium_source: Path,
    act_pythons: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Project, Act]]:
    """A committed sample project with `podium init` workflows, on its own model name."""
    name = "act-" + request.node.name.removeprefix("test_").replace("_", "-")[:40]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    project = make_project(name=name, seeded=False)  # its registry is the server
    (project.root / ".gitignore").write_text(".podium/\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", "https://github.com/acme/churn.git")
    result = project.cli("init")
    assert result.code == 0, result.err
    commit(project, "podium project")
    home = tmp_path / "act"
    home.mkdir()
    yield (
        project,
        Act(
            repo=project.root,
            podium_source=podium_source,
            tracking_uri=mlflow_server.url,
            home=home,
            pythons=act_pythons,
            github_api=github.api_url,
            github_server=github.web_url,
            token=github.token,
        ),
    )


def workflow(project: Project, kind: str) -> str:
    """The file name of one of the project's workflows (pr, promote, rollback, …)."""
    return file_name(project.config()["model"]["name"], kind)


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
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any], github: FakeGitHub
) -> None:
    project, act = act_repo
    crown(project, ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}))
    assert champion(project, registry_of) == "1"
    project.set_estimator(STRONG, **STRONG_PARAMS)
    sha = commit(project, "deeper tree")

    run = act.run("push", workflow(project, "promote"), push_event(sha))

    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "2"
    last = history(project)[-1]
    assert (last["action"], last["version"], last["previous"]) == ("promote", "2", "1")
    assert last["commit"] == sha
    version = registry_of(project).get_version("2")
    assert version.tags["podium.event"] == "push"
    assert version.tags["podium.git_commit"] == sha
    # The report job set the verdict as a commit status on the pushed commit; no comment.
    assert [(s["sha"], s["state"], s["context"]) for s in github.statuses] == [
        (sha, "success", f"podium/{project.config()['model']['name']}")
    ]
    assert github.count("create_comment") == 0


def test_a_challenger_that_fails_a_gate_fails_the_job_and_moves_nothing(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any]
) -> None:
    project, act = act_repo
    crown(project, (STRONG, STRONG_PARAMS))
    project.set_estimator(USELESS)
    sha = commit(project, "a useless model")

    run = act.run("push", workflow(project, "promote"), push_event(sha))

    assert run.code != 0
    assert "gates failed" in run.log
    assert champion(project, registry_of) == "1"
    assert [e["version"] for e in history(project)] == ["1"]
    challenger = registry_of(project).get_version("2")
    assert challenger.tags["podium.verdict"] == "failed"


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
        "workflow_dispatch",
        workflow(project, "rollback"),
        {"inputs": {"version": "1", "reason": " "}},
    )
    assert refused.code != 0
    assert "needs --reason" in refused.log
    assert champion(project, registry_of) == before

    run = act.run(
        "workflow_dispatch",
        workflow(project, "rollback"),
        {"inputs": {"version": "1", "reason": "restore the March model"}},
    )
    assert run.code == 0, run.log[-6000:]
    assert champion(project, registry_of) == "1"


# -- pull requests: the PR workflow, then the workflow_run that posts the comment --------

HEAD = "c0ffee" + "1" * 34  # the pull request's head commit


def pull_request_event(number: int) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "fork/churn"}},
            "base": {"ref": "main", "repo": {"full_name": "acme/churn"}},
        },
    }


def workflow_run_event(
    model: str, run_id: int, conclusion: str, number: int | None
) -> dict[str, Any]:
    """`number` None: a fork's PR, which GitHub does not list on the workflow_run."""
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": f"podium PR ({model})",
            "event": "pull_request",
            "status": "completed",
            "conclusion": conclusion,
            "head_branch": "feature",
            "head_sha": HEAD,
            "head_repository": {"full_name": "fork/churn"},
            "pull_requests": [] if number is None else [{"number": number}],
        },
    }


def pull_request(
    project: Project, act: Act, number: int, run_id: int, *, listed: bool
) -> tuple[Any, Any]:
    """The PR workflow, then the comment workflow its completion triggers."""
    checks = act.run(
        "pull_request", workflow(project, "pr"), pull_request_event(number), run_id=run_id
    )
    conclusion = "success" if checks.code == 0 else "failure"
    comment = act.run(
        "workflow_run",
        workflow(project, "pr-comment"),
        workflow_run_event(
            project.config()["model"]["name"], run_id, conclusion, number if listed else None
        ),
    )
    return checks, comment


def test_a_fork_pull_request_gets_exactly_one_comment_even_when_rerun(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any], github: FakeGitHub
) -> None:
    project, act = act_repo
    name = project.config()["model"]["name"]
    crown(project, ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}))
    project.set_estimator(STRONG, **STRONG_PARAMS)
    commit(project, "deeper tree")
    github.add_pull(7, HEAD)

    checks, comment = pull_request(project, act, 7, run_id=5001, listed=False)

    assert checks.code == 0, checks.log[-6000:]
    assert comment.code == 0, comment.log[-6000:]
    posted = github.podium_comments(7)
    assert len(posted) == 1
    body = posted[0]["body"]
    assert body.startswith(f"<!-- podium-report: {name} -->")
    assert "**Promotable**" in body
    assert "challenger **v2**" in body
    assert champion(project, registry_of) == "1"  # a pull request never promotes
    # A fork's results are unverified: they never make the status green (stages/report.py).
    assert [(s["sha"], s["state"]) for s in github.statuses] == [(HEAD, "pending")]
    assert github.statuses[0]["description"].startswith("fork results, unverified: ")

    checks, comment = pull_request(project, act, 7, run_id=5002, listed=False)

    assert checks.code == 0 and comment.code == 0, comment.log[-6000:]
    posted = github.podium_comments(7)
    assert len(posted) == 1  # edited, not posted again
    # The rerun trains nothing new: same commit, data and config as v2 (issue 31)
    assert "challenger **v2**" in posted[0]["body"]
    assert github.count("create_comment") == 1
    assert champion(project, registry_of) == "1"


def test_a_pull_request_whose_challenger_fails_a_gate_fails_and_the_comment_says_why(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any], github: FakeGitHub
) -> None:
    project, act = act_repo
    crown(project, (STRONG, STRONG_PARAMS))
    project.set_estimator(USELESS)
    commit(project, "a useless model")
    github.add_pull(8, HEAD)

    checks, comment = pull_request(project, act, 8, run_id=6001, listed=True)

    assert checks.code != 0  # the check fails …
    assert "gates failed" in checks.log
    assert comment.code == 0, comment.log[-6000:]  # … and the comment is still posted
    posted = github.podium_comments(8)
    assert len(posted) == 1
    body = posted[0]["body"]
    assert "**Not promotable**" in body
    assert "roc_auc" in body and "❌" in body
    assert [(s["sha"], s["state"]) for s in github.statuses] == [(HEAD, "failure")]
    assert champion(project, registry_of) == "1"
    assert [e["version"] for e in history(project)] == ["1"]


def test_a_pull_request_whose_data_fails_validation_is_told_why_and_trains_nothing(
    act_repo: tuple[Project, Act], registry_of: Callable[[Project], Any], github: FakeGitHub
) -> None:
    project, act = act_repo
    crown(project, ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 1}))
    project.expect_tenure_below(10)  # the sample data has tenures up to 72
    commit(project, "an expectation the data breaks")
    github.add_pull(9, HEAD)

    checks, comment = pull_request(project, act, 9, run_id=7001, listed=True)

    assert checks.code != 0 and "validation failed" in checks.log
    assert comment.code == 0, comment.log[-6000:]
    posted = github.podium_comments(9)
    assert len(posted) == 1
    assert "the data did not pass validation" in posted[0]["body"]
    assert "tenure_months" in posted[0]["body"]
    assert [(s["sha"], s["state"]) for s in github.statuses] == [(HEAD, "failure")]
    assert [v.version for v in registry_of(project).versions()] == ["1"]  # nothing trained


# -- two models in one repository --------------------------------------------------------


@pytest.fixture
def two_models(
    sample_tables: tuple[Any, Any],
    mlflow_server: MlflowServer,
    github: FakeGitHub,
    podium_source: Path,
    act_pythons: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> tuple[Project, Project, Act]:
    """churn/ and fraud/ in one committed repository, CI from `podium init` (no --config).

    Model names `act-<test>-churn` and `act-<test>-fraud`: the MLflow server is shared.
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    repo = tmp_path / "repo"
    prefix = "act-" + request.node.name.removeprefix("test_two_models_").replace("_", "-")[:20]
    churn, fraud = (
        write_sample_project(
            repo / folder, sample_tables, name=f"{prefix}-{folder}", params=STRONG_PARAMS
        )
        for folder in ("churn", "fraud")
    )
    (repo / ".gitignore").write_text(".podium/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/acme/churn.git")
    monkeypatch.chdir(repo)
    result = run_cli(["init"])
    assert result.code == 0, result.err
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two podium models")
    home = tmp_path / "act"
    home.mkdir()
    act = Act(
        repo=repo,
        podium_source=podium_source,
        tracking_uri=mlflow_server.url,
        home=home,
        pythons=act_pythons,
        github_api=github.api_url,
        github_server=github.web_url,
        token=github.token,
    )
    return churn, fraud, act


def test_two_models_push_dispatch_rollback(
    two_models: tuple[Project, Project, Act],
    registry_of: Callable[[Project], Any],
    github: FakeGitHub,
) -> None:
    churn, fraud, act = two_models
    churn_name, fraud_name = (p.config()["model"]["name"] for p in (churn, fraud))
    sha = git(act.repo, "rev-parse", "HEAD")

    for project in (churn, fraud):
        run = act.run("push", workflow(project, "promote"), push_event(sha))
        assert run.code == 0, run.log[-6000:]
        assert champion(project, registry_of) == "1"
    # Each model's own status on the commit; each its own audit trail.
    assert sorted(s["context"] for s in github.statuses) == [
        f"podium/{churn_name}",
        f"podium/{fraud_name}",
    ]
    for project in (churn, fraud):
        assert [e["version"] for e in history(project)] == ["1"]

    # The fraud data is refreshed (a new commit; customer ids are excluded from training,
    # so the model itself is no worse): the dispatch retrains fraud into a new version.
    # On the same commit and data it would reuse v1 instead (identical retraining, issue 31).
    import pandas as pd

    refreshed = pd.read_csv(fraud.root / "data" / "train.csv")
    refreshed["customer_id"] = refreshed["customer_id"].astype(str) + "-refreshed"
    refreshed.to_csv(fraud.root / "data" / "train.csv", index=False)
    git(act.repo, "add", "-A")
    git(act.repo, "commit", "-q", "-m", "refreshed fraud data")
    fraud_only = {"action": "data-updated", "client_payload": {"model": fraud_name}}
    skipped = act.run("repository_dispatch", workflow(churn, "promote"), fraud_only)
    retrained = act.run("repository_dispatch", workflow(fraud, "promote"), fraud_only)

    assert skipped.code == 0, skipped.log[-6000:]
    assert f"{churn_name} is not retrained" in skipped.log
    assert [v.version for v in registry_of(churn).versions()] == ["1"]  # nothing trained
    assert retrained.code == 0, retrained.log[-6000:]
    assert registry_of(fraud).get_version("2").tags["podium.event"] == "repository_dispatch"
    assert champion(fraud, registry_of) == "2"
    assert champion(churn, registry_of) == "1"

    rolled_back = act.run(
        "workflow_dispatch",
        workflow(fraud, "rollback"),
        {"inputs": {"version": "", "reason": "fraud v2 flags too many orders"}},
    )

    assert rolled_back.code == 0, rolled_back.log[-6000:]
    assert champion(fraud, registry_of) == "1"
    assert champion(churn, registry_of) == "1"
    assert [e["action"] for e in history(churn)] == ["promote"]  # churn untouched


def test_two_models_pull_request_comments(
    two_models: tuple[Project, Project, Act], github: FakeGitHub
) -> None:
    """One pull request, one comment per model (each its own marker), each its own status."""
    churn, fraud, act = two_models
    github.add_pull(11, HEAD)

    for run_id, project in ((8101, churn), (8102, fraud)):
        checks, comment = pull_request(project, act, 11, run_id=run_id, listed=True)
        assert checks.code == 0, checks.log[-6000:]
        assert comment.code == 0, comment.log[-6000:]

    posted = github.podium_comments(11)
    names = [p.config()["model"]["name"] for p in (churn, fraud)]
    assert sorted(c["body"].split(" -->", 1)[0] for c in posted) == [
        f"<!-- podium-report: {name}" for name in names
    ]
    assert sorted(s["context"] for s in github.statuses) == [f"podium/{n}" for n in names]
