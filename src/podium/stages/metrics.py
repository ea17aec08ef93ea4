"""`podium metrics`: delivery metrics and the whole MLOps metrics table of the model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from podium.config import Config
from podium.delivery import WINDOW_DAYS, Delivery, compute, of_registry
from podium.errors import InputError
from podium.mlops import Feedback, Row, Uptime
from podium.stages import open_registry


def delivery_metrics(
    *, config: Config, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Delivery:
    """Deployment frequency, success rate, rollbacks, last promotion, champion age."""
    _check_days(days)
    return of_registry(open_registry(config), days=days, now=now)


def _check_days(days: int) -> None:
    if days < 1:
        raise InputError(f"--days {days}: the window must be at least 1 day")


@dataclass(frozen=True)
class MetricsTable:
    """What `podium metrics` shows: delivery, then the ten rows of the MLOps table."""

    delivery: Delivery
    rows: list[Row]
    uptime: Uptime
    feedback: Feedback
    deployments: list[Any] | None = None  # per `deploy:` environment (deploy_metrics)

    def to_dict(self) -> dict[str, Any]:
        """Delivery's keys as before, plus `table`, `uptime` and `feedback_loop`."""
        from dataclasses import asdict

        return {
            **self.delivery.to_dict(),
            "table": [row.to_dict() for row in self.rows],
            "uptime": asdict(self.uptime),
            "feedback_loop": asdict(self.feedback),
            **(
                {"deployments": [e.to_dict() for e in self.deployments]}
                if self.deployments is not None
                else {}
            ),
        }


def metrics_table(
    *, config: Config, days: int = WINDOW_DAYS, now: datetime | None = None
) -> MetricsTable:
    """Every row of the MLOps metrics table, from the registry (and `.podium/validation.json`)."""
    from podium import mlops, resources
    from podium.registry import audit
    from podium.scoring import primary_metric

    _check_days(days)
    now = now or datetime.now(UTC)
    registry = open_registry(config)
    events = registry.history()
    versions = registry.versions()
    champion = registry.champion()
    checks = audit.checks(registry)
    delivery = compute(
        model_name=registry.name,
        events=events,
        versions=versions,
        champion=champion,
        now=now,
        window_days=days,
    )
    logged = resources.logged_metrics(registry, champion.run_id) if champion else None
    gated = [g.metric for g in config.gates if g.bounds_whole_set]
    primary = gated[0] if gated else primary_metric(config.model.task)
    up = mlops.uptime(events, checks, now=now)
    feedback = mlops.feedback_loop(events, checks, versions, now=now, window_days=days)
    rows = mlops.table(
        delivery=delivery,
        up=up,
        feedback=feedback,
        champion_metrics=logged,
        primary=primary,
        validation=_last_validation(config),
        last_check=checks[-1] if checks else None,
        cost_per_cpu_hour=config.raw.metrics.cost_per_cpu_hour,
    )
    live = _deployments(config, registry, now, days)
    if live:  # `deploy:`: the table's deployment rows are the last environment's, not promotions
        rows = _deployed_rows(rows, live[-1])
    return MetricsTable(delivery, rows, up, feedback, live)


def _deployed_rows(rows: list[Any], last: Any) -> list[Any]:
    """Deployment frequency, success rate and model uptime of the MLOps table measured from
    real deployments to (and probes of) the last environment of `deploy:`."""
    from podium.mlops import Row

    env = last.environment
    measured = {
        "deployment frequency": Row(
            "deployment frequency",
            last.frequency,
            f"{last.frequency:.1f} verified deployments to {env} / 30 days",
            True,
        ),
        "deployment success rate": Row(
            "deployment success rate",
            last.success_rate,
            f"{last.success_rate:.0%} of deployments to {env} verified live "
            f"({last.deployed}/{last.attempts})"
            if last.success_rate is not None
            else f"not measured yet: no deployment to {env} in the window",
            last.success_rate is not None,
        ),
        "model uptime": Row(
            "model uptime",
            last.uptime,
            f"{last.uptime:.1%} of {last.probes} probes of {env}'s endpoint up"
            if last.uptime is not None
            else f"not measured yet: no probe of {env}'s endpoint (podium status/monitor)",
            last.uptime is not None,
        ),
    }
    return [measured.get(row.metric, row) for row in rows]


def _deployments(config: Config, registry: Any, now: datetime, days: int) -> list[Any] | None:
    """Per environment of `deploy:`, from real deployments (None without `deploy:`)."""
    if not config.deploy:
        return None
    from podium import deploy_metrics
    from podium.registry import deployments

    trail, probed = deployments.history(registry), deployments.probes(registry)
    events, versions = registry.history(), registry.versions()
    found = []
    for target in config.deploy:
        live = registry.alias(target.environment)
        found.append(
            deploy_metrics.compute(
                target.environment,
                trail,
                probed,
                events,
                versions,
                live=live.version if live else None,
                now=now,
                window_days=days,
            )
        )
    return found


def _last_validation(config: Config) -> Any:
    """`.podium/validation.json` if there is a readable one; the table does without it."""
    from podium.results import Validation

    try:
        return Validation.load_optional(config.state_dir, model=config.model.name)
    except InputError:  # stale, foreign or malformed: data quality is "not measured yet"
        return None
