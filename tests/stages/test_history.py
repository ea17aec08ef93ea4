"""`podium history`: the audit trail of champion moves, as lines or as JSON, oldest first."""

from __future__ import annotations

import json

from tests.conftest import STRONG, STRONG_PARAMS, Project


def test_no_moves_yet_is_said_and_is_an_empty_json_array(project: Project) -> None:
    text = project.cli("history")
    assert text.code == 0, text.err
    assert text.out.strip() == "no champion moves recorded yet"
    listed = project.cli("history", "--json")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out) == []


def test_one_line_per_move_oldest_first(champion_project: Project) -> None:
    champion_project.set_estimator(STRONG, **STRONG_PARAMS)
    assert champion_project.cli("run").code == 0  # v2 replaces it
    assert champion_project.cli("rollback", "--reason", "v2 misbehaves").code == 0

    text = champion_project.cli("history")
    assert text.code == 0, text.err
    lines = text.out.strip().splitlines()
    assert [line.split()[1:5] for line in lines] == [
        ["promote", "v1", "(was", "—"],
        ["promote", "v2", "(was", "v1"],
        ["rollback", "v1", "(was", "v2"],
    ]
    assert lines[-1].endswith(": v2 misbehaves")
    events = json.loads(champion_project.cli("history", "--json").out)
    assert [e["at"] for e in events] == [line.split()[0] for line in lines]
