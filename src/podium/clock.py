"""Wall-clock timestamps as podium writes them (results, tags, audit events)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current UTC time to the second, e.g. `2026-12-01T08:43:42Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
