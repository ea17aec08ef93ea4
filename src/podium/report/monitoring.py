"""The production-monitoring report: the job summary and podium's one issue per model.

A pure function of what `podium monitor` measured (`results.Monitor`, `.podium/monitor.json`);
the issue is found again by its hidden marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from podium.report.markdown import (
    MAX_ROWS,
    code,
    delta,
    link,
    more,
    num,
    one_line,
    text,
    version_label,
)
from podium.report.sections import drift_table, shown_path

if TYPE_CHECKING:
    from podium.results import Monitor

MARKER = "<!-- podium-monitor: {name} -->"
MONITOR_FILE = ".podium/monitor.json"


def marker(model_name: str) -> str:
    """The hidden marker that identifies podium's monitoring issue for one model."""
    return MARKER.format(name=model_name)


def title(result: Monitor) -> str:
    """The issue title: healthy, or what crossed a threshold."""
    name = one_line(result.model_name, 100)
    version = version_label(result.champion_version, plain=True)
    if result.passed is True:
        return f"podium monitor · {name}: champion {version} looks healthy"
    kinds = []
    if any("drift" in a or "PSI" in a for a in result.alerts):
        kinds.append("data drift")
    if any(c.alert for c in result.metrics):
        kinds.append("degraded metrics")
    what = " and ".join(kinds) or "thresholds crossed"
    return f"podium monitor · {name}: {what} on champion {version}"


def render(result: Monitor, context: Mapping[str, Any] | None = None) -> str:
    """The monitoring report (hidden marker first) for the job summary and the issue."""
    context = context or {}
    name = result.model_name
    passed = result.passed is True
    icon = "✅" if passed else "🚨"
    lines = [marker(name), f"### {icon} {text(title(result))}", ""]
    if passed:
        lines.append("**Healthy** — no monitoring threshold is crossed.")
    else:
        action = (
            "retraining requested (the promote workflow was started)"
            if result.dispatched
            else "retrain the model"
        )
        found = list(result.alerts)
        alerts = "; ".join(text(a) for a in found[:MAX_ROWS])
        if len(found) > MAX_ROWS:
            alerts += f"; … and {len(found) - MAX_ROWS:,} more"
        lines.append(f"**Needs attention** — {alerts}. Next: {action}.")
    rows = result.rows
    labelled = result.labelled_rows
    outcome = f", {labelled:,} with outcomes" if labelled else ", no outcomes"
    shown = shown_path(result.data.path, context.get("root"))
    lines += [
        "",
        f"Production data: {code(shown)} — {rows:,} rows{outcome} · "
        f"checked {text(result.checked_at)}.",
    ]
    notes = list(result.notes)
    for note in notes[:MAX_ROWS]:
        lines += ["", f"_{text(note)}_"]
    lines += more(min(len(notes), MAX_ROWS), len(notes), "note", MONITOR_FILE)
    comparisons = list(result.metrics)
    if comparisons:
        allowed = (
            f"{result.max_metric_drop:.0%} of it"
            if result.metric_drop == "relative"
            else num(result.max_metric_drop)
        )
        lines += [
            "",
            "| metric | champion at evaluation | production | worse by | allowed | |",
            "|---|---:|---:|---:|---:|:-:|",
        ]
        for row in comparisons[:MAX_ROWS]:
            mark = "🚨" if row.alert else ("✅" if row.drop is not None else "")
            lines.append(
                f"| {text(row.metric)} | {num(row.champion)} "
                f"| {num(row.live)} | {delta(row.drop)} "
                f"| {allowed} | {mark} |"
            )
        lines += more(min(len(comparisons), MAX_ROWS), len(comparisons), "metric", MONITOR_FILE)
    if result.drift is not None:
        lines += ["", *drift_table(result.drift, where=MONITOR_FILE)]
    footer = []
    if context.get("run_url"):
        footer.append(link("workflow run", context["run_url"]))
    footer.append(f"podium {text(context.get('podium_version', ''))}".strip())
    lines += ["", "<sub>" + " · ".join(footer) + "</sub>"]
    return "\n".join(lines).rstrip() + "\n"
