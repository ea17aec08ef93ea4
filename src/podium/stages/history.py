"""`podium history`: the ordered audit trail of champion moves."""

from __future__ import annotations

from podium.config import Config
from podium.registry import Event
from podium.stages import open_registry


def history(*, config: Config) -> list[Event]:
    """Promotions and rollbacks, oldest first."""
    return open_registry(config).history()
