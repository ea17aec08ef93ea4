"""`podium metrics`: delivery metrics of the model from the registry's audit trail."""

from __future__ import annotations

from datetime import datetime

from podium.config import Config
from podium.delivery import WINDOW_DAYS, Delivery, of_registry
from podium.errors import InputError
from podium.stages import open_registry


def delivery_metrics(
    *, config: Config, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Delivery:
    """Deployment frequency, success rate, rollbacks, last promotion, champion age."""
    if days < 1:
        raise InputError(f"--days {days}: the window must be at least 1 day")
    return of_registry(open_registry(config), days=days, now=now)
