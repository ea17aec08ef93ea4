"""Slices: champion and challenger judged on parts of the evaluation data, not only the whole.

A challenger that is better on average can be much worse for one region, plan or age
group. `slices:` in podium.yaml names how to cut the evaluation rows:

- a column by name (`region`): one slice per value (missing values are one slice);
- a numeric column with bins (`{column: age, bins: [0, 30, 50, 120]}`): left-closed
  intervals, the last one closed on both ends; rows outside the bins are bad input;
- a list of those (`[region, plan]`): the crossed slices, one per combination present.

A slicing column need not be a feature: a sensitive attribute listed in `data.exclude`
is still read from the evaluation data for slicing, and never given to the model.

Per slice podium scores both models on the same rows (every metric `score_outputs`
computes), counts the rows, and draws the paired bootstrap of challenger − champion for
the gated metrics. Gates over slices (`per_slice`, `max_slice_gap`, `min_slice_ratio`,
`slice_gap_not_wider`) apply only to slices with at least `slices_min_rows` rows; smaller
slices are shown, never gated.

Many slices are many tests: with 50 slices, two or three cross a point-estimate bound
by chance. A gate with `significant: true` therefore fails a slice on its `min_delta`
only when the regression beyond it is significant *family-wise*: one-sided p-values from
the bootstrap standard error, Holm's step-down correction over the gated slices at
1 − confidence (5%). Without `significant`, slices are judged on point estimates (the
report says so).

`judge` is pure; `evaluate_slices` gathers the cells and scores (numpy/pandas, lazily).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, field_validator, model_validator

from podium.errors import DataError, closest
from podium.scoring import BOOTSTRAPPED, METRICS, TOLERANCE, improvement

if TYPE_CHECKING:
    import pandas as pd

    from podium.results import Slices
    from podium.scoring import Outputs

# A slicing that cuts the evaluation data into more cells than this is a mistake (an id
# column, a float without bins, a cross of wide columns): refused before any scoring.
MAX_CELLS = 1000
MAX_SLICES = 10_000  # over all slicings: what one evaluation file holds
MAX_FAILURES = 1000  # failure reasons kept in the file (worst first; the count is kept too)
MISSING = "(missing)"
HIDDEN_ORDER = "\x1e"  # separates a bin's sort number from its label
CONFIDENCE = 0.95  # family-wise level of the per-slice significance test: 1 − 0.95


# ------------------------------------------------------------------------ podium.yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Binned(_Strict):
    """A numeric column cut at `bins` (increasing edges): [b0, b1), [b1, b2), …, [bk-1, bk]."""

    column: str = Field(min_length=1)
    bins: list[FiniteFloat] = Field(min_length=2)

    @field_validator("bins")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError(f"bins must increase strictly, e.g. [0, 30, 50, 120] (got {value})")
        return value


SliceColumn = str | Binned
# A crossed slicing names at least one column (`[]` would cut by nothing).
SliceSpec = SliceColumn | Annotated[list[SliceColumn], Field(min_length=1)]


class PerSlice(_Strict):
    """Bounds applied to every slice with enough rows (as a gate's, on the slice)."""

    min: FiniteFloat | None = None
    max: FiniteFloat | None = None
    min_delta: FiniteFloat | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> PerSlice:
        if self.min is None and self.max is None and self.min_delta is None:
            raise ValueError("per_slice needs at least one of min, max, min_delta")
        return self


def columns_of(spec: SliceSpec) -> list[SliceColumn]:
    """The columns one `slices:` entry cuts by (one, or several when crossed)."""
    return list(spec) if isinstance(spec, list) else [spec]


def name_of(spec: SliceSpec) -> str:
    """'region', 'age', 'region × plan' — how the report names a slicing."""
    return " × ".join(c if isinstance(c, str) else c.column for c in columns_of(spec))


class SliceGate(Protocol):
    """What slices read from a gate (`podium.config.Gate`)."""

    @property
    def metric(self) -> str: ...
    @property
    def significant(self) -> bool: ...
    @property
    def per_slice(self) -> PerSlice | None: ...
    @property
    def max_slice_gap(self) -> float | None: ...
    @property
    def min_slice_ratio(self) -> float | None: ...
    @property
    def slice_gap_not_wider(self) -> bool: ...


def is_slice_gate(gate: SliceGate) -> bool:
    return (
        gate.per_slice is not None
        or gate.max_slice_gap is not None
        or gate.min_slice_ratio is not None
    )


# ------------------------------------------------------------------------ the cells


@dataclass(frozen=True)
class Cell:
    """One slice: which rows (positions in the evaluation rows) and what they share."""

    slicing: str
    label: str  # 'region=south, plan=yearly'
    rows: Any  # np.ndarray of positions


def cells(frame: pd.DataFrame, specs: Sequence[SliceSpec], *, where: str) -> list[Cell]:
    """Every slice of every `slices:` entry; DataError (exit 2) names the entry and the fix.

    `frame` holds the evaluation rows in the order the models scored them; `where` is
    the config file the entries come from.
    """
    import numpy as np

    found: list[Cell] = []
    for index, spec in enumerate(specs):
        key = f"{where}: slices[{index}]"
        keys = [_key_column(frame, column, key) for column in columns_of(spec)]
        names = [c if isinstance(c, str) else c.column for c in columns_of(spec)]
        combined = keys[0]
        for more in keys[1:]:
            combined = combined + "\x1f" + more
        codes, uniques = combined.factorize(sort=True)
        if len(uniques) > MAX_CELLS:
            raise DataError(
                f"{key} ({name_of(spec)}) cuts the evaluation data into {len(uniques):,} "
                f"slices (at most {MAX_CELLS:,}); slice by fewer or coarser columns "
                "(give numeric columns bins: {column: …, bins: [...]})"
            )
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        for code, value in enumerate(uniques):
            rows = order[bounds[code] : bounds[code + 1]]
            found.append(Cell(name_of(spec), label_of(names, str(value)), rows))
        if len(found) > MAX_SLICES:
            raise DataError(
                f"{key}: the slicings up to here make {len(found):,} slices (at most "
                f"{MAX_SLICES:,} in all); remove or coarsen some of them"
            )
    return found


def label_of(names: Sequence[str], value: str) -> str:
    """'region=south, plan=yearly' from a slice's key (its parts joined by \\x1f, a bin's
    sort number hidden before \\x1e)."""
    parts = [_short(p.split(HIDDEN_ORDER)[-1]) for p in value.split("\x1f")]
    return ", ".join(f"{n}={v}" for n, v in zip(names, parts, strict=True))


def bin_names(edges: Sequence[float]) -> list[str]:
    """How the report names each bin: '[0, 30)', …, '[50, 120]' (the last closed)."""
    return [
        f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == len(edges) - 2 else ')'}"
        for i in range(len(edges) - 1)
    ]


def _key_column(frame: pd.DataFrame, column: SliceColumn, key: str) -> pd.Series:
    """The column as slice labels (strings), binned if asked; bad input is DataError."""
    import numpy as np
    import pandas as pd

    name = column if isinstance(column, str) else column.column
    if name not in frame.columns:
        hint = closest(name, [str(c) for c in frame.columns])
        did_you = f" (did you mean '{hint}'?)" if hint else ""
        raise DataError(
            f"{key}: column '{name}' is not in the evaluation data{did_you}; "
            "fix slices in podium.yaml"
        )
    series = frame[name]
    if isinstance(column, str):
        labels = series.astype(str)
        return labels.where(series.notna(), MISSING).reset_index(drop=True)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & numbers.isna()
    if bad.any():
        raise DataError(
            f"{key}: column '{name}' has non-numeric values (e.g. {series[bad].iloc[0]!r}), "
            f"so it cannot be binned; slice it by name instead (slices: [..., {name}])"
        )
    edges = column.bins
    present = numbers.dropna()
    outside = present[(present < edges[0]) | (present > edges[-1])]
    if len(outside):
        raise DataError(
            f"{key}: {len(outside):,} evaluation rows of '{name}' fall outside the bins "
            f"{describe_edges(edges)} (values from {present.min():g} to {present.max():g}); "
            "widen the first or last bin edge"
        )
    position = np.searchsorted(np.asarray(edges), numbers.to_numpy(), side="right") - 1
    position = np.clip(position, 0, len(edges) - 2)  # the top edge belongs to the last bin
    names = bin_names(edges)
    # Numbered so that sorting keeps the bins in order; the number is not shown.
    labels = pd.Series([f"{i:04d}{HIDDEN_ORDER}{names[i]}" for i in position], dtype=object)
    return labels.where(numbers.notna().to_numpy(), f"9999{HIDDEN_ORDER}{MISSING}")


def _short(value: str, limit: int = 100) -> str:
    """A value from the data as a label part: bounded, whatever the data holds."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def describe_edges(edges: Sequence[float]) -> str:
    return "[" + ", ".join(f"{e:g}" for e in edges) + "]"


# ------------------------------------------------------------------------ scoring


@dataclass
class SliceScore:
    """Both models on one slice, in memory (`results.SliceResult` once judged)."""

    slicing: str
    label: str
    rows: int
    challenger: dict[str, float]
    champion: dict[str, float] | None
    intervals: dict[str, Any] = field(default_factory=dict)  # metric -> Interval
    spread: dict[str, float] = field(default_factory=dict)  # metric -> bootstrap std. error
    sample_rows: int | None = None  # engine: spark — the slice's rows in the bootstrap sample


def _subset(outputs: Outputs, rows: Any) -> Outputs:
    import numpy as np

    from podium.scoring import Outputs

    def take(value: Any) -> Any:
        return None if value is None else np.asarray(value)[rows]

    return Outputs(
        predicted=take(outputs.predicted),
        proba=take(outputs.proba),
        decision=take(outputs.decision),
        classes=outputs.classes,
    )


def score_cells(
    found: Sequence[Cell],
    *,
    task: str,
    target: Any,
    challenger: Outputs,
    champion: Outputs | None,
    bootstrapped: Sequence[str],
) -> list[SliceScore]:
    """Every metric of both models on every slice, and the paired bootstrap of the
    `bootstrapped` metrics (intervals and standard errors) where there is a champion."""
    import numpy as np

    from podium.scoring import score_outputs
    from podium.significance import percentile_interval, resampled_deltas

    y = target.reset_index(drop=True)
    scores = []
    for cell in found:
        rows = cell.rows
        truth = y.iloc[rows]
        chal_out = _subset(challenger, rows)
        champ_out = _subset(champion, rows) if champion is not None else None
        score = SliceScore(
            cell.slicing,
            cell.label,
            len(rows),
            _quiet_score(score_outputs, chal_out, truth, task),
            _quiet_score(score_outputs, champ_out, truth, task) if champ_out else None,
        )
        if champ_out is not None and bootstrapped and len(rows) >= 2:
            drawn = resampled_deltas(
                bootstrapped,
                task=task,
                target=truth.to_numpy(),
                challenger=chal_out,
                champion=champ_out,
            )
            for metric, values in drawn.deltas.items():
                interval = percentile_interval(values, rows=len(rows), method=drawn.method)
                if not isinstance(interval, str):
                    score.intervals[metric] = interval
                    score.spread[metric] = float(np.nanstd(values))
        scores.append(score)
    return scores


def _quiet_score(scorer: Any, outputs: Outputs, truth: Any, task: str) -> dict[str, float]:
    """Metrics of one slice, as `score_outputs` computes them on the whole set.

    Label metrics of a classifier are counted here (sklearn's per-call validation costs
    more than the metric on a slice: 60 ms × hundreds of slices); sklearn's warnings about
    one-class slices are expected and silenced.
    """
    import warnings

    from podium.scoring import probability_metrics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "classification":
            counted = label_metrics(truth, outputs.predicted)
            scored = score_metrics(outputs, truth)
            if counted is not None and scored is not None:
                return counted | scored
            if counted is not None:
                return counted | probability_metrics(outputs, truth)
        found: dict[str, float] = scorer(outputs, truth, task)
    return found


def score_metrics(outputs: Outputs, truth: Any) -> dict[str, float] | None:
    """Binary ROC AUC (Mann–Whitney, ties count one half) and log loss, exactly as
    sklearn's; None for anything else (multiclass, decision functions, unknown labels)."""
    import numpy as np
    from scipy.stats import rankdata

    classes = list(outputs.classes or [])
    proba = outputs.proba
    if proba is None or len(classes) != 2:
        return None
    y = np.asarray(truth)
    positive = y == classes[1]
    if not (positive | (y == classes[0])).all() or len(y) == 0:
        return None
    scores = np.asarray(proba, dtype=float)
    eps = np.finfo(scores.dtype).eps
    clipped = np.clip(scores, eps, 1 - eps)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    loss = -float(np.mean(np.log(clipped[np.arange(len(y)), positive.astype(int)])))
    n_pos = int(positive.sum())
    n_neg = len(y) - n_pos
    auc = math.nan
    if n_pos and n_neg:
        ranks = rankdata(scores[:, 1])
        auc = float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return {"roc_auc": auc, "log_loss": loss}


def label_metrics(truth: Any, predicted: Any) -> dict[str, float] | None:
    """Accuracy and macro precision/recall/F1 (zero_division=0) over the labels present in
    either, exactly as sklearn's; None when the labels cannot be sorted together."""
    import numpy as np

    y, p = np.asarray(truth), np.asarray(predicted)
    try:
        labels, codes = np.unique(np.concatenate([y, p]), return_inverse=True)
    except TypeError:  # mixed label types: let sklearn decide
        return None
    n, k = len(y), len(labels)
    if n == 0:
        return None
    true_codes, predicted_codes = codes[:n], codes[n:]
    hit = true_codes == predicted_codes
    tp = np.bincount(true_codes[hit], minlength=k).astype(float)
    n_true = np.bincount(true_codes, minlength=k).astype(float)
    n_predicted = np.bincount(predicted_codes, minlength=k).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_predicted > 0, tp / n_predicted, 0.0)
        recall = np.where(n_true > 0, tp / n_true, 0.0)
        both = n_true + n_predicted
        f1 = np.where(both > 0, 2 * tp / both, 0.0)
    return {
        "accuracy": float(hit.mean()),
        "f1": float(f1.mean()),
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
    }


# ------------------------------------------------------------------------ judging


@dataclass
class Judged:
    """The slice gates' outcome: per-slice failures and the cross-slice checks."""

    failed: dict[int, list[str]] = field(default_factory=dict)  # score index -> reasons
    gated: set[int] = field(default_factory=set)  # score indexes a per-slice gate applied to
    gaps: list[dict[str, Any]] = field(default_factory=list)  # `results.SliceGap` fields
    guard: str = ""

    @property
    def passed(self) -> bool:
        return not self.failed and all(g["passed"] for g in self.gaps)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _where(score: SliceScore) -> str:
    return f"{score.label} (n={score.rows:,})"


def judge(
    scores: Sequence[SliceScore],
    gates: Sequence[SliceGate],
    *,
    min_rows: int,
    confidence: float = CONFIDENCE,
) -> Judged:
    """Apply the slice gates to scored slices (pure)."""
    judged = Judged()
    enough = [i for i, s in enumerate(scores) if s.rows >= min_rows]
    holm_gates = 0
    for gate in gates:
        bounds = gate.per_slice
        if bounds is not None:
            holm_gates += _per_slice(judged, scores, enough, gate, bounds, confidence)
        if gate.max_slice_gap is not None or gate.min_slice_ratio is not None:
            judged.gaps += _gaps(scores, enough, gate)
    judged.guard = _guard(min_rows, holm_gates, confidence, len(enough))
    return judged


def _per_slice(
    judged: Judged,
    scores: Sequence[SliceScore],
    enough: Sequence[int],
    gate: SliceGate,
    bounds: PerSlice,
    confidence: float,
) -> bool:
    """Per-slice bounds of one gate; True when it used the family-wise test."""
    name = gate.metric
    tested: list[tuple[float, int, str]] = []  # (p-value, slice, reason) for Holm
    for i in enumerate_gated(scores, enough, name):
        judged.gated.add(i)
        score = scores[i]
        value = score.challenger[name]
        reasons = []
        if bounds.min is not None and value < bounds.min - TOLERANCE:
            reasons.append(f"{name} {value:.4g} is below the minimum {bounds.min:g} for")
        if bounds.max is not None and value > bounds.max + TOLERANCE:
            reasons.append(f"{name} {value:.4g} is above the maximum {bounds.max:g} for")
        before = (score.champion or {}).get(name)
        if bounds.min_delta is not None and _finite(before):
            assert before is not None
            gain = improvement(name, value, before)
            if gain < bounds.min_delta - TOLERANCE:
                said = (
                    f"{name} regresses by {abs(value - before):.2g} for"
                    if gain < 0
                    else f"{name} improves by only {abs(value - before):.2g} "
                    f"(required {bounds.min_delta:+g}) for"
                )
                spread = score.spread.get(name)
                if not gate.significant:
                    reasons.append(said)
                elif spread is not None and spread > 0:
                    tested.append((_p_value(gain, bounds.min_delta, spread), i, said))
                elif spread == 0.0:  # identical resamples: the regression is certain
                    tested.append((0.0, i, said))
        for reason in reasons:
            judged.failed.setdefault(i, []).append(f"{reason} {_where(score)}")
    if not gate.significant or bounds.min_delta is None:
        return False
    alpha = 1.0 - confidence
    family = sum(1 for i in enumerate_gated(scores, enough, name))
    for rank, (p_value, i, said) in enumerate(sorted(tested)):
        if p_value > alpha / (family - rank):
            break  # Holm: this and every larger p-value are not significant
        judged.failed.setdefault(i, []).append(
            f"{said} {_where(scores[i])}, significantly (Holm-adjusted p "
            f"{min(1.0, p_value * (family - rank)):.2g})"
        )
    return True


def enumerate_gated(scores: Sequence[SliceScore], enough: Sequence[int], metric: str) -> list[int]:
    """Slices with enough rows on which the challenger's `metric` could be computed."""
    return [i for i in enough if _finite(scores[i].challenger.get(metric))]


def _p_value(gain: float, min_delta: float, spread: float) -> float:
    """One-sided p-value of 'the improvement is at least min_delta', from the bootstrap's
    standard error (normal approximation: smooth beyond 1/resamples, which Holm needs)."""
    z = (gain - min_delta) / spread
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _gaps(
    scores: Sequence[SliceScore], enough: Sequence[int], gate: SliceGate
) -> list[dict[str, Any]]:
    """Best minus worst slice (and worst / best) of the challenger, per slicing."""
    name = gate.metric
    higher = METRICS[name].higher_is_better
    by_slicing: dict[str, list[SliceScore]] = {}
    for i in enumerate_gated(scores, enough, name):
        by_slicing.setdefault(scores[i].slicing, []).append(scores[i])
    checks = []
    for slicing, members in by_slicing.items():
        if len(members) < 2:
            continue
        values = [(s.challenger[name], s) for s in members]
        low = min(values, key=lambda pair: pair[0])
        high = max(values, key=lambda pair: pair[0])
        best, worst = (high, low) if higher else (low, high)
        gap = high[0] - low[0]
        ratio = low[0] / high[0] if high[0] > 0 and low[0] >= 0 else None
        champ = [s.champion[name] for s in members if s.champion and _finite(s.champion.get(name))]
        champ_gap = max(champ) - min(champ) if len(champ) == len(members) else None
        champ_ratio = min(champ) / max(champ) if champ_gap is not None and max(champ) > 0 else None
        reasons: list[str] = []
        notes: list[str] = []
        bound = []
        between = (
            f"across {slicing}: {best[1].label} {best[0]:.3g} vs {worst[1].label} {worst[0]:.3g}"
        )
        if gate.max_slice_gap is not None:
            bound.append(f"gap ≤ {gate.max_slice_gap:g}")
            if gap > gate.max_slice_gap + TOLERANCE:
                reasons.append(
                    f"{name} differs by {gap:.3g} {between} (allowed: at most "
                    f"{gate.max_slice_gap:g})"
                )
        if gate.min_slice_ratio is not None:
            bound.append(f"worst / best ≥ {gate.min_slice_ratio:g}")
            if ratio is None or ratio < gate.min_slice_ratio - TOLERANCE:
                shown = f"{ratio:.3g}" if ratio is not None else "undefined"
                reasons.append(
                    f"{name} worst/best ratio is {shown} {between} (allowed: at least "
                    f"{gate.min_slice_ratio:g})"
                )
        if gate.slice_gap_not_wider:
            bound.append("not wider than the champion's")
            if champ_gap is None:
                notes.append(f"the champion's {name} gap across {slicing} is not known")
            elif gap > champ_gap + TOLERANCE:
                reasons.append(
                    f"{name} gap {between} is {gap:.3g}, wider than the champion's {champ_gap:.3g}"
                )
        checks.append(
            {
                "metric": name,
                "slicing": slicing,
                "gap": gap,
                "ratio": ratio,
                "champion_gap": champ_gap,
                "champion_ratio": champ_ratio,
                "best": best[1].label,
                "worst": worst[1].label,
                "bound": " and ".join(bound),
                "passed": not reasons,
                "reasons": reasons,
                "notes": notes,
            }
        )
    return checks


def _guard(min_rows: int, holm_gates: int, confidence: float, slices: int) -> str:
    """How podium keeps many slices from raising false alarms (said in the report)."""
    small = f"slices under {min_rows:,} rows are shown, never gated"
    if holm_gates:
        return (
            f"{small}; a slice fails its Δ bound only when the regression is significant at "
            f"{1 - confidence:.0%} family-wise (Holm over the {slices:,} gated slices, "
            "bootstrap standard errors)"
        )
    return (
        f"{small}; per-slice bounds judge point estimates (add significant: true to the gate "
        "to fail a slice only on a significant regression, Holm-corrected across slices)"
    )


# ------------------------------------------------------------------------ the stage's part


def evaluate_slices(
    *,
    specs: Sequence[SliceSpec],
    gates: Sequence[SliceGate],
    min_rows: int,
    frame: pd.DataFrame,
    task: str,
    target: pd.Series,
    challenger: Outputs,
    champion: Outputs | None,
    where: str,
) -> Slices:
    """Cut, score and judge; the result as written into `.podium/evaluation.json`."""
    started = time.perf_counter()
    aligned = frame.loc[target.index]
    found = cells(aligned, specs, where=where)
    scores = score_cells(
        found,
        task=task,
        target=target,
        challenger=challenger,
        champion=champion,
        bootstrapped=bootstrapped(gates),
    )
    return summarise(scores, specs=specs, gates=gates, min_rows=min_rows, started=started)


def bootstrapped(gates: Sequence[SliceGate]) -> list[str]:
    """The gated metrics whose per-slice bootstrap is drawn (once each, in gate order)."""
    return list(dict.fromkeys(g.metric for g in gates if g.metric in BOOTSTRAPPED))


def summarise(
    scores: Sequence[SliceScore],
    *,
    specs: Sequence[SliceSpec],
    gates: Sequence[SliceGate],
    min_rows: int,
    started: float,
    computed: str = "",
) -> Slices:
    """Judge scored slices; the result as written into `.podium/evaluation.json`
    (`computed`: how an engine computed the numbers, said in the report)."""
    from podium.results import Slices

    gated_metrics = [g.metric for g in gates if g.metric in BOOTSTRAPPED]
    slice_gates = [g for g in gates if is_slice_gate(g)]
    judged = judge(scores, slice_gates, min_rows=min_rows)
    shown = [g.metric for g in slice_gates] or gated_metrics[:1]
    reasons = failures(scores, judged, list(dict.fromkeys(shown)))
    return Slices.model_validate(
        {
            "min_rows": min_rows,
            "slicings": [name_of(s) for s in specs],
            "metrics": list(dict.fromkeys(shown)),
            "slices": _results(scores, judged, list(dict.fromkeys(shown))),
            "gaps": judged.gaps,
            "passed": judged.passed,
            "failures": reasons[:MAX_FAILURES],
            "failed": len(reasons),
            "guard": judged.guard,
            "computed": computed,
            "seconds": time.perf_counter() - started,
        }
    )


def _gain(score: SliceScore, metrics: Sequence[str]) -> float:
    """How much better the challenger is on the slice's first shown metric (sort key)."""
    for name in metrics:
        now, before = score.challenger.get(name), (score.champion or {}).get(name)
        if _finite(now) and _finite(before):
            assert now is not None and before is not None
            return improvement(name, now, before)
    return math.inf


def _order(scores: Sequence[SliceScore], judged: Judged, metrics: Sequence[str]) -> list[int]:
    """Worst first: failing slices, then gated ones, by the challenger's improvement."""
    return sorted(
        range(len(scores)),
        key=lambda i: (i not in judged.failed, i not in judged.gated, _gain(scores[i], metrics)),
    )


def _results(
    scores: Sequence[SliceScore], judged: Judged, metrics: Sequence[str]
) -> list[dict[str, Any]]:
    out = []
    for i in _order(scores, judged, metrics):
        s = scores[i]
        out.append(
            {
                "slicing": s.slicing,
                "slice": s.label,
                "rows": s.rows,
                "challenger": _clean(s.challenger),
                "champion": _clean(s.champion) if s.champion is not None else None,
                "intervals": {m: iv.to_dict() for m, iv in s.intervals.items()},
                "sample_rows": s.sample_rows,
                "passed": (i not in judged.failed) if i in judged.gated else None,
                "reasons": judged.failed.get(i, []),
            }
        )
    return out


def _clean(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if _finite(v) else None) for k, v in metrics.items()}


def failures(scores: Sequence[SliceScore], judged: Judged, metrics: Sequence[str]) -> list[str]:
    """Every failed slice gate as one reason, cross-slice gaps first, then worst slice first."""
    found = [reason for gap in judged.gaps for reason in gap["reasons"]]
    for i in _order(scores, judged, metrics):
        found += judged.failed.get(i, [])
    return found


def summary(reasons: Sequence[str], total: int | None = None, shown: int = 3) -> str:
    """The verdict's words for failed slices: the worst few by name, then how many more
    (`total`: how many there were, when `reasons` holds only the first of them)."""
    total = max(total or 0, len(reasons))
    if total <= shown:
        return "; ".join(reasons)
    return "; ".join(reasons[:shown]) + f"; and {total - shown:,} more slice failures"
