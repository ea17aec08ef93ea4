"""The champion/challenger loop end to end on a real sqlite registry."""

from __future__ import annotations

import json

from tests.conftest import STRONG, STRONG_PARAMS, Project


def test_first_run_crowns_a_champion_then_a_better_challenger_replaces_it(project: Project, registry_of) -> None:
    first = project.cli("run")
    assert first.code == 0, first.err
    registry = registry_of(project)
    assert registry.champion().version == "1"

    project.set_estimator(STRONG, **STRONG_PARAMS)
    second = project.cli("run")
    assert second.code == 0, second.err
    evaluation = json.loads((project.state / "evaluation.json").read_text())
    assert evaluation["champion"]["version"] == "1"
    assert evaluation["challenger"]["version"] == "2"
    assert registry.champion().version == "2"
    assert "challenger **v2** is the new champion (was v1)" in second.out
