"""The generated deploy jobs under act: promote → deploy, and rollback → redeploy.

A real platform (tests/deploy/platform_app.py) serves what the real deploy script tells it;
act runs the promote and rollback workflows podium generated, whose deploy job runs
`podium deploy --environment staging` against it after the champion moved.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, WEAK, WEAK_PARAMS, Project
from tests.deploy.conftest import Platform, deploy_command
from tests.deploy.conftest import platform as platform
from tests.e2e.act import Act
from tests.e2e.test_act import act_repo as act_repo
from tests.e2e.test_act import commit, push_event, workflow
from tests.tools import ACT, UV, requires

pytestmark = [pytest.mark.e2e, pytest.mark.server, requires(ACT, UV)]


def _served(staging: Platform) -> str:
    with urllib.request.urlopen(f"{staging.admin}/current", timeout=5) as answer:
        return str(json.loads(answer.read())["model_uri"])


def test_promote_deploys_the_new_champion_and_rollback_redeploys_the_old_one(
    act_repo: tuple[Project, Act],
    platform: Callable[[], Platform],
    registry_of: Callable[[Project], Any],
) -> None:
    project, act = act_repo
    name = project.config()["model"]["name"]
    staging = platform()
    document = project.config()
    document["serving"] = {"rows": 40, "requests": 3}
    document["deploy"] = [
        {"environment": "staging", "command": deploy_command(staging), "url": staging.url}
    ]
    document["model"]["estimator"] = {"class": WEAK, "params": WEAK_PARAMS}
    project.write_config(document)
    assert project.cli("init").code == 0  # the workflows now carry the deploy job
    assert project.cli("run").code == 0  # v1: champion, with its probe
    project.set_estimator(STRONG, **STRONG_PARAMS)
    sha = commit(project, "deploy to staging, a deeper tree")

    promoted = act.run("push", workflow(project, "promote"), push_event(sha))
    assert promoted.code == 0, promoted.log[-6000:]
    assert "staging: v2 deployed and verified (was nothing)" in promoted.log
    registry = registry_of(project)
    assert registry.champion().version == registry.alias("staging").version == "2"
    assert _served(staging) == f"models:/{name}/2"

    rolled = act.run(
        "workflow_dispatch",
        workflow(project, "rollback"),
        {"inputs": {"version": "1", "reason": "v2 misbehaves in staging"}},
    )
    assert rolled.code == 0, rolled.log[-6000:]
    assert "staging: v1 deployed and verified (was v2)" in rolled.log
    assert registry.champion().version == registry.alias("staging").version == "1"
    assert _served(staging) == f"models:/{name}/1"
