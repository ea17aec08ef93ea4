"""Approvals in the audit trail: in Actions every champion move records GITHUB_ACTOR,
GITHUB_TRIGGERING_ACTOR and who approved the run's protected environment, read from the
workflow run's approvals endpoint of the loopback GitHub (held to GitHub's OpenAPI
description); shown in `podium history` and the model card."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, Project
from tests.github_fake import FakeGitHub, serve


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()


def actions_env(github: FakeGitHub, project: Project) -> dict[str, str]:
    """A promote job of run 4242: actor and triggering actor, the job's token, and the
    project's sqlite store named explicitly (a runner-local file is refused otherwise)."""
    from podium.config import load

    return github.env(
        GITHUB_ACTOR="octo",
        GITHUB_TRIGGERING_ACTOR="rerunner",
        MLFLOW_TRACKING_URI=load(project.config_path).tracking_uri,
    )


def test_a_promotion_and_a_rollback_record_who_approved(
    champion_project: Project, github: FakeGitHub
) -> None:
    project = champion_project
    github.review("4242", "alice", "production", comment="ship it")
    github.review("4242", "mallory", "production", state="rejected")
    github.review("4242", "alice", "staging")
    project.set_estimator(STRONG, **STRONG_PARAMS)
    env = actions_env(github, project)
    assert project.cli("train", env=env).code == 0
    assert project.cli("evaluate", env=env).code == 0

    promoted = project.cli("promote", env=env)
    assert promoted.code == 0, promoted.err
    rolled = project.cli("rollback", "--reason", "bad in prod", env=env)
    assert rolled.code == 0, rolled.err

    events = json.loads(project.cli("history", "--json").out)
    assert [(e["action"], e["actor"], e["triggering_actor"], e["approvers"]) for e in events] == [
        ("promote", events[0]["actor"], None, None),  # the local `podium run`: no Actions
        ("promote", "octo", "rerunner", ["alice"]),
        ("rollback", "octo", "rerunner", ["alice"]),
    ]
    shown = project.cli("history").out.splitlines()
    assert "by octo" in shown[1] and "triggered by rerunner, approved by alice" in shown[1]
    card = project.cli("card", "--version", "2").out
    assert "by octo, triggered by rerunner; approved by alice: gates passed" in card
    asked = [r for r in github.requests if r.operation == "run_approvals"]
    assert [r.path for r in asked] == ["/repos/acme/churn/actions/runs/4242/approvals"] * 2
    assert all(r.status == 200 for r in asked)
    assert github.violations == []


def test_without_actions_read_the_move_happens_and_approvers_are_not_recorded(
    champion_project: Project, github: FakeGitHub
) -> None:
    project = champion_project
    github.fail("run_approvals", 403, message="Resource not accessible by integration")
    env = actions_env(github, project)

    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("train", env=env).code == 0
    assert project.cli("evaluate", env=env).code == 0
    promoted = project.cli("promote", env=env)

    assert promoted.code == 0, promoted.err
    assert "who approved this run is not recorded" in promoted.err
    assert "actions: read" in promoted.err
    last = json.loads(project.cli("history", "--json").out)[-1]
    assert (last["actor"], last["approvers"]) == ("octo", None)
    assert "approved by not recorded" in project.cli("card").out
    assert github.violations == []


def test_with_no_reviewer_the_trail_says_so(champion_project: Project, github: FakeGitHub) -> None:
    project = champion_project
    env = actions_env(github, project)
    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("train", env=env).code == 0
    assert project.cli("evaluate", env=env).code == 0
    assert project.cli("promote", env=env).code == 0
    assert json.loads(project.cli("history", "--json").out)[-1]["approvers"] == []
    assert "approved by no reviewer" in project.cli("history").out
