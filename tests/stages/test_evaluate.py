"""`podium evaluate` on a real sqlite registry: intervals, significance, importance."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import STRONG, STRONG_PARAMS, Project


def _evaluation(project: Project) -> dict[str, Any]:
    loaded = json.loads((project.state / "evaluation.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_a_significant_gate_promotes_a_real_improvement_and_refuses_a_tie(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project(
        gates=[
            {"metric": "roc_auc", "min": 0.6, "min_delta": 0, "significant": True},
            {"metric": "accuracy", "min_delta": -0.02},
        ]
    )
    first = project.cli("run")
    assert first.code == 0, first.err
    assert _evaluation(project)["checks"][0]["interval"] is None  # no champion to pair with

    project.set_estimator(STRONG, **STRONG_PARAMS)
    better = project.cli("run")
    assert better.code == 0, better.err
    evaluated = _evaluation(project)
    roc_auc, accuracy = evaluated["checks"]
    assert roc_auc["interval"]["low"] > 0  # depth-3 tree vs stump: clearly better
    assert roc_auc["interval"]["low"] <= roc_auc["delta"] <= roc_auc["interval"]["high"]
    assert roc_auc["interval"]["rows"] == 600
    assert accuracy["interval"] is not None  # shown for every gated quality metric
    assert evaluated["significance"]["method"] == "bootstrap"
    assert registry_of(project).champion().version == "2"
    report = (project.state / "report.md").read_text()
    assert "roc_auc improves by" in report
    assert "(95% CI +" in report

    # The same estimator again: identical predictions, a zero-width interval at 0.
    tie = project.cli("run")
    assert tie.code == 1
    evaluated = _evaluation(project)
    assert (
        evaluated["checks"][0]["interval"]["low"],
        evaluated["checks"][0]["interval"]["high"],
    ) == (0, 0)
    assert not evaluated["passed"]
    assert "not significant" in evaluated["summary"]
    assert "not significant" in tie.err
    assert registry_of(project).champion().version == "2"
