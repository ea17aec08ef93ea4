"""The report's "Slices" section: both models on every slice, worst first (pure, no I/O).

Collapsed when every slice gate passes, open when one fails. Slice labels carry values
from the data (a fork's pull request can choose them), so each goes through `code`, and
the table is cut at `MAX_ROWS` slices — all of them stay in `.podium/evaluation.json` —
so that hundreds of slices still fit in one GitHub comment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.report.markdown import (
    MAX_ROWS,
    Section,
    as_float,
    code,
    delta,
    details,
    finite,
    more,
    num,
    plural,
    text,
)
from podium.report.sections import metric_label

if TYPE_CHECKING:
    from podium.results import Evaluation, SliceGap, SliceResult, Slices

EVALUATION_FILE = ".podium/evaluation.json"
MAX_METRICS = 3  # metric columns in the slice table


def slice_sections(evaluation: Evaluation) -> list[Section]:
    """The "Slices" section, or nothing when podium.yaml has no `slices:`."""
    found = evaluation.slices
    if found is None:
        return []
    gated = [s for s in found.slices if s.passed is not None]
    failed = [s for s in gated if s.passed is not True]
    gaps_failed = [g for g in found.gaps if g.passed is not True]
    passed = found.passed is True
    mark = "✅" if passed else "❌"
    what = (
        f"{len(failed)} of {plural(len(gated), 'gated slice')} failed"
        if gated
        else "no per-slice gate"
    )
    if found.gaps:
        what += f", {len(gaps_failed)} of {plural(len(found.gaps), 'slice gap')} too wide"
    summary = (
        f"Slices {mark} {what} · {plural(len(found.slices), 'slice')} of "
        f"{', '.join(text(s) for s in found.slicings)}"
    )
    body = _body(found, evaluation.champion is not None)
    if passed:
        return [Section("slices", "\n".join(details(summary, body)), optional=True)]
    # A failing slice is the news of the report: open, and kept when space is short.
    return [Section("slices", "\n".join([f"**{summary}**", "", *body]), optional=False)]


def _body(found: Slices, with_champion: bool) -> list[str]:
    lines = [f"_{text(found.guard)}._"] if found.guard else []
    if found.computed:  # engine: spark — exact per-slice metrics, bootstrap on a sample
        lines += ["", f"_{text(found.computed)}._"]
    if found.gaps:
        lines += ["", *_gap_table(found.gaps)]
    metrics = list(found.metrics)[:MAX_METRICS]
    if metrics:
        lines += ["", *_slice_table(found, metrics, with_champion)]
    return lines


def _gap_table(gaps: list[SliceGap]) -> list[str]:
    lines = [
        "| metric | across | best slice | worst slice | gap | champion's gap | gate | |",
        "|---|---|---|---|---:|---:|---|:-:|",
    ]
    for g in gaps[:MAX_ROWS]:
        gap = num(g.gap) + (f" (ratio {num(g.ratio)})" if finite(g.ratio) else "")
        lines.append(
            f"| {metric_label(g.metric)} | {text(g.slicing)} | {code(g.best)} | {code(g.worst)} "
            f"| {gap} | {num(g.champion_gap)} | {text(g.bound)} "
            f"| {'✅' if g.passed is True else '❌'} |"
        )
    return lines + more(min(len(gaps), MAX_ROWS), len(gaps), "slice gap", EVALUATION_FILE)


def _slice_table(found: Slices, metrics: list[str], with_champion: bool) -> list[str]:
    head = "| slice | rows |"
    rule = "|---|---:|"
    level = next((iv.confidence for s in found.slices for iv in s.intervals.values()), None)
    change = f"Δ ({as_float(level):.0%} CI)" if finite(level) else "Δ"
    for name in metrics:
        label = metric_label(name)
        if with_champion:
            head += f" {label} champion | {label} challenger | {change} |"
            rule += "---:|---:|---:|"
        else:
            head += f" {label} |"
            rule += "---:|"
    lines = [head + " gate |", rule + ":-:|"]
    shown = found.slices[:MAX_ROWS]
    for s in shown:
        sampled = f" ({s.sample_rows:,})" if s.sample_rows is not None else ""
        row = f"| {code(s.slice)} | {s.rows:,}{sampled} |"
        for name in metrics:
            row += _cells(s, name, with_champion)
        mark = "—" if s.passed is None else ("✅" if s.passed else "❌")
        lines.append(f"{row} {mark} |")
    return lines + more(len(shown), len(found.slices), "slice", EVALUATION_FILE)


def _cells(s: SliceResult, name: str, with_champion: bool) -> str:
    now = s.challenger.get(name)
    if not with_champion:
        return f" {num(now)} |"
    before = (s.champion or {}).get(name)
    change = as_float(now) - as_float(before) if finite(now) and finite(before) else None
    shown = delta(change)
    interval = s.intervals.get(name)
    if change is not None and interval is not None and finite(interval.low):
        shown += f" ({delta(interval.low)} … {delta(interval.high)})"
    return f" {num(before)} | {num(now)} | {shown} |"
