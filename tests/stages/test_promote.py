"""`podium promote`: it needs an evaluation, and it refuses one whose champion has moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podium.results import Evaluation
from tests.conftest import STRONG, STRONG_PARAMS, Project


def test_promote_without_evaluation_says_which_stage_to_run(project: Project) -> None:
    result = project.cli("promote")
    assert result.code == 2
    assert "evaluation.json" in result.err and "podium evaluate" in result.err


def test_champion_moved_since_evaluation_is_refused(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    """Compare-and-set: the evaluation was against 'no champion', but one appeared since."""
    assert project.cli("train").code == 0
    assert project.cli("evaluate").code == 0  # judged v1 with no champion
    stale = Evaluation.load(project.state, needed_by="test")
    registry = registry_of(project)
    registry.client.set_registered_model_alias("churn", "champion", "1")  # someone else moved it
    project.set_estimator(STRONG, **STRONG_PARAMS)
    other = project.root / "other"
    other.mkdir()
    # Promote v1's stale evaluation after someone moved @champion to v2 behind its back.
    assert project.cli("train").code == 0  # v2
    registry.client.set_registered_model_alias("churn", "champion", "2")
    stale.model_copy(update={"passed": True, "summary": "every gate passes"}).save(project.state)
    refused = project.cli("promote")
    assert refused.code == 1
    assert "@champion of 'churn' is now v2, not unset" in refused.err
    assert registry.champion().version == "2"
    assert registry.history() == []
