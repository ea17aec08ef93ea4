"""Production monitoring: the decision (a pure function, no I/O).

`assess` weighs what `podium monitor` measured on recent production data — feature
drift against the champion's training profile and, when outcomes are known, live
metrics against the champion's evaluation metrics — against the `monitor:` thresholds.
The report and the issue are rendered by `podium.report.monitoring`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from podium.drift import judge
from podium.scoring import METRICS, TOLERANCE, improvement

if TYPE_CHECKING:
    from podium.results import Drift, MetricComparison


def assess(
    *,
    drift: Drift | None,
    live: Mapping[str, float],
    reference: Mapping[str, float],
    labelled_rows: int,
    metrics: Sequence[str],
    max_drifted_share: float | None,
    max_psi: float | None,
    max_metric_drop: float,
    min_labelled_rows: int,
    relative: bool = True,
) -> tuple[list[str], list[MetricComparison], list[str]]:
    """(alerts, metric comparisons, notes): an empty alert list means healthy.

    `relative`: `max_metric_drop` is a share of the champion's value (0.05 = 5% worse),
    else an amount in the metric's own unit."""
    from podium.results import MetricComparison

    alerts: list[str] = []
    notes: list[str] = []
    if drift is not None:
        features = drift.features
        verdict = judge(features, max_drifted_share=max_drifted_share, max_psi=max_psi)
        drifted = verdict.drifted
        if verdict.too_many:
            names = ", ".join(f.feature for f in drifted[:5])
            alerts.append(
                f"{len(drifted)} of {len(features)} features drifted ({names}): share "
                f"{verdict.share:.0%} is above monitor.max_drifted_share {max_drifted_share:g}"
            )
        worst, over = verdict.worst, verdict.over_psi
        if worst is not None:
            alerts.append(
                f"{worst.feature} PSI {worst.psi or 0.0:.2f} is above monitor.max_psi "
                f"{max_psi:g}" + (f" (and {len(over) - 1} more)" if len(over) > 1 else "")
            )
    comparisons: list[MetricComparison] = []
    if labelled_rows and labelled_rows < min_labelled_rows:
        notes.append(
            f"only {labelled_rows} rows have outcomes (monitor.min_labelled_rows is "
            f"{min_labelled_rows}): live metrics shown, not judged"
        )
    for name in metrics if labelled_rows else []:
        value, before = live.get(name), reference.get(name)
        if value is None or before is None or value != value or before != before:
            comparisons.append(
                MetricComparison(metric=name, live=value, champion=before, drop=None, alert=False)
            )
            if before is None:
                notes.append(f"the champion has no recorded evaluation {name} to compare with")
            continue
        drop = -improvement(name, value, before)  # positive: worse than at evaluation
        judged = labelled_rows >= min_labelled_rows
        share = drop / abs(before) if before else (0.0 if drop <= 0 else float("inf"))
        alert = judged and (share if relative else drop) > max_metric_drop + TOLERANCE
        comparisons.append(
            MetricComparison(metric=name, live=value, champion=before, drop=drop, alert=alert)
        )
        if alert:
            better = METRICS[name].direction
            bound = (
                f"monitor.max_metric_drop {max_metric_drop:g} relative, {max_metric_drop:.0%}"
                if relative
                else f"monitor.max_metric_drop {max_metric_drop:g} absolute"
            )
            alerts.append(
                f"{name} {value:.4g} on {labelled_rows:,} labelled production rows is "
                f"{drop:.4g} ({share:.1%}) worse than at the champion's evaluation "
                f"({before:.4g}; {better} is better; {bound})"
            )
    return alerts, comparisons, notes
