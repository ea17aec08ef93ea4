"""`podium rollback`: back to the previous or a named champion, audited; and its refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import STRONG, STRONG_PARAMS, Project


def test_rollback_to_previous_and_named_versions_is_audited(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    champion_project.set_estimator(STRONG, **STRONG_PARAMS)
    assert champion_project.cli("run").code == 0  # v2 champion
    champion_project.set_estimator(STRONG, max_depth=4)
    assert champion_project.cli("run").code == 0  # v3 champion (delta tolerance allows it)
    registry = registry_of(champion_project)
    assert registry.champion().version == "3"

    back = champion_project.cli("rollback", "--reason", "v3 misbehaves in production")
    assert back.code == 0, back.err
    assert registry.champion().version == "2"
    again = champion_project.cli("rollback", "--reason", "v2 too")
    assert again.code == 0, again.err
    assert registry.champion().version == "1"  # walks back, does not flip-flop to v3
    named = champion_project.cli("rollback", "--to", "3", "--reason", "fixed upstream")
    assert named.code == 0
    assert registry.champion().version == "3"

    listing = champion_project.cli("history", "--json")
    events = json.loads(listing.out)
    assert [(e["action"], e["version"], e["previous"]) for e in events] == [
        ("promote", "1", None),
        ("promote", "2", "1"),
        ("promote", "3", "2"),
        ("rollback", "2", "3"),
        ("rollback", "1", "2"),
        ("rollback", "3", "1"),
    ]
    assert events[3]["reason"] == "v3 misbehaves in production"
    assert all(e["actor"] and e["at"].endswith("Z") for e in events)
    text = champion_project.cli("history")
    assert text.code == 0 and "rollback" in text.out and "fixed upstream" in text.out
    assert registry.get_version("2").tags["podium.champion_action"] == "rollback"


def test_rollback_refusals(project: Project, registry_of: Callable[[Project], Any]) -> None:
    nothing = project.cli("rollback", "--reason", "oops")
    assert nothing.code == 2 and "no previous champion" in nothing.err
    assert project.cli("run").code == 0
    unknown = project.cli("rollback", "--to", "99", "--reason", "x")
    assert unknown.code == 2 and "no version '99'" in unknown.err
    same = project.cli("rollback", "--to", "1", "--reason", "x")
    assert same.code == 2 and "already the champion" in same.err
    missing_reason = project.cli("rollback", "--to", "1")
    assert missing_reason.code == 2 and "--reason" in missing_reason.err
    assert len(registry_of(project).history()) == 1
