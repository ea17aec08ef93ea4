"""Timestamps as podium writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from podium.clock import now_iso


def test_now_is_utc_to_the_second() -> None:
    stamp = now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5
