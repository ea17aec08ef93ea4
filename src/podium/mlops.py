"""The MLOps metrics table: ten rows, each a value or "not measured yet: <why>" (pure).

| row                      | from                                                        |
|--------------------------|-------------------------------------------------------------|
| deployment frequency     | the audit trail (`podium.delivery`)                         |
| deployment success rate  | evaluated versions and the audit trail                      |
| model performance        | the champion's evaluation metrics (its run's `eval_*`)      |
| data quality             | `.podium/validation.json` (data checks and expectations)    |
| data drift               | the last `podium monitor` run, else the last validation     |
| prediction latency       | the champion's `eval_latency_ms`                            |
| resource utilisation     | the champion's training CPU, wall time and peak memory      |
| cost                     | training CPU hours × `metrics.cost_per_cpu_hour`            |
| model uptime             | the audit trail and the monitor runs' load checks           |
| feedback-loop effect.    | monitor alerts → retrained versions → new champions         |

Model uptime is the share of time since the first promotion that `@champion` pointed at
a version that loads: a promotion or rollback starts a healthy stretch (the version was
just evaluated, or served before), every `podium monitor` run sets the state to what it
saw (loaded or not) until the next observation.

Feedback-loop effectiveness follows alert *episodes*: the first alerting monitor run
after a healthy run or a champion move opens one (daily runs that keep alerting about the
same problem are one episode). An episode is answered when a new champion is promoted
within `within_days`; it is retrained when a new version was registered in that time.
Episodes younger than `within_days` and not yet answered are pending, not failures.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from podium.delivery import PER_DAYS, duration, parse_time

if TYPE_CHECKING:
    from podium.delivery import Delivery
    from podium.registry import Event, Version
    from podium.registry.audit import Check
    from podium.results import Validation

FEEDBACK_DAYS = 7


@dataclass(frozen=True)
class Uptime:
    share: float | None  # of the time since the first promotion
    since: str | None
    checks: int  # monitor runs that tried to load the champion
    failed_loads: int
    down_days: float
    why: str | None = None  # why there is no share


@dataclass(frozen=True)
class Feedback:
    alerts: int  # alert episodes in the window
    retrained: int  # … followed by a new registered version within `within_days`
    promoted: int  # … followed by a new champion within `within_days`
    pending: int  # younger than `within_days`, not answered yet
    share: float | None  # promoted / (alerts − pending)
    median_days: float | None  # first alert → new champion, over the promoted ones
    within_days: int
    why: str | None = None


@dataclass(frozen=True)
class Row:
    """One row of the table: its value (None: not measured) and how to say it."""

    metric: str
    value: float | None
    shown: str  # the value for people, or "not measured yet: <why>"
    measured: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def uptime(events: Sequence[Event], checks: Sequence[Check], *, now: datetime) -> Uptime:
    """The share of time since the first promotion that the champion loaded."""
    moves = [(at, True) for e in events if (at := parse_time(e.at)) is not None]
    promotions = [parse_time(e.at) for e in events if e.action == "promote"]
    first = min((at for at in promotions if at is not None), default=None)
    looked = [(at, c.loaded) for c in checks if (at := parse_time(c.at)) is not None]
    failed = sum(1 for _, loaded in looked if not loaded)
    if first is None:
        return Uptime(None, None, len(looked), failed, 0.0, "no promotion yet")
    if not looked:
        return Uptime(
            None,
            _iso(first),
            0,
            0,
            0.0,
            "no `podium monitor` run has loaded the champion yet",
        )
    # At the same instant a move comes before a check: the check saw the new champion.
    observations = sorted(moves + looked, key=lambda pair: (pair[0], pair[1] is not True))
    up = down = 0.0
    state, since = True, first
    for at, loaded in observations:
        if at <= first:
            state = loaded if at == first else state
            continue
        stretch = _days(min(at, now), since)
        if stretch > 0:
            up, down = (up + stretch, down) if state else (up, down + stretch)
        since, state = min(at, now), loaded
    tail = _days(now, since)
    if tail > 0:
        up, down = (up + tail, down) if state else (up, down + tail)
    total = up + down
    share = up / total if total > 0 else 1.0
    return Uptime(share, _iso(first), len(looked), failed, down)


def feedback_loop(
    events: Sequence[Event],
    checks: Sequence[Check],
    versions: Sequence[Version],
    *,
    now: datetime,
    window_days: int,
    within_days: int = FEEDBACK_DAYS,
) -> Feedback:
    """Alert episodes in the window and whether a retrained champion answered each."""
    promoted_at = sorted(
        at for e in events if e.action == "promote" and (at := parse_time(e.at)) is not None
    )
    registered = sorted(v.created_ms / 1000 for v in versions if v.created_ms)
    starts: list[datetime] = []
    in_episode = False
    moves = sorted(at for e in events if (at := parse_time(e.at)) is not None)
    last: datetime | None = None
    for check in checks:
        at = parse_time(check.at)
        if at is None:
            continue
        if last is not None and any(last < move <= at for move in moves):
            in_episode = False  # the champion changed since the last run
        if check.alert and not in_episode:
            starts.append(at)
        in_episode = check.alert
        last = at
    window_start = now - timedelta(days=window_days)
    starts = [at for at in starts if window_start <= at <= now]
    if not starts:
        why = f"no monitoring alert in the last {window_days} days"
        if not checks:
            why = "no `podium monitor` run recorded yet"
        return Feedback(0, 0, 0, 0, None, None, within_days, why)
    within = timedelta(days=within_days)
    retrained = promoted = pending = 0
    times: list[float] = []
    for start in starts:
        answer = next((at for at in promoted_at if at > start), None)
        if answer is not None and answer - start <= within:
            promoted += 1
            times.append(_days(answer, start))
        elif now - start < within:
            pending += 1
        stamp = start.timestamp()
        retrained += any(stamp < t <= stamp + within.total_seconds() for t in registered)
    judged = len(starts) - pending
    return Feedback(
        alerts=len(starts),
        retrained=retrained,
        promoted=promoted,
        pending=pending,
        share=promoted / judged if judged else None,
        median_days=statistics.median(times) if times else None,
        within_days=within_days,
        why=None if judged else f"every alert is younger than {within_days} days",
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _missing(metric: str, why: str) -> Row:
    return Row(metric, None, f"not measured yet: {why}", False)


def table(
    *,
    delivery: Delivery,
    up: Uptime,
    feedback: Feedback,
    champion_metrics: Mapping[str, float] | None,
    primary: str,
    validation: Validation | None,
    last_check: Check | None,
    cost_per_cpu_hour: float | None,
) -> list[Row]:
    """The ten rows, in the order of the MLOps metrics table."""
    champ = delivery.champion_version
    logged = champion_metrics or {}
    no_champion = "no champion yet" if champ is None else None
    rows = [
        Row(
            "deployment frequency",
            delivery.deployment_frequency,
            f"{delivery.deployment_frequency:.1f} promotions / {PER_DAYS} days "
            f"({delivery.promotions} in {delivery.window_days} days)",
            True,
        ),
        (
            Row(
                "deployment success rate",
                delivery.success_rate,
                f"{delivery.success_rate:.0%} of candidates promoted "
                f"({delivery.candidates_promoted}/{delivery.candidates})",
                True,
            )
            if delivery.success_rate is not None
            else _missing(
                "deployment success rate",
                f"no candidate evaluated outside pull requests in {delivery.window_days} days",
            )
        ),
    ]
    key = f"eval_{primary}"
    if no_champion or key not in logged:
        rows.append(
            _missing(
                "model performance",
                no_champion or f"champion v{champ} has no evaluation metrics ({key}) logged",
            )
        )
    else:
        rows.append(
            Row("model performance", logged[key], f"{primary} {logged[key]:.3f} (v{champ})", True)
        )
    rows.append(_quality(validation))
    rows.append(_drift(last_check, validation))
    if no_champion or "eval_latency_ms" not in logged:
        why = no_champion or f"champion v{champ} has no eval_latency_ms logged"
        rows.append(_missing("prediction latency", why))
    else:
        latency = logged["eval_latency_ms"]
        rows.append(Row("prediction latency", latency, f"{latency:.3g} ms per 1,000 rows", True))
    cpu = logged.get("fit_cpu_seconds")
    if no_champion or cpu is None:
        why = no_champion or (
            f"champion v{champ} was trained before podium measured resources; retrain it"
        )
        rows.append(_missing("resource utilisation", why))
    else:
        parts = [f"training {cpu:.3g} CPU s"]
        if "fit_seconds" in logged:
            parts.append(f"{logged['fit_seconds']:.3g} s wall")
        if "fit_peak_memory_mb" in logged:
            parts.append(f"{logged['fit_peak_memory_mb']:.3g} MB peak")
        if "eval_predict_memory_mb" in logged:
            parts.append(f"prediction {logged['eval_predict_memory_mb']:.3g} MB / 1k rows")
        rows.append(Row("resource utilisation", cpu, ", ".join(parts), True))
    if cost_per_cpu_hour is None:
        rows.append(_missing("cost", "set metrics.cost_per_cpu_hour in podium.yaml"))
    elif cpu is None:
        rows.append(_missing("cost", rows[-1].shown.removeprefix("not measured yet: ")))
    else:
        cost = cpu / 3600 * cost_per_cpu_hour
        rows.append(
            Row(
                "cost",
                cost,
                f"{cost:.4g} per training run ({cpu:.3g} CPU s × {cost_per_cpu_hour:g} / CPU h)",
                True,
            )
        )
    if up.share is None:
        rows.append(_missing("model uptime", up.why or "unknown"))
    else:
        rows.append(
            Row(
                "model uptime",
                up.share,
                f"{up.share:.2%} since {up.since} ({up.checks} monitor runs, "
                f"{up.failed_loads} failed loads, "
                # duration() rounds up to 1 min: no downtime at all must not read as some
                + (f"down {duration(up.down_days)})" if up.down_days > 0 else "never down)"),
                True,
            )
        )
    if feedback.share is None:
        rows.append(_missing("feedback-loop effectiveness", feedback.why or "unknown"))
    else:
        median = (
            f"; median {duration(feedback.median_days)} from alert to new champion"
            if feedback.median_days is not None
            else ""
        )
        pending = f", {feedback.pending} pending" if feedback.pending else ""
        rows.append(
            Row(
                "feedback-loop effectiveness",
                feedback.share,
                f"{feedback.share:.0%} of alerts answered by a new champion within "
                f"{feedback.within_days} days ({feedback.alerts} alerts → "
                f"{feedback.retrained} retrained → {feedback.promoted} promoted{pending})"
                f"{median}",
                True,
            )
        )
    return rows


def _quality(validation: Validation | None) -> Row:
    if validation is None:
        return _missing("data quality", "no `podium validate` result in .podium/")
    checks = validation.checks
    passed = sum(1 for c in checks if c.passed)
    total = len(checks)
    parts = [f"data checks {passed}/{total}"]
    expectations = validation.expectations
    if expectations is not None:
        passed += expectations.evaluated - expectations.failed
        total += expectations.evaluated
        parts.append(
            f"expectations {expectations.evaluated - expectations.failed}/{expectations.evaluated}"
        )
    share = passed / total if total else None
    return Row("data quality", share, " · ".join(parts) + " passed (last validation)", True)


def _drift(last_check: Check | None, validation: Validation | None) -> Row:
    if last_check is not None and last_check.drifted_share is not None:
        return Row(
            "data drift",
            last_check.drifted_share,
            f"{last_check.drifted_share:.0%} of features drifted in production "
            f"(monitor {last_check.at})",
            True,
        )
    drift = validation.drift if validation is not None else None
    if drift is not None and drift.drifted_share is not None:
        return Row(
            "data drift",
            drift.drifted_share,
            f"{drift.drifted_share:.0%} of features drifted in training data (last validation)",
            True,
        )
    return _missing(
        "data drift", "no `podium monitor` or validation run measured drift against a champion"
    )
