"""The MLOps table's pure parts: uptime and the feedback loop's alert episodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from podium import delivery
from podium.mlops import feedback_loop, table, uptime
from podium.registry import Event, Version
from podium.registry.audit import Check

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _at(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _move(days: float, version: str, action: str = "promote") -> Event:
    return Event(1, action, version, None, "ci", _at(days), "test")


def _check(days: float, *, loaded: bool = True, alert: bool = False) -> Check:
    return Check(at=_at(days), version="1", loaded=loaded, alert=alert)


def test_uptime_holds_each_observation_until_the_next() -> None:
    events = [_move(10, "1")]
    checks = [_check(8, loaded=False), _check(6), _check(2, loaded=False)]
    found = uptime(events, checks, now=NOW)
    assert found.down_days == pytest.approx(2 + 2)  # 8 → 6 and 2 → now
    assert found.share == pytest.approx(6 / 10)
    assert found.failed_loads == 2


def test_a_move_ends_an_outage_and_checks_before_the_first_promotion_do_not_count() -> None:
    events = [_move(10, "1"), _move(4, "2", "rollback")]
    checks = [_check(20, loaded=False), _check(5, loaded=False)]
    found = uptime(events, checks, now=NOW)
    assert found.down_days == pytest.approx(1)
    assert found.share == pytest.approx(0.9)


def test_alert_episodes_close_on_a_healthy_run_or_a_champion_move() -> None:
    events = [_move(30, "1"), _move(17, "2")]
    checks = [
        _check(20, alert=True),  # episode 1, answered by v2 three days later
        _check(19, alert=True),  # same episode
        _check(16, alert=True),  # new champion since: episode 2, never answered
        _check(15),
        _check(12, alert=True),  # episode 3 after a healthy run, never answered
    ]
    registered = int((NOW - timedelta(days=18)).timestamp() * 1000)
    versions = [Version("m", "2", None, "file:///v2", created_ms=registered)]
    found = feedback_loop(events, checks, versions, now=NOW, window_days=90)
    assert (found.alerts, found.promoted, found.pending, found.retrained) == (3, 1, 0, 1)
    assert found.share == pytest.approx(1 / 3)
    assert found.median_days == pytest.approx(3)


def test_an_uptime_with_no_downtime_does_not_read_down_1_min() -> None:
    # `podium metrics` after one healthy monitor run said "100.00% … down 1 min".
    events = [_move(10, "1")]
    up = uptime(events, [_check(5)], now=NOW)
    assert (up.share, up.down_days) == (1.0, 0.0)
    rows = table(
        delivery=delivery.compute(
            model_name="m", events=events, versions=[], champion=None, now=NOW
        ),
        up=up,
        feedback=feedback_loop(events, [_check(5)], [], now=NOW, window_days=90),
        champion_metrics=None,
        primary="f1",
        validation=None,
        last_check=None,
        cost_per_cpu_hour=None,
    )
    shown = next(r.shown for r in rows if r.metric == "model uptime")
    assert shown.endswith("(1 monitor runs, 0 failed loads, never down)"), shown
