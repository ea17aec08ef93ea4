"""The gate decision: a pure function from metrics and gates to a verdict (no I/O).

Rules
- `min` / `max` are absolute bounds on the challenger's value.
- `min_delta` bounds the improvement over the champion in the metric's better
  direction (`metrics.improvement`): 0 means "must not regress", -0.005 tolerates a
  regression of 0.005, +0.01 demands an improvement of at least 0.01.
- No champion, or a champion that could not be scored on this metric (NaN/missing):
  the delta check does not apply and the absolute bounds alone decide; the check says so.
- A challenger value that is NaN or missing fails every gate on that metric: a number
  that cannot be computed cannot be shown to be good enough.
- `significant: true` (with `min_delta`) asks for more than the point estimate: the
  lower end of the paired bootstrap interval of the improvement must clear `min_delta`
  (strictly), so a lucky split cannot promote a model. No interval, no pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from podium.scoring import METRICS, TOLERANCE, improvement
from podium.significance import Interval, improvement_interval


class GateSpec(Protocol):
    @property
    def metric(self) -> str: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...
    @property
    def min_delta(self) -> float | None: ...


@dataclass(frozen=True)
class GateCheck:
    """One gate applied to one metric."""

    metric: str
    challenger: float | None
    champion: float | None
    delta: float | None  # challenger - champion, raw (not direction-adjusted)
    bound: str  # human-readable, e.g. "≥ 0.8 and Δ ≥ -0.005"
    passed: bool
    reasons: list[str] = field(default_factory=list)
    interval: dict[str, Any] | None = None  # bootstrap CI of challenger - champion (raw)
    notes: list[str] = field(default_factory=list)  # e.g. why the delta was not applied


@dataclass(frozen=True)
class Verdict:
    passed: bool
    checks: list[GateCheck]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value) and not math.isinf(value)


def _describe(gate: GateSpec) -> str:
    parts = []
    if gate.min is not None:
        parts.append(f"≥ {gate.min:g}")
    if gate.max is not None:
        parts.append(f"≤ {gate.max:g}")
    if gate.min_delta is not None and getattr(gate, "significant", False):
        if gate.min_delta == 0:
            parts.append("significant improvement")
        else:
            word = "no worse than" if gate.min_delta < 0 else "better by more than"
            parts.append(f"Δ {word} {abs(gate.min_delta):g}, significantly")
    elif gate.min_delta is not None:
        word = "no worse than" if gate.min_delta < 0 else "better by at least"
        parts.append(f"Δ {word} {abs(gate.min_delta):g}" if gate.min_delta else "no regression")
    return " and ".join(parts)


def check(
    gate: GateSpec,
    challenger: float | None,
    champion: float | None,
    interval: Interval | None = None,
    why_not: str | None = None,
) -> GateCheck:
    """Apply one gate to the challenger's (and champion's) value of its metric.

    `interval` is the bootstrap interval of challenger - champion, when there is one;
    `why_not` why the challenger cannot give this metric, when known.
    """
    reasons: list[str] = []
    name = gate.metric
    shown = interval.to_dict() if interval is not None and _finite(champion) else None
    if not _finite(challenger) and why_not:
        reasons.append(f"{name} of the challenger is not computable: {why_not}")
        return GateCheck(name, challenger, champion, None, _describe(gate), False, reasons, shown)
    if not _finite(challenger):
        reasons.append(f"{name} of the challenger could not be computed")
        return GateCheck(name, challenger, champion, None, _describe(gate), False, reasons, shown)
    assert challenger is not None
    if gate.min is not None and challenger < gate.min - TOLERANCE:
        reasons.append(f"{name} {challenger:.4g} is below the minimum {gate.min:g}")
    if gate.max is not None and challenger > gate.max + TOLERANCE:
        reasons.append(f"{name} {challenger:.4g} is above the maximum {gate.max:g}")
    delta: float | None = None
    if _finite(champion):
        assert champion is not None
        delta = challenger - champion
        if gate.min_delta is not None:
            gain = improvement(name, challenger, champion)
            if gain < gate.min_delta - TOLERANCE:
                better = METRICS[name].direction
                reasons.append(
                    f"{name} changed by {delta:+.4g} against the champion "
                    f"({better} is better; required improvement ≥ {gate.min_delta:+g})"
                )
            elif getattr(gate, "significant", False):
                reasons += _significance(name, gate.min_delta, interval)
    notes: list[str] = []
    if gate.min_delta is not None and delta is None:
        whose = "no champion" if champion is None else "the champion's value could not be computed"
        notes.append(f"Δ not applied to {name}: {whose}; absolute bounds alone decide")
    return GateCheck(
        name, challenger, champion, delta, _describe(gate), not reasons, reasons, shown, notes
    )


def _significance(name: str, min_delta: float, interval: Interval | None) -> list[str]:
    """Why a `significant: true` gate fails (empty when the interval clears min_delta)."""
    if interval is None:
        return [f"the change in {name} has no confidence interval, so it cannot be significant"]
    low, _ = improvement_interval(interval, METRICS[name].higher_is_better)
    if low > min_delta + TOLERANCE:
        return []
    better = METRICS[name].direction
    return [
        f"the change in {name} is not significant: its {interval.confidence:.0%} CI "
        f"({interval.low:+.4g} … {interval.high:+.4g}, {better} is better) does not clear "
        f"{min_delta:+g}"
    ]


def decide(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    gates: Sequence[GateSpec],
    intervals: Mapping[str, Interval] | None = None,
    *,
    unavailable: Mapping[str, str] | None = None,
) -> Verdict:
    """Judge the challenger against the champion (None when there is none yet).

    `intervals`: bootstrap intervals of challenger - champion per metric, if computed;
    `unavailable`: why the challenger cannot give a metric (metric -> reason and fix).
    """
    checks = [
        check(
            gate,
            challenger.get(gate.metric),
            (champion or {}).get(gate.metric),
            (intervals or {}).get(gate.metric),
            (unavailable or {}).get(gate.metric),
        )
        for gate in gates
    ]
    failed = [c for c in checks if not c.passed]
    if failed:
        summary = "; ".join(reason for c in failed for reason in c.reasons)
    elif champion is None:
        summary = "first champion: every absolute bound passes"
    else:
        summary = "every gate passes"
    return Verdict(passed=not failed, checks=checks, summary=summary)
