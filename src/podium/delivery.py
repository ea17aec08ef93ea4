"""Delivery metrics of one model, from the registry's audit trail alone (pure, no I/O).

What ML teams report about their delivery process (the DORA keys, for models):

- deployment frequency: promotions per 30 days, over the last `window_days`;
- deployment success rate: of the candidates evaluated for deployment in the window,
  the share that became champion. Candidates trained in a pull request are counted
  apart: the PR workflow never promotes, by design, so they are not attempts;
- rollbacks in the window, and the change failure rate (rollbacks / promotions);
- time since the last promotion, and the champion's age (since it was registered,
  i.e. trained) — how stale the model in production is.

Inputs are the audit events (`podium.audit.*` tags on the registered model) and the
model versions with their `podium.verdict` / `podium.evaluated_at` / `podium.pr` tags.
`compute` is pure; `of_registry` only gathers those inputs from an open registry, for
both `podium metrics` and the evaluation report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from podium.registry import tags
from podium.registry.audit import MOVES

if TYPE_CHECKING:
    from podium.registry import Event, Version
    from podium.results import DeliveryMetrics

WINDOW_DAYS = 90
PER_DAYS = 30  # deployment frequency is given per this many days


@dataclass(frozen=True)
class Delivery:
    model_name: str
    as_of: str
    window_days: int
    promotions: int  # in the window
    deployment_frequency: float  # promotions per 30 days over the window
    candidates: int  # deployment candidates evaluated in the window
    candidates_promoted: int
    success_rate: float | None  # candidates_promoted / candidates
    pr_candidates: int  # evaluated in pull requests (never promoted there)
    rollbacks: int  # in the window
    change_failure_rate: float | None  # rollbacks / promotions in the window
    last_promotion: str | None
    days_since_last_promotion: float | None
    champion_version: str | None
    champion_since: str | None
    days_as_champion: float | None
    champion_age_days: float | None  # since the champion version was registered
    total_promotions: int  # all time
    total_rollbacks: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditSource(Protocol):
    """What delivery metrics read from a registry (a `podium.registry.Registry`)."""

    @property
    def name(self) -> str: ...
    def history(self) -> Sequence[Event]: ...
    def versions(self) -> Sequence[Version]: ...
    def champion(self) -> Version | None: ...


def parse_time(text: str | None) -> datetime | None:
    """An ISO timestamp as podium writes it (`2026-01-02T03:04:05Z`); None if unreadable."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def compute(
    *,
    model_name: str,
    events: Sequence[Event],
    versions: Sequence[Version],
    champion: Version | None,
    now: datetime,
    window_days: int = WINDOW_DAYS,
) -> Delivery:
    """Delivery metrics as of `now` over the last `window_days` days."""
    start = now - timedelta(days=window_days)

    def in_window(moment: datetime | None) -> bool:
        return moment is not None and start <= moment <= now

    dated = [(e, parse_time(e.at)) for e in events]
    promotions = [(e, at) for e, at in dated if e.action == "promote"]
    recent_promotions = sum(1 for _, at in promotions if in_window(at))
    recent_rollbacks = sum(1 for e, at in dated if e.action == "rollback" and in_window(at))
    promoted_versions = {e.version for e, _ in promotions}

    candidates = promoted = from_prs = 0
    for version in versions:
        if version.tags.get(tags.VERDICT) not in {"passed", "failed"}:
            continue
        evaluated = parse_time(version.tags.get(tags.EVALUATED_AT)) or _from_ms(version.created_ms)
        if not in_window(evaluated):
            continue
        if version.tags.get(tags.PR):
            from_prs += 1
            continue
        candidates += 1
        promoted += version.version in promoted_versions

    last = max(
        ((e, at) for e, at in promotions if at is not None and at <= now),
        key=lambda pair: pair[1],
        default=None,
    )
    since = None
    if champion is not None:
        moves = [
            at
            for e, at in dated
            if e.version == champion.version and at is not None and e.action in MOVES
        ]
        since = max(moves, default=None)
    registered = _from_ms(champion.created_ms) if champion is not None else None
    return Delivery(
        model_name=model_name,
        as_of=_iso(now),
        window_days=window_days,
        promotions=recent_promotions,
        deployment_frequency=recent_promotions * PER_DAYS / window_days,
        candidates=candidates,
        candidates_promoted=promoted,
        success_rate=promoted / candidates if candidates else None,
        pr_candidates=from_prs,
        rollbacks=recent_rollbacks,
        change_failure_rate=(recent_rollbacks / recent_promotions if recent_promotions else None),
        last_promotion=_iso(last[1]) if last else None,
        days_since_last_promotion=_days(now, last[1]) if last else None,
        champion_version=champion.version if champion else None,
        champion_since=_iso(since) if since else None,
        days_as_champion=_days(now, since) if since else None,
        champion_age_days=_days(now, registered) if registered else None,
        total_promotions=len(promotions),
        total_rollbacks=sum(1 for e, _ in dated if e.action == "rollback"),
    )


def of_registry(
    registry: AuditSource, *, days: int = WINDOW_DAYS, now: datetime | None = None
) -> Delivery:
    """`compute` over a registered model's audit trail and versions, as of `now` (default: now)."""
    return compute(
        model_name=registry.name,
        events=registry.history(),
        versions=registry.versions(),
        champion=registry.champion(),
        now=now or datetime.now(UTC),
        window_days=days,
    )


def _from_ms(stamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None


def _days(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds() / 86400)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(days: float | None) -> str:
    """'45 minutes', '5 hours', '2.3 days' — for people."""
    if days is None:
        return "—"
    hours = days * 24
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if days < 1:
        return f"{round(hours)} h"
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"


def summary(found: Delivery | DeliveryMetrics) -> str:
    """One compact line: 'Delivery (90 days): 1.0 promotions / 30 days · …'."""
    parts = [f"{found.deployment_frequency or 0:.1f} promotions / {PER_DAYS} days"]
    rate = found.success_rate
    if rate is not None:
        parts.append(
            f"{rate:.0%} of candidates promoted ({found.candidates_promoted}/{found.candidates})"
        )
    rollbacks = found.rollbacks
    parts.append(f"{rollbacks} rollback" + ("" if rollbacks == 1 else "s"))
    if found.days_since_last_promotion is not None:
        parts.append(f"last promotion {duration(found.days_since_last_promotion)} ago")
    if found.champion_version and found.champion_age_days is not None:
        parts.append(
            f"champion v{found.champion_version} trained {duration(found.champion_age_days)} ago"
        )
    return f"Delivery (last {found.window_days} days): " + " · ".join(parts)
