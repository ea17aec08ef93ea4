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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from podium.metrics import METRICS, improvement

# Differences smaller than this are float noise (e.g. 0.1 + 0.2 - 0.3), not regressions.
TOLERANCE = 1e-12


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
class Check:
    """One gate applied to one metric."""

    metric: str
    challenger: float | None
    champion: float | None
    delta: float | None  # challenger - champion, raw (not direction-adjusted)
    bound: str  # human-readable, e.g. "≥ 0.8 and Δ ≥ -0.005"
    passed: bool
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why the delta was not applied


@dataclass(frozen=True)
class Verdict:
    passed: bool
    checks: list[Check]
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
    if gate.min_delta is not None:
        word = "no worse than" if gate.min_delta < 0 else "better by at least"
        parts.append(f"Δ {word} {abs(gate.min_delta):g}" if gate.min_delta else "no regression")
    return " and ".join(parts)


def check(gate: GateSpec, challenger: float | None, champion: float | None) -> Check:
    """Apply one gate to the challenger's (and champion's) value of its metric."""
    reasons: list[str] = []
    name = gate.metric
    if not _finite(challenger):
        reasons.append(f"{name} of the challenger could not be computed")
        return Check(name, challenger, champion, None, _describe(gate), False, reasons)
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
                better = "higher" if METRICS[name].higher_is_better else "lower"
                reasons.append(
                    f"{name} changed by {delta:+.4g} against the champion "
                    f"({better} is better; required improvement ≥ {gate.min_delta:+g})"
                )
    notes: list[str] = []
    if gate.min_delta is not None and delta is None:
        whose = "no champion" if champion is None else "the champion's value could not be computed"
        notes.append(f"Δ not applied to {name}: {whose}; absolute bounds alone decide")
    return Check(name, challenger, champion, delta, _describe(gate), not reasons, reasons, notes)


def decide(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    gates: Sequence[GateSpec],
) -> Verdict:
    """Judge the challenger against the champion (None when there is none yet)."""
    checks = [
        check(gate, challenger.get(gate.metric), (champion or {}).get(gate.metric))
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
