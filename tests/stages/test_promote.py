"""`podium promote`: it needs an evaluation, and it refuses one whose champion has moved."""

from __future__ import annotations

import json
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


def test_the_report_footer_is_measured_after_the_promotion(project: Project) -> None:
    # issue 31: the first run's footer said "0.0 promotions", a later one "champion v1"
    # under the headline "v2 is the new champion"
    assert project.cli("run").code == 0
    report = (project.state / "report.md").read_text()
    assert "is the new champion" in report
    assert "0.0 promotions" not in report
    assert "0.3 promotions / 30 days" in report and "champion v1 trained" in report
    delivery = json.loads((project.state / "evaluation.json").read_text())["delivery"]
    assert delivery["champion_version"] == "1" and delivery["promotions"] == 1
