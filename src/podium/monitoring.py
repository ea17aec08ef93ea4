"""Production monitoring: the decision and the report (pure functions, no I/O).

`assess` weighs what `podium monitor` measured on recent production data — feature
drift against the champion's training profile and, when outcomes are known, live
metrics against the champion's evaluation metrics — against the `monitor:` thresholds.
`render` turns the result into the markdown of the job summary and of podium's one
monitoring issue per model (found again by its hidden marker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from podium import report
from podium.metrics import METRICS, improvement

MARKER = "<!-- podium-monitor: {name} -->"
TOLERANCE = 1e-12


def marker(model_name: str) -> str:
    return MARKER.format(name=model_name)


def assess(
    *,
    drift: Mapping[str, Any] | None,
    live: Mapping[str, float],
    reference: Mapping[str, float],
    labelled_rows: int,
    metrics: Sequence[str],
    max_drifted_share: float | None,
    max_psi: float | None,
    max_metric_drop: float,
    min_labelled_rows: int,
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """(alerts, metric comparisons, notes): an empty alert list means healthy."""
    alerts: list[str] = []
    notes: list[str] = []
    if drift is not None:
        features = list(drift.get("features") or [])
        drifted = [f for f in features if f.get("drifted")]
        share = len(drifted) / len(features) if features else 0.0
        if max_drifted_share is not None and share > max_drifted_share + TOLERANCE:
            names = ", ".join(str(f["feature"]) for f in drifted[:5])
            alerts.append(
                f"{len(drifted)} of {len(features)} features drifted ({names}): share "
                f"{share:.0%} is above monitor.max_drifted_share {max_drifted_share:g}"
            )
        over = [f for f in features if max_psi is not None and f.get("psi", 0) > max_psi]
        if over:
            worst = max(over, key=lambda f: float(f["psi"]))
            alerts.append(
                f"{worst['feature']} PSI {float(worst['psi']):.2f} is above monitor.max_psi "
                f"{max_psi:g}" + (f" (and {len(over) - 1} more)" if len(over) > 1 else "")
            )
    comparisons: list[dict[str, Any]] = []
    if labelled_rows and labelled_rows < min_labelled_rows:
        notes.append(
            f"only {labelled_rows} rows have outcomes (monitor.min_labelled_rows is "
            f"{min_labelled_rows}): live metrics shown, not judged"
        )
    for name in metrics if labelled_rows else []:
        value, before = live.get(name), reference.get(name)
        row: dict[str, Any] = {"metric": name, "live": value, "champion": before}
        if value is None or before is None or value != value or before != before:
            row.update(drop=None, alert=False)
            if before is None:
                notes.append(f"the champion has no recorded evaluation {name} to compare with")
            comparisons.append(row)
            continue
        drop = -improvement(name, value, before)  # positive: worse than at evaluation
        judged = labelled_rows >= min_labelled_rows
        alert = judged and drop > max_metric_drop + TOLERANCE
        row.update(drop=drop, alert=alert)
        comparisons.append(row)
        if alert:
            better = "higher" if METRICS[name].higher_is_better else "lower"
            alerts.append(
                f"{name} {value:.4g} on {labelled_rows:,} labelled production rows is "
                f"{drop:.4g} worse than at the champion's evaluation ({before:.4g}; {better} is "
                f"better; monitor.max_metric_drop {max_metric_drop:g})"
            )
    return alerts, comparisons, notes


def title(result: Mapping[str, Any]) -> str:
    name, version = result["model_name"], result["champion_version"]
    if result.get("passed"):
        return f"podium monitor · {name}: champion v{version} looks healthy"
    kinds = []
    if any("drift" in a or "PSI" in a for a in result.get("alerts") or []):
        kinds.append("data drift")
    if any(c.get("alert") for c in result.get("metrics") or []):
        kinds.append("degraded metrics")
    what = " and ".join(kinds) or "thresholds crossed"
    return f"podium monitor · {name}: {what} on champion v{version}"


def render(result: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> str:
    """The monitoring report (hidden marker first) for the job summary and the issue."""
    context = context or {}
    name = str(result["model_name"])
    passed = bool(result.get("passed"))
    icon = "✅" if passed else "🚨"
    lines = [marker(name), f"### {icon} {report._text(title(result))}", ""]
    if passed:
        lines.append("**Healthy** — no monitoring threshold is crossed.")
    else:
        action = (
            "retraining requested (`repository_dispatch: data-updated`)"
            if result.get("dispatched")
            else "retrain the model"
        )
        alerts = "; ".join(report._text(a) for a in result.get("alerts") or [])
        lines.append(f"**Needs attention** — {alerts}. Next: {action}.")
    data = result.get("data") or {}
    rows = int(result.get("rows") or 0)
    labelled = int(result.get("labelled_rows") or 0)
    outcome = f", {labelled:,} with outcomes" if labelled else ", no outcomes"
    shown = report._shown_path(data.get("path", "?"), context.get("root"))
    lines += [
        "",
        f"Production data: {report._code(shown)} — {rows:,} rows{outcome} · "
        f"checked {report._text(result.get('checked_at', ''))}.",
    ]
    for note in result.get("notes") or []:
        lines += ["", f"_{report._text(note)}_"]
    comparisons = result.get("metrics") or []
    if comparisons:
        allowed = report._num(result.get("max_metric_drop"))
        lines += [
            "",
            "| metric | champion at evaluation | production | worse by | allowed | |",
            "|---|---:|---:|---:|---:|:-:|",
        ]
        for row in comparisons:
            mark = "🚨" if row.get("alert") else ("✅" if row.get("drop") is not None else "")
            lines.append(
                f"| {report._text(row['metric'])} | {report._num(row.get('champion'))} "
                f"| {report._num(row.get('live'))} | {report._delta(row.get('drop'))} "
                f"| {allowed} | {mark} |"
            )
    drift = result.get("drift")
    if isinstance(drift, Mapping):
        lines += ["", *report._drift(drift)]
    footer = []
    if context.get("run_url"):
        footer.append(f"[workflow run]({context['run_url']})")
    footer.append(f"podium {report._text(context.get('podium_version', ''))}".strip())
    lines += ["", "<sub>" + " · ".join(footer) + "</sub>"]
    return "\n".join(lines).rstrip() + "\n"
