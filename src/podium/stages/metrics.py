"""`podium metrics`: delivery metrics of the model from the registry's audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

from podium.config import Config
from podium.delivery import WINDOW_DAYS, Delivery, compute
from podium.errors import InputError
from podium.registry import Registry
from podium.stages import open_registry


def delivery_metrics(
    *, config: Config, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Delivery:
    """Deployment frequency, success rate, rollbacks, last promotion, champion age."""
    if days < 1:
        raise InputError(f"--days {days}: the window must be at least 1 day")
    return of_registry(open_registry(config), days=days, now=now)


def of_registry(
    registry: Registry, *, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Delivery:
    """The same, for an open registry (evaluate puts them in the report)."""
    return compute(
        model_name=registry.name,
        events=registry.history(),
        versions=registry.versions(),
        champion=registry.champion(),
        now=now or datetime.now(UTC),
        window_days=days,
    )
