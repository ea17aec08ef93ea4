"""Delivery metrics from a hand-built audit trail, checked against hand-computed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from podium.delivery import compute, duration, of_registry, parse_time, summary
from podium.registry import Event, Version

NOW = datetime(2026, 3, 31, tzinfo=UTC)


def _event(seq: int, action: str, version: str, previous: str | None, at: str) -> Event:
    return Event(seq, action, version, previous, "ci", at, "why")


def _version(
    number: int, verdict: str | None, evaluated: str | None, pr: str | None = None
) -> Version:
    tags = {}
    if verdict:
        tags["podium.verdict"] = verdict
    if evaluated:
        tags["podium.evaluated_at"] = evaluated
    if pr:
        tags["podium.pr"] = pr
    created = parse_time(evaluated or "2026-03-19T12:00:00Z")
    assert created is not None
    return Version("churn", str(number), None, "src", tags, int(created.timestamp() * 1000))


EVENTS = [
    _event(1, "promote", "1", None, "2025-11-01T00:00:00Z"),  # before the 90-day window
    _event(2, "promote", "3", "1", "2026-01-10T00:00:00Z"),
    _event(3, "promote", "5", "3", "2026-02-01T00:00:00Z"),
    _event(4, "rollback", "3", "5", "2026-02-03T00:00:00Z"),
    _event(5, "promote", "7", "3", "2026-03-20T00:00:00Z"),
]
VERSIONS = [
    _version(1, "passed", "2025-11-01T00:00:00Z"),  # evaluated before the window
    _version(2, "failed", "2026-01-05T00:00:00Z", pr="12"),  # a pull request's candidate
    _version(3, "passed", "2026-01-10T00:00:00Z"),
    _version(4, "failed", "2026-01-20T00:00:00Z"),
    _version(5, "passed", "2026-02-01T00:00:00Z"),
    _version(6, "passed", "2026-03-01T00:00:00Z"),  # passed, but lost the race: not promoted
    _version(7, "passed", "2026-03-20T00:00:00Z"),
    _version(8, None, None),  # trained, never evaluated: not a candidate
]
CHAMPION = Version(
    "churn", "7", None, "src", {}, int(datetime(2026, 3, 19, 12, tzinfo=UTC).timestamp() * 1000)
)


def test_ninety_days_of_history() -> None:
    found = compute(
        model_name="churn", events=EVENTS, versions=VERSIONS, champion=CHAMPION, now=NOW
    )
    assert found.to_dict() == {
        "model_name": "churn",
        "as_of": "2026-03-31T00:00:00Z",
        "window_days": 90,
        "promotions": 3,  # v3, v5, v7 (v1 is older)
        "deployment_frequency": 1.0,  # 3 × 30 / 90
        "candidates": 5,  # v3, v4, v5, v6, v7
        "candidates_promoted": 3,
        "success_rate": 0.6,
        "pr_candidates": 1,
        "rollbacks": 1,
        "change_failure_rate": pytest.approx(1 / 3),
        "last_promotion": "2026-03-20T00:00:00Z",
        "days_since_last_promotion": 11.0,
        "champion_version": "7",
        "champion_since": "2026-03-20T00:00:00Z",
        "days_as_champion": 11.0,
        "champion_age_days": 11.5,  # registered 2026-03-19 12:00
        "total_promotions": 4,
        "total_rollbacks": 1,
    }


def test_a_thirty_day_window_includes_its_first_instant() -> None:
    found = compute(
        model_name="churn",
        events=EVENTS,
        versions=VERSIONS,
        champion=CHAMPION,
        now=NOW,
        window_days=30,
    )
    assert (found.promotions, found.deployment_frequency) == (1, 1.0)
    assert (found.candidates, found.candidates_promoted, found.success_rate) == (2, 1, 0.5)
    assert (found.rollbacks, found.change_failure_rate) == (0, 0.0)


def test_a_rollback_makes_an_older_version_champion_again() -> None:
    events = [*EVENTS[:4]]  # ends with the rollback to v3
    champion = Version(
        "churn", "3", None, "src", {}, int(datetime(2026, 1, 9, tzinfo=UTC).timestamp() * 1000)
    )
    found = compute(
        model_name="churn", events=events, versions=VERSIONS, champion=champion, now=NOW
    )
    assert found.champion_since == "2026-02-03T00:00:00Z"  # back since the rollback
    assert found.last_promotion == "2026-02-01T00:00:00Z"
    assert found.champion_age_days == 81.0


def test_no_history_yet() -> None:
    found = compute(model_name="churn", events=[], versions=[], champion=None, now=NOW)
    assert (found.promotions, found.deployment_frequency, found.candidates) == (0, 0.0, 0)
    assert found.success_rate is None
    assert found.change_failure_rate is None
    assert found.last_promotion is None
    assert found.champion_version is None
    assert "0.0 promotions / 30 days · 0 rollbacks" in summary(found)


def test_a_hand_edited_timestamp_is_ignored_not_fatal() -> None:
    events = [_event(1, "promote", "3", None, "yesterday-ish")]
    found = compute(model_name="churn", events=events, versions=[], champion=None, now=NOW)
    assert (found.promotions, found.total_promotions, found.last_promotion) == (0, 1, None)


def test_the_report_line() -> None:
    found = compute(
        model_name="churn", events=EVENTS, versions=VERSIONS, champion=CHAMPION, now=NOW
    )
    assert summary(found) == (
        "Delivery (last 90 days): 1.0 promotions / 30 days · 60% of candidates promoted (3/5) "
        "· 1 rollback · last promotion 11 days ago · champion v7 trained 12 days ago"
    )


@dataclass
class _Trail:
    """What a registry hands to delivery metrics, held in memory."""

    name: str
    events: list[Event] = field(default_factory=list)
    registered: list[Version] = field(default_factory=list)
    current: Version | None = None

    def history(self) -> list[Event]:
        return self.events

    def versions(self) -> list[Version]:
        return self.registered

    def champion(self) -> Version | None:
        return self.current


def test_of_registry_reads_the_trail_the_versions_and_the_champion() -> None:
    trail = _Trail("churn", EVENTS, VERSIONS, CHAMPION)
    found = of_registry(trail, days=30, now=NOW)
    assert found == compute(
        model_name="churn",
        events=EVENTS,
        versions=VERSIONS,
        champion=CHAMPION,
        now=NOW,
        window_days=30,
    )
    assert found.champion_version == CHAMPION.version


def test_of_registry_is_as_of_now_by_default() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    found = of_registry(_Trail("churn"))
    stamp = parse_time(found.as_of)
    assert stamp is not None and before <= stamp <= datetime.now(UTC)
    assert found.window_days == 90


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (None, "—"),
        (0.0, "1 min"),
        (0.5 / 24, "30 min"),
        (5 / 24, "5 h"),
        (2.31, "2.3 days"),
        (45.2, "45 days"),
    ],
)
def test_durations_for_people(days: float | None, text: str) -> None:
    assert duration(days) == text
