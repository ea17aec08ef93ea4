"""The registry on a git branch (`registry.git_branch`), proven by act with no MLflow server.

A bare repository on disk is `origin`: the generated workflows fetch the registry branch
from it and push to it, as they do on GitHub with the job's GITHUB_TOKEN. act copies the
test repository, `.git` included, into each job's workspace (the checkout stand-in leaves
only what actions/checkout would). `origin` is the bare repository's path, so the auth
podium adds for GitHub's https address is not used (and harmless).

One story, chained to spend as few act runs as possible: a first pull request with no
champion, the merge that crowns v1 on the branch, a fork's pull request compared with v1,
a monitoring alert whose retraining request (the job's own token) starts the promote
workflow, a rollback by dispatch, and two promotions racing from two clones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from podium.stages.init import file_name
from tests.conftest import STRONG, STRONG_PARAMS, Project, run_cli
from tests.e2e.act import Act, git
from tests.github_fake import FakeGitHub
from tests.tools import ACT, UV, requires

pytestmark = [pytest.mark.e2e, requires(ACT, UV)]

BRANCH = "podium-registry"
NAME = "churn"
PR_HEAD = "c0ffee" + "2" * 34  # the pull requests' head commit, as GitHub names it


@pytest.fixture
def branch_repo(
    make_project: Any,
    github: FakeGitHub,
    podium_source: Path,
    act_pythons: Path,
    tmp_path: Path,
) -> tuple[Project, Act, Path]:
    """A committed sample project whose registry is the branch of a bare `origin` on disk."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    project = make_project(name=NAME, seeded=False)
    project.update(registry={"git_branch": BRANCH})  # no tracking_uri, no server
    (project.root / ".gitignore").write_text(".podium/\n")
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "remote", "add", "origin", str(origin))
    # Where act reads the repository's owner/name from (GITHUB_REPOSITORY); origin is a path.
    git(project.root, "remote", "add", "github", f"https://github.com/acme/{NAME}.git")
    result = project.cli("init")
    assert result.code == 0, result.err
    assert f"registry in GitHub Actions: the branch {BRANCH}" in result.out
    commit(project.root, "podium project")
    git(project.root, "push", "-q", "origin", "main")
    home = tmp_path / "act"
    home.mkdir()
    act = Act(
        repo=project.root,
        podium_source=podium_source,
        tracking_uri=None,  # no MLFLOW_TRACKING_URI secret: the branch is the registry
        home=home,
        pythons=act_pythons,
        github_api=github.api_url,
        github_server=github.web_url,
        token=github.token,
        remote="github",
    )
    return project, act, origin


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def workflow(kind: str) -> str:
    return file_name(NAME, kind)


def branch_log(origin: Path) -> list[str]:
    """The registry branch's commit subjects on origin, newest first ([] before the first)."""
    if not git(origin, "ls-remote", str(origin), f"refs/heads/{BRANCH}"):
        return []
    return git(origin, "log", "--format=%s", BRANCH).splitlines()


# What a developer sees of the branch, in a fresh interpreter (MLflow keeps a store per
# URI for the life of a process, so one process cannot watch a file git replaces):
# `podium registry pull --json`, then MLflow itself on that URI, then `podium history --json`.
_LOOK = """
import contextlib, io, json, sys
from mlflow import MlflowClient
from podium.cli import main

def podium(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*args, "--config", "podium.yaml"]) == 0
    return json.loads(out.getvalue())

uri = podium("registry", "pull", "--json")["tracking_uri"]
client = MlflowClient(uri, registry_uri=uri)
versions = client.search_model_versions(f"name='{sys.argv[1]}'")
try:
    champion = str(client.get_model_version_by_alias(sys.argv[1], "champion").version)
except Exception:
    champion = None
print(json.dumps({
    "champion": champion,
    "tags": {str(v.version): v.tags for v in versions},
    "history": podium("history", "--json"),
}))
"""


def look(root: Path) -> dict[str, Any]:
    """The branch as MLflow opens it: {"champion", "tags" per version, "history"}."""
    seen = subprocess.run(
        [sys.executable, "-c", _LOOK, NAME],
        cwd=root,
        env=_local_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seen.returncode == 0, seen.stderr
    found = json.loads(seen.stdout.splitlines()[-1])
    assert isinstance(found, dict)
    return found


def _local_env() -> dict[str, str]:
    """A developer's shell: no Actions variables, no tracking server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_"))}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def pr_event(number: int, head_repo: str) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": PR_HEAD, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": f"acme/{NAME}"}},
        },
    }


def pull_request(act: Act, number: int, run_id: int, *, fork: bool) -> tuple[Any, Any]:
    """The PR workflow (no secrets but the job's token), then the comment workflow."""
    head_repo = f"someone/{NAME}" if fork else f"acme/{NAME}"
    checks = act.run("pull_request", workflow("pr"), pr_event(number, head_repo), run_id=run_id)
    comment = act.run(
        "workflow_run",
        workflow("pr-comment"),
        {
            "action": "completed",
            "workflow_run": {
                "id": run_id,
                "name": f"podium PR ({NAME})",
                "event": "pull_request",
                "status": "completed",
                "conclusion": "success" if checks.code == 0 else "failure",
                "head_branch": "feature",
                "head_sha": PR_HEAD,
                "head_repository": {"full_name": head_repo},
                # GitHub lists a fork's pull request on the run only in the base repository
                "pull_requests": [] if fork else [{"number": number}],
            },
        },
    )
    return checks, comment


def test_the_registry_lives_on_a_branch_through_prs_merges_monitoring_rollback_and_a_race(
    branch_repo: tuple[Project, Act, Path], github: FakeGitHub, tmp_path: Path
) -> None:
    project, act, origin = branch_repo
    root = project.root

    # (1) The first pull request: no branch, no champion — the comment says so.
    github.add_pull(1, PR_HEAD)
    checks, comment = pull_request(act, 1, run_id=9001, fork=False)
    assert checks.code == 0, checks.log[-6000:]
    assert comment.code == 0, comment.log[-6000:]
    (posted,) = github.podium_comments(1)
    assert "would become the first champion" in posted["body"]
    assert branch_log(origin) == []  # a pull request never writes the registry

    # (2) The merge to main: trained, registered and crowned v1, on the branch.
    sha = git(root, "rev-parse", "HEAD")
    pushed = act.run(
        "push",
        workflow("promote"),
        {"ref": "refs/heads/main", "after": sha, "head_commit": {"id": sha}},
    )
    assert pushed.code == 0, pushed.log[-6000:]
    seen = look(root)
    assert seen["champion"] == "1"
    (crowned,) = seen["history"]
    assert (crowned["action"], crowned["version"], crowned["commit"]) == ("promote", "1", sha)
    log = branch_log(origin)
    assert any(subject.startswith(f"promote {NAME} v1") for subject in log), log

    # (3, 4) A fork's pull request (no secrets) is compared with v1, read from the branch.
    git(root, "checkout", "-q", "-b", "feature")
    project.set_estimator(STRONG, **STRONG_PARAMS)
    commit(root, "a deeper tree")
    tip = git(origin, "rev-parse", BRANCH)
    github.add_pull(2, PR_HEAD)
    checks, comment = pull_request(act, 2, run_id=9002, fork=True)
    assert checks.code == 0, checks.log[-6000:]
    assert comment.code == 0, comment.log[-6000:]
    (posted,) = github.podium_comments(2)
    assert "challenger **v2** would replace champion **v1**" in posted["body"], posted["body"]
    assert git(origin, "rev-parse", BRANCH) == tip  # the fork's challenger stayed on its runner
    git(root, "checkout", "-q", "main")

    # (7) Monitoring finds drift; the job's own token starts the promote workflow.
    import pandas as pd

    production = pd.read_csv(root / "data" / "eval.csv").drop(columns=["churned"])
    production["tenure_months"] = production["tenure_months"] * 4 + 30
    production["plan"] = "enterprise"
    production.to_csv(root / "data" / "production.csv", index=False)
    commit(root, "last week's production inputs")
    git(root, "push", "-q", "origin", "main")
    watched = act.run(
        "workflow_dispatch", workflow("monitor"), {"inputs": {"data": "data/production.csv"}}
    )  # no PODIUM_DISPATCH_TOKEN: GITHUB_TOKEN only
    assert watched.code != 0, watched.log[-6000:]  # a crossed threshold fails the job
    (issue,) = github.podium_issues()
    assert "retraining requested" in issue["body"]
    (sent,) = github.dispatches
    assert (sent["workflow"], sent["ref"]) == (workflow("promote"), "main")
    started = [r for r in github.requests if r.operation == "start_workflow"]
    assert len(started) == 1 and started[0].status == 204
    retrained = act.run(
        "workflow_dispatch",
        workflow("promote"),
        {"ref": "refs/heads/main", "inputs": sent["inputs"]},
    )
    assert retrained.code == 0, retrained.log[-6000:]
    seen = look(root)
    assert seen["champion"] == "2"
    promoted = seen["history"][-1]
    assert (promoted["action"], promoted["version"]) == ("promote", "2")
    assert promoted["reason"].startswith("podium monitor: ")
    assert seen["tags"]["2"]["podium.event"] == "workflow_dispatch"

    # (5) Rollback by dispatch moves the alias on the branch.
    rolled = act.run(
        "workflow_dispatch",
        workflow("rollback"),
        {"inputs": {"version": "", "reason": "v2 misbehaves in prod"}},
    )
    assert rolled.code == 0, rolled.log[-6000:]
    assert "rolled back: champion is now v1 (was v2)" in rolled.log
    assert any("from **v2** to **v1**" in s for s in rolled.summaries), rolled.summaries
    seen = look(root)
    assert seen["champion"] == "1"
    assert [(e["action"], e["version"]) for e in seen["history"]] == [
        ("promote", "1"),
        ("promote", "2"),
        ("rollback", "1"),
    ]
    last = seen["history"][-1]
    assert (last["previous"], last["reason"]) == ("2", "v2 misbehaves in prod")
    assert last["actor"]  # who: the Actions actor
    assert branch_log(origin)[0].startswith(f"rollback {NAME} to v1"), branch_log(origin)[0]

    # (6) Two clones evaluate a challenger against v1, then promote at once: one wins.
    clones = []
    for label in ("a", "b"):
        clone = tmp_path / f"clone-{label}"
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        clones.append(clone)
        evaluated = run_cli(["run", "--no-promote", "--config", str(clone / "podium.yaml")])
        assert evaluated.code == 0, evaluated.err + evaluated.out

    # The rollback paused automatic promotion on this commit: a promote answers so, moves
    # nothing, and `podium resume` lifts the pause (audited).
    def podium(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "podium", *args],
            cwd=clone,
            env=_local_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    held = podium(clones[0], "promote")
    assert held.returncode == 0, held.stdout + held.stderr
    assert "not promoted: automatic promotion is paused since the rollback from v2 to v1" in (
        held.stdout + held.stderr
    ), held
    assert look(root)["champion"] == "1"
    resumed = podium(clones[0], "resume", "--reason", "v2's fix is deployed")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed: promotions may move @champion (v1) again" in resumed.stdout + resumed.stderr
    racing = [
        subprocess.Popen(
            [sys.executable, "-m", "podium", "promote"],
            cwd=clone,
            env=_local_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in clones
    ]
    outcomes = [(proc.wait(timeout=300), proc.communicate()) for proc in racing]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 1], outcomes
    loser = next(streams for code, streams in outcomes if code == 1)
    assert "not moved" in loser[0] + loser[1], loser
    seen = look(root)
    events = seen["history"]
    assert [e["action"] for e in events] == [
        "promote",
        "promote",
        "rollback",
        "resume",
        "promote",
    ]
    assert events[-2]["reason"] == "v2's fix is deployed"
    assert events[-1]["previous"] == "1"
    assert seen["champion"] == events[-1]["version"]  # MLflow opens the branch, consistent
