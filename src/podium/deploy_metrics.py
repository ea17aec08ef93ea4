"""Delivery metrics from real deployments (`deploy:`), per environment — pure, no I/O.

From the deployment trail (`registry.deployments`), the endpoint probes and the champion
moves: deployment frequency and success rate, change failure rate (live deployments
restored or rolled back within `FAILURE_DAYS`), time to restore, lead time (version
registered → live there) and uptime (share of probes that found the endpoint healthy and
answering as its live version).
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.registry import Event, Version
    from podium.registry.deployments import Deployment, Probed

FAILURE_DAYS = 7  # a live deployment undone within this many days was a failed change


@dataclass(frozen=True)
class EnvironmentMetrics:
    environment: str
    attempts: int  # deployment attempts in the window (restores not counted)
    deployed: int  # of them verified live
    frequency: float  # verified deployments per 30 days
    success_rate: float | None
    change_failure_rate: float | None  # live deployments undone within FAILURE_DAYS
    restore_minutes: float | None  # median: failure → previous version verified again
    lead_time_hours: float | None  # median: version registered → live here
    uptime: float | None  # share of probes up
    probes: int
    live_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute(
    environment: str,
    trail: list[Deployment],
    probes: list[Probed],
    events: list[Event],
    versions: list[Version],
    *,
    live: str | None,
    now: datetime,
    window_days: int,
) -> EnvironmentMetrics:
    """One environment's metrics over the last `window_days` days."""
    since = now - timedelta(days=window_days)
    mine = [d for d in trail if d.environment == environment]
    recent = [d for d in mine if _at(d.at) >= since]
    attempts = [d for d in recent if d.outcome in {"deployed", "failed"}]
    deployed = [d for d in attempts if d.outcome == "deployed"]
    undone = [d for d in deployed if _undone(d, mine, events)]
    restores = [
        (_at(r.at) - _at(f.at)).total_seconds() / 60
        for f, r in itertools.pairwise(mine)
        if f.outcome == "failed" and r.outcome == "restored"
    ]
    created = {v.version: v.created_ms for v in versions}
    leads = [
        (_at(d.at).timestamp() * 1000 - ms) / 3_600_000
        for d in deployed
        if (ms := created.get(d.version)) is not None
    ]
    looked = [p for p in probes if p.environment == environment and _at(p.at) >= since]
    return EnvironmentMetrics(
        environment=environment,
        attempts=len(attempts),
        deployed=len(deployed),
        frequency=len(deployed) * 30 / window_days,
        success_rate=len(deployed) / len(attempts) if attempts else None,
        change_failure_rate=len(undone) / len(deployed) if deployed else None,
        restore_minutes=statistics.median(restores) if restores else None,
        lead_time_hours=statistics.median(leads) if leads else None,
        uptime=sum(p.up for p in looked) / len(looked) if looked else None,
        probes=len(looked),
        live_version=live,
    )


def _undone(done: Deployment, mine: list[Deployment], events: list[Event]) -> bool:
    """Whether a live deployment was replaced by what was live before it, or its version
    rolled back as champion, within FAILURE_DAYS."""
    start, end = _at(done.at), _at(done.at) + timedelta(days=FAILURE_DAYS)
    back = any(
        d.outcome == "deployed" and d.version == done.previous and start < _at(d.at) <= end
        for d in mine
        if done.previous
    )
    rolled = any(
        e.action == "rollback" and e.previous == done.version and start < _at(e.at) <= end
        for e in events
    )
    return back or rolled


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
