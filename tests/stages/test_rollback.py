"""`podium rollback`: back to the previous or a named champion, audited; and its refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
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


# -- issue 31: a rollback needs a former champion (or --force), and it holds ------------------


def test_rollback_to_a_version_that_never_passed_needs_force(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    champion_project.update(gates=[{"metric": "roc_auc", "min": 0.999}])
    assert champion_project.cli("run").code == 1  # v2 failed its gates, never champion
    refused = champion_project.cli("rollback", "--to", "2", "--reason", "try it")
    assert refused.code == 2
    assert "v2 was never champion of 'churn' (it failed its gates against v1)" in refused.err
    assert "--force" in refused.err
    registry = registry_of(champion_project)
    assert registry.champion().version == "1" and len(registry.history()) == 1
    forced = champion_project.cli("rollback", "--to", "2", "--reason", "try it", "--force")
    assert forced.code == 0, forced.err
    assert registry.champion().version == "2"
    last = registry.history()[-1]
    assert last.action == "rollback"
    assert last.reason == (
        "try it [forced: v2 was never champion of 'churn' (it failed its gates against v1)]"
    )


def _git(root: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_rollback_pauses_promotion_until_a_new_commit_or_resume(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    root = champion_project.root
    _git(root, "init", "-q")
    _git(root, "add", "podium.yaml", "data")
    _git(root, "commit", "-qm", "model")
    champion_project.set_estimator(STRONG, **STRONG_PARAMS)
    _git(root, "commit", "-qam", "stronger")
    assert champion_project.cli("run").code == 0  # v2 champion
    back = champion_project.cli("rollback", "--reason", "v2 misbehaves")
    assert back.code == 0 and "paused" in back.out
    registry = registry_of(champion_project)

    # the same code and data again: v2 itself is the challenger (not retrained, issue 31);
    # it passes its gates, but the rollback holds
    again = champion_project.cli("run")
    assert again.code == 0, again.err
    assert [v.version for v in registry.versions()] == ["1", "2"]
    assert registry.champion().version == "1"
    report = (champion_project.state / "report.md").read_text()
    assert "⏸️ **Paused** — automatic promotion is paused since the rollback from v2 to v1" in (
        report
    )
    assert "(v2 misbehaves); a new commit or \\`podium resume\\` lifts it" in report
    promotion = json.loads((champion_project.state / "promotion.json").read_text())
    assert promotion["promoted"] is False and promotion["paused"] is True
    held = champion_project.cli("promote")
    assert held.code == 0 and "not promoted: automatic promotion is paused" in held.out

    # an explicit resume lifts it, audited
    resumed = champion_project.cli("resume", "--reason", "fixed the feed")
    assert resumed.code == 0, resumed.err
    assert champion_project.cli("resume", "--reason", "twice").code == 2
    assert champion_project.cli("promote").code == 0
    assert registry.champion().version == "2"
    actions = [(e.action, e.version) for e in registry.history()]
    assert actions == [
        ("promote", "1"),
        ("promote", "2"),
        ("rollback", "1"),
        ("resume", "1"),
        ("promote", "2"),
    ]

    # a new commit lifts the next pause by itself (recorded as a resume)
    assert champion_project.cli("rollback", "--reason", "v2 too").code == 0
    _git(root, "commit", "-q", "--allow-empty", "-m", "a fix")
    after = champion_project.cli("run")
    assert after.code == 0, after.err
    assert registry.champion().version == "3"
    last = registry.history()[-2:]
    assert [e.action for e in last] == ["resume", "promote"]
    assert last[0].reason.startswith("new commit ")
    # rolling back walks the champions, never the resumes
    assert champion_project.cli("rollback", "--reason", "v3 no").code == 0
    assert registry.champion().version == "1"
