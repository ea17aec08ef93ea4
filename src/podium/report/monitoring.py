"""The production-monitoring report: the job summary and podium's one issue per model.

A pure function of what `podium monitor` measured (`.podium/monitor.json`'s content);
the issue is found again by its hidden marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.report.markdown import (
    MAX_ROWS,
    code,
    count,
    delta,
    is_true,
    link,
    more,
    num,
    one_line,
    text,
    version_label,
)
from podium.report.sections import drift_table, shown_path

MARKER = "<!-- podium-monitor: {name} -->"
MONITOR_FILE = ".podium/monitor.json"


def marker(model_name: str) -> str:
    """The hidden marker that identifies podium's monitoring issue for one model."""
    return MARKER.format(name=model_name)


def title(result: Mapping[str, Any]) -> str:
    """The issue title: healthy, or what crossed a threshold."""
    name = one_line(result["model_name"], 100)
    version = version_label(result["champion_version"], plain=True)
    if is_true(result.get("passed")):
        return f"podium monitor · {name}: champion {version} looks healthy"
    kinds = []
    if any("drift" in a or "PSI" in a for a in result.get("alerts") or []):
        kinds.append("data drift")
    if any(c.get("alert") for c in result.get("metrics") or []):
        kinds.append("degraded metrics")
    what = " and ".join(kinds) or "thresholds crossed"
    return f"podium monitor · {name}: {what} on champion {version}"


def render(result: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> str:
    """The monitoring report (hidden marker first) for the job summary and the issue."""
    context = context or {}
    name = str(result["model_name"])
    passed = is_true(result.get("passed"))
    icon = "✅" if passed else "🚨"
    lines = [marker(name), f"### {icon} {text(title(result))}", ""]
    if passed:
        lines.append("**Healthy** — no monitoring threshold is crossed.")
    else:
        action = (
            "retraining requested (`repository_dispatch: data-updated`)"
            if result.get("dispatched")
            else "retrain the model"
        )
        found = list(result.get("alerts") or [])
        alerts = "; ".join(text(a) for a in found[:MAX_ROWS])
        if len(found) > MAX_ROWS:
            alerts += f"; … and {len(found) - MAX_ROWS:,} more"
        lines.append(f"**Needs attention** — {alerts}. Next: {action}.")
    data = result.get("data") or {}
    rows = count(result.get("rows"))
    labelled = count(result.get("labelled_rows"))
    outcome = f", {labelled:,} with outcomes" if labelled else ", no outcomes"
    shown = shown_path(data.get("path", "?"), context.get("root"))
    lines += [
        "",
        f"Production data: {code(shown)} — {rows:,} rows{outcome} · "
        f"checked {text(result.get('checked_at', ''))}.",
    ]
    notes = list(result.get("notes") or [])
    for note in notes[:MAX_ROWS]:
        lines += ["", f"_{text(note)}_"]
    lines += more(min(len(notes), MAX_ROWS), len(notes), "note", MONITOR_FILE)
    comparisons = list(result.get("metrics") or [])
    if comparisons:
        allowed = num(result.get("max_metric_drop"))
        lines += [
            "",
            "| metric | champion at evaluation | production | worse by | allowed | |",
            "|---|---:|---:|---:|---:|:-:|",
        ]
        for row in comparisons[:MAX_ROWS]:
            mark = "🚨" if row.get("alert") else ("✅" if row.get("drop") is not None else "")
            lines.append(
                f"| {text(row['metric'])} | {num(row.get('champion'))} "
                f"| {num(row.get('live'))} | {delta(row.get('drop'))} "
                f"| {allowed} | {mark} |"
            )
        lines += more(min(len(comparisons), MAX_ROWS), len(comparisons), "metric", MONITOR_FILE)
    drift = result.get("drift")
    if isinstance(drift, Mapping):
        lines += ["", *drift_table(drift, where=MONITOR_FILE)]
    footer = []
    if context.get("run_url"):
        footer.append(link("workflow run", context["run_url"]))
    footer.append(f"podium {text(context.get('podium_version', ''))}".strip())
    lines += ["", "<sub>" + " · ".join(footer) + "</sub>"]
    return "\n".join(lines).rstrip() + "\n"
