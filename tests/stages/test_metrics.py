"""`podium metrics` against a real sqlite registry with a known, hand-built history."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from podium.config import load
from podium.registry import AUDIT_PREFIX, CHAMPION
from podium.stages.metrics import delivery_metrics
from tests.conftest import Project

NOW = datetime.now(UTC).replace(microsecond=0)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# (version, verdict, evaluated days ago, trained in a PR)
VERSIONS = [
    ("1", "passed", 120, False),
    ("2", "failed", 80, True),
    ("3", "passed", 75, False),
    ("4", "failed", 60, False),
    ("5", "passed", 50, False),
    ("6", "passed", 20, False),
    ("7", "passed", 10, False),
    ("8", None, None, False),
]
# (action, version, previous, days ago)
EVENTS = [
    ("promote", "1", None, 120),
    ("promote", "3", "1", 75),
    ("promote", "5", "3", 50),
    ("rollback", "3", "5", 48),
    ("promote", "7", "3", 10),
]


@pytest.fixture
def history(project: Project, registry_of: Callable[[Project], Any]) -> Project:
    """Versions and audit events written exactly as podium writes them, at chosen times."""
    registry = registry_of(project)
    client = registry.client
    client.create_registered_model(registry.name)
    for version, verdict, days, from_pr in VERSIONS:
        tags = {"podium.candidate": "true"}
        if verdict:
            tags |= {"podium.verdict": verdict, "podium.evaluated_at": _ago(days)}
        if from_pr:
            tags["podium.pr"] = "12"
        created = client.create_model_version(
            registry.name, source=f"file:///nowhere/{version}", tags=tags
        )
        assert str(created.version) == version
    for seq, (action, version, previous, days) in enumerate(EVENTS, start=1):
        event = {
            "seq": seq,
            "action": action,
            "version": version,
            "previous": previous,
            "actor": "ci",
            "at": _ago(days),
            "reason": "hand-built",
            "commit": None,
            "run_url": None,
        }
        client.set_registered_model_tag(
            registry.name, f"{AUDIT_PREFIX}{seq:06d}", json.dumps(event)
        )
    client.set_registered_model_alias(registry.name, CHAMPION, "7")
    return project


def test_metrics_from_the_audit_trail_match_hand_computed_values(history: Project) -> None:
    found = delivery_metrics(config=load(history.config_path), now=NOW)
    assert found.promotions == 3  # v3, v5, v7 in the last 90 days
    assert found.deployment_frequency == 1.0
    assert (found.candidates, found.candidates_promoted) == (5, 3)  # v3 v4 v5 v6 v7
    assert found.success_rate == 0.6
    assert found.pr_candidates == 1
    assert found.rollbacks == 1
    assert found.change_failure_rate == pytest.approx(1 / 3)
    assert found.days_since_last_promotion == 10.0
    assert found.champion_version == "7"
    assert found.days_as_champion == 10.0
    assert found.champion_age_days is not None and found.champion_age_days < 0.05  # registered now
    assert (found.total_promotions, found.total_rollbacks) == (4, 1)

    shorter = delivery_metrics(config=load(history.config_path), days=30, now=NOW)
    assert (shorter.promotions, shorter.candidates, shorter.candidates_promoted) == (1, 2, 1)
    assert shorter.rollbacks == 0


def test_metrics_command_prints_them_and_as_json(history: Project) -> None:
    as_json = history.cli("metrics", "--json")
    assert as_json.code == 0, as_json.err
    found = json.loads(as_json.out)
    assert found["promotions"] == 3
    assert found["success_rate"] == 0.6
    assert found["rollbacks"] == 1
    assert found["champion_version"] == "7"
    assert (
        10.0 <= found["days_since_last_promotion"] < 10.1
    )  # the fixture may be hours old on a busy machine

    human = history.cli("metrics", "--days", "30")
    assert human.code == 0, human.err
    assert "delivery metrics of churn, last 30 days" in human.out
    assert "deployment frequency  1.0 promotions / 30 days (1 in 30 days, 4 in all)" in human.out
    assert "success rate          50% (1 of 2 candidates promoted)" in human.out
    assert "rollbacks             0 (change failure rate 0%)" in human.out
    assert "last promotion        10 days ago" in human.out
    assert "champion              v7, trained" in human.out


def test_metrics_of_a_model_with_no_history(project: Project) -> None:
    result = project.cli("metrics")
    assert result.code == 0, result.err
    assert "0.0 promotions / 30 days (0 in 90 days, 0 in all)" in result.out
    assert "no candidate evaluated outside pull requests" in result.out
    assert "last promotion        never" in result.out
    assert "champion              none yet" in result.out


def test_a_window_shorter_than_a_day_is_bad_input(project: Project) -> None:
    result = project.cli("metrics", "--days", "0")
    assert result.code == 2
    assert result.err.strip() == "podium: --days 0: the window must be at least 1 day"


# (days ago, champion version, loaded, alert, drifted share) — `podium monitor` runs
CHECKS = [
    (100, "1", True, False, 0.0),
    (80, "1", True, True, 0.5),  # episode A: v3 promoted 5 days later (answered)
    (79, "1", True, True, 0.5),  # … still A
    (60, "3", True, False, 0.0),
    (49, "5", False, True, None),  # episode B: v5 does not load; rollback a day later
    (30, "3", True, False, 0.0),
    (20, "3", False, True, None),  # episode C: down until v7, 10 days later (too late)
    (5, "7", True, False, 0.25),
    (2, "7", True, True, 0.25),  # episode D: 2 days old, pending
]


@pytest.fixture
def monitored(history: Project, registry_of: Callable[[Project], Any]) -> Project:
    """The known history above plus monitor runs, written as `podium monitor` writes them."""
    registry = registry_of(history)
    for i, (days, version, loaded, alert, share) in enumerate(CHECKS):
        check = {
            "at": _ago(days),
            "version": version,
            "loaded": loaded,
            "alert": alert,
            "reasons": ["drift"] if alert else [],
            "drifted_share": share,
        }
        registry.client.set_registered_model_tag(
            registry.name, f"podium.monitor.{_ago(days)}-{i:06x}", json.dumps(check)
        )
    return history


def test_uptime_and_the_feedback_loop_from_a_known_history(monitored: Project) -> None:
    from podium.stages.metrics import metrics_table

    found = metrics_table(config=load(monitored.config_path), now=NOW)
    # Down from 49 to 48 days ago (v5 did not load until the rollback) and from 20 to 10
    # days ago (v3 did not load until v7): 11 of the 120 days since the first promotion.
    assert found.uptime.share == pytest.approx(109 / 120)
    assert (found.uptime.checks, found.uptime.failed_loads) == (9, 2)
    assert found.uptime.down_days == pytest.approx(11)
    feedback = found.feedback
    assert (feedback.alerts, feedback.promoted, feedback.pending) == (4, 1, 1)
    assert feedback.share == pytest.approx(1 / 3)
    assert feedback.median_days == pytest.approx(5)
    assert feedback.retrained == 1  # the versions were all registered now: only D's week
    rows = {row.metric: row for row in found.rows}
    assert list(rows) == [
        "deployment frequency",
        "deployment success rate",
        "model performance",
        "data quality",
        "data drift",
        "prediction latency",
        "resource utilisation",
        "cost",
        "model uptime",
        "feedback-loop effectiveness",
    ]
    assert rows["data drift"].value == 0.25
    assert rows["model uptime"].shown.startswith("90.83% since ")
    assert rows["cost"].shown == ("not measured yet: set metrics.cost_per_cpu_hour in podium.yaml")
    assert rows["model performance"].shown == (
        "not measured yet: champion v7 has no evaluation metrics (eval_roc_auc) logged"
    )


def test_metrics_prints_the_whole_table_and_as_json(monitored: Project) -> None:
    human = monitored.cli("metrics")
    assert human.code == 0, human.err
    assert "MLOps metrics table" in human.out
    assert "  model uptime                 " in human.out
    assert "33% of alerts answered by a new champion within 7 days (4 alerts" in human.out
    as_json = json.loads(monitored.cli("metrics", "--json").out)
    assert as_json["promotions"] == 3  # delivery's keys as before
    assert len(as_json["table"]) == 10
    assert as_json["uptime"]["failed_loads"] == 2
    assert as_json["feedback_loop"]["alerts"] == 4


def test_every_row_says_why_it_is_not_measured_on_a_new_model(project: Project) -> None:
    found = json.loads(project.cli("metrics", "--json").out)["table"]
    shown = {row["metric"]: row["shown"] for row in found}
    assert shown["model uptime"] == "not measured yet: no promotion yet"
    assert shown["feedback-loop effectiveness"] == (
        "not measured yet: no `podium monitor` run recorded yet"
    )
    assert all(row["measured"] or row["shown"].startswith("not measured yet: ") for row in found)
