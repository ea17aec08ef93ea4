"""The audit trail: reading events back from tags, and walking back champions."""

from __future__ import annotations

import json

from podium.registry import Event, audit, previous_champion


def _event(seq: int, action: str, version: str) -> Event:
    return Event(seq, action, version, None, "ci", "2026-01-01T00:00:00Z", "why")


def test_events_come_back_in_order_and_hand_edits_are_skipped() -> None:
    second, first = _event(2, "promote", "2"), _event(1, "promote", "1")
    tags = {
        audit.tag_name(2): json.dumps(second.to_dict()),
        audit.tag_name(1): json.dumps(first.to_dict()),
        audit.tag_name(3): "{not json",
        audit.tag_name(4): json.dumps({"seq": 4}),  # missing fields
        "podium.something_else": "{}",
    }
    assert audit.tag_name(1) == "podium.audit.000001"
    assert audit.parse(tags) == [first, second]


def test_previous_champion_walks_back_instead_of_flip_flopping() -> None:
    promotions = [_event(1, "promote", "1"), _event(2, "promote", "2"), _event(3, "promote", "3")]
    assert previous_champion([], None) is None
    assert previous_champion(promotions[:1], "1") is None
    assert previous_champion(promotions, "3") == "2"
    rolled_back = [*promotions, _event(4, "rollback", "2")]
    assert previous_champion(rolled_back, "2") == "1"  # not back to 3
    twice = [*rolled_back, _event(5, "rollback", "1")]
    assert previous_champion(twice, "1") is None
