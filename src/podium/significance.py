"""Is the difference real? A paired bootstrap of challenger − champion (pure, numpy only).

Both models are scored on the *same* resampled evaluation rows, so what they share
(hard rows, easy rows) cancels out and the interval is much tighter than two separate
intervals would suggest. Each resample weighs every row by how often it was drawn;
all metrics are then weighted statistics of per-row quantities:

- accuracy, log loss, MAE: weighted means of a per-row difference;
- RMSE, R², macro precision / recall / F1: functions of a few weighted sums per
  resample (squared errors; per-class true, predicted and true-positive counts), all
  resamples of a chunk at once with one matrix product;
- ROC AUC: the Mann–Whitney statistic from cumulative sums over each model's score
  order (ties count one half), one class at a time for one-vs-rest macro AUC.

Resampling: up to `EXACT_MAX_ROWS` rows the classic bootstrap (n rows drawn with
replacement); above it the Poisson bootstrap (each row weighted by an independent
Poisson(1) count — Hanley & MacGibbon 2006, Chamandy et al. 2012), which agrees with
the classic one to within Monte Carlo error on large data and is several times cheaper
to draw. The interval is the percentile interval of the resampled differences; a
fixed seed makes it reproducible. Latency and model size are measured once, not per
row, so they are not bootstrapped.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from podium.scoring import BOOTSTRAPPED

if TYPE_CHECKING:
    import numpy as np

    from podium.scoring import Outputs

RESAMPLES = 1000
CONFIDENCE = 0.95
SEED = 0
EXACT_MAX_ROWS = 10_000
# Rows × resamples held in memory at once (a chunk of resamples), ~4 MB of counts.
CHUNK_CELLS = 4_000_000
# From this many row-weights on (rows × resamples), chunks are summed on several threads
# (one per core, at most MAX_WORKERS): 50k evaluation rows × 1,000 resamples and up.
PARALLEL_CELLS = 50_000_000
MAX_WORKERS = 4
# Macro precision/recall/F1 use dense per-class indicator columns up to this many cells
# (rows × 5 × classes); beyond it, weighted counting (slower, little memory).
DENSE_MAX_CELLS = 20_000_000
# A metric undefined in more resamples than this share (e.g. AUC when a tiny resample
# has one class only) gets no interval: the rest would be a biased selection.
MAX_UNDEFINED_SHARE = 0.05


@dataclass(frozen=True)
class Interval:
    """Percentile interval of challenger − champion (raw, not direction-adjusted)."""

    low: float
    high: float
    confidence: float
    resamples: int  # resamples in which the metric was defined for both models
    rows: int
    method: str  # "bootstrap" | "poisson-bootstrap"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Bootstrap:
    intervals: dict[str, Interval] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # metric -> why there is no interval


def paired_bootstrap(
    metrics: Sequence[str],
    *,
    task: str,
    target: Any,
    challenger: Outputs,
    champion: Outputs,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = SEED,
) -> Bootstrap:
    """Intervals of challenger − champion for each of `metrics` that can be resampled."""
    drawn = resampled_deltas(
        metrics,
        task=task,
        target=target,
        challenger=challenger,
        champion=champion,
        resamples=resamples,
        seed=seed,
    )
    intervals: dict[str, Interval] = {}
    skipped = dict(drawn.skipped)
    for metric, values in drawn.deltas.items():
        found = percentile_interval(
            values, rows=len(target), method=drawn.method, confidence=confidence
        )
        if isinstance(found, str):
            skipped[metric] = found
        else:
            intervals[metric] = found
    return Bootstrap(intervals, skipped)


@dataclass(frozen=True)
class Resampled:
    """challenger − champion in each resample, per metric (before any interval is taken)."""

    deltas: dict[str, np.ndarray]
    skipped: dict[str, str]
    method: str  # "bootstrap" | "poisson-bootstrap"


def resampled_deltas(
    metrics: Sequence[str],
    *,
    task: str,
    target: Any,
    challenger: Outputs,
    champion: Outputs,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Resampled:
    """The paired bootstrap's draws of challenger − champion for each resampleable metric.

    `paired_bootstrap` turns them into percentile intervals; slices also use their spread
    (a standard error) for a family-wise test across many slices.
    """
    import numpy as np

    y = np.asarray(target)
    n = len(y)
    wanted = list(dict.fromkeys(metrics))
    skipped = {m: "measured once, not per evaluation row" for m in wanted if m not in BOOTSTRAPPED}
    wanted = [m for m in wanted if m in BOOTSTRAPPED]
    exact = n <= EXACT_MAX_ROWS
    method = "bootstrap" if exact else "poisson-bootstrap"
    if n < 2:
        skipped.update({m: f"needs at least 2 evaluation rows (has {n})" for m in wanted})
        return Resampled({}, skipped, method)
    if len(challenger.predicted) != n or len(champion.predicted) != n:
        raise ValueError("challenger, champion and target must cover the same rows")

    resampler = Resampler(wanted, task=task, target=y, challenger=challenger, champion=champion)
    skipped.update(resampler.skipped)
    if not resampler.statistics:
        return Resampled({}, skipped, method)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, CHUNK_CELLS // n))
    deltas = {m: np.empty(resamples) for m in resampler.statistics}

    def draw() -> Iterator[tuple[int, np.ndarray]]:
        # Always drawn here, chunk after chunk: the same weights whoever sums them.
        for start in range(0, resamples, chunk):
            size = min(chunk, resamples - start)
            yield start, _multinomial(rng, size, n) if exact else _poisson(rng, size, n)

    def keep(start: int, found: dict[str, np.ndarray]) -> None:
        for metric, values in found.items():
            deltas[metric][start : start + len(values)] = values

    with _one_blas_thread():
        workers = _workers(n * resamples)
        if workers == 1:
            for start, weights in draw():
                keep(start, resampler.deltas(weights))
        else:
            _in_threads(draw(), resampler.deltas, keep, workers)
    return Resampled(deltas, skipped, method)


def _workers(cells: int) -> int:
    """Threads for `cells` row-weights: one below PARALLEL_CELLS (a thread costs more than
    it saves), else one per core, at least two (the draws overlap the sums), at most
    MAX_WORKERS."""
    import os

    if cells < PARALLEL_CELLS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, min(MAX_WORKERS, cores or 1))


def _in_threads(
    drawn: Iterator[tuple[int, np.ndarray]],
    work: Callable[[np.ndarray], dict[str, np.ndarray]],
    keep: Callable[[int, dict[str, np.ndarray]], None],
    workers: int,
) -> None:
    """`keep(start, work(weights))` for each drawn chunk, `workers` chunks at a time.

    numpy releases the GIL in the gathers, cumulative sums and products that make up the
    work, so chunks run side by side; the draws stay in this thread, in order, and each
    chunk's result lands in its own rows: the same numbers as one thread. At most
    `workers` + 1 chunks of weights are alive at once.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[tuple[int, Future[dict[str, np.ndarray]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="podium-bootstrap") as pool:
        for start, weights in drawn:
            pending.append((start, pool.submit(work, weights)))
            while len(pending) > workers:
                done_start, done = pending.popleft()
                keep(done_start, done.result())
        while pending:
            done_start, done = pending.popleft()
            keep(done_start, done.result())


def percentile_interval(
    values: np.ndarray, *, rows: int, method: str, confidence: float = CONFIDENCE
) -> Interval | str:
    """The percentile interval of resampled differences, or why there is none."""
    import numpy as np

    resamples = len(values)
    defined = values[np.isfinite(values)]
    if len(defined) < (1.0 - MAX_UNDEFINED_SHARE) * resamples:
        share = 1.0 - len(defined) / resamples
        return f"undefined in {share:.0%} of resamples (too few rows of some class)"
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    return Interval(
        low=float(low),
        high=float(high),
        confidence=confidence,
        resamples=len(defined),
        rows=rows,
        method=method,
    )


class Resampler:
    """Per-metric challenger − champion under given row weights (one row of weights per
    resample). Separate from the drawing so that tests can check it against sklearn's
    `sample_weight`."""

    def __init__(
        self,
        metrics: Sequence[str],
        *,
        task: str,
        target: Any,
        challenger: Outputs,
        champion: Outputs,
    ) -> None:
        import numpy as np

        y = np.asarray(target)
        self.statistics: dict[str, _Statistic] = {}
        self.skipped: dict[str, str] = {}
        builder = _Builder(y, task, challenger, champion)
        for metric in metrics:
            try:
                self.statistics[metric] = builder.statistic(metric)
            except _NotApplicable as why:
                self.skipped[metric] = str(why)
        columns = np.column_stack(builder.columns) if builder.columns else np.zeros((len(y), 0))
        # float32 halves the memory traffic and holds integer counts exactly; continuous
        # columns are centred first so that their sums keep ~7 significant digits of
        # the variation that matters (far below the Monte Carlo error of the interval).
        integral = (columns == np.round(columns)).all(axis=0)
        self.centre = np.where(integral, 0.0, columns.mean(axis=0))
        self.columns = (columns - self.centre).astype(np.float32)

    def deltas(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """(resamples, rows) integer weights -> {metric: (resamples,) differences}."""
        import numpy as np

        # Weights are small integers, so float32 holds them (and indicator sums) exactly.
        dense = weights.astype(np.float32)
        # Poisson counts (uint8) sum exactly in 32-bit integers (255 × 2²⁴ < 2³²), ~3x faster.
        exact_in_32_bits = weights.dtype == np.uint8 and weights.shape[1] < 2**24
        total = weights.sum(axis=1, dtype=np.uint32 if exact_in_32_bits else np.float64)
        total = total.astype(np.float64)
        sums = (dense @ self.columns).astype(np.float64) + total[:, None] * self.centre
        return {m: statistic(weights, sums, total) for m, statistic in self.statistics.items()}


# -------------------------------------------------------------------------- resampling


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """The products here are skinny (a few columns): BLAS threads only fight each other,
    and on a busy CI runner they make it 2× slower. threadpoolctl ships with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    limits: contextlib.AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits


def _multinomial(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Classic bootstrap: how often each of n rows is drawn in n draws, per resample."""
    import numpy as np

    drawn = rng.integers(0, n, size=(size, n))
    drawn += (np.arange(size) * n)[:, None]
    counts: np.ndarray = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
    return counts.astype(np.int32)


_POISSON_TABLE: list[np.ndarray] = []


def _poisson(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Poisson(1) counts by table lookup on 16 random bits (probabilities exact to 2⁻¹⁶)."""
    import numpy as np

    if not _POISSON_TABLE:
        cdf = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(30)])
        levels = (np.arange(65536) + 0.5) / 65536
        _POISSON_TABLE.append(np.searchsorted(cdf, levels, side="right").astype(np.uint8))
    cells = size * n
    raw = rng.bit_generator.random_raw((cells + 3) // 4)  # four 16-bit draws per word
    bits = raw.view(np.uint16)[:cells]
    # np.take turns 16-bit indices into a machine-word copy first (8 bytes a cell); a
    # piece at a time, that copy stays in the cache: ~1.5x faster, the same lookups.
    counts = np.empty(cells, dtype=np.uint8)
    for start in range(0, cells, _LOOKUP_PIECE):
        piece = slice(start, start + _LOOKUP_PIECE)
        np.take(_POISSON_TABLE[0], bits[piece], out=counts[piece])
    return counts.reshape(size, n)


_LOOKUP_PIECE = 65_536


# -------------------------------------------------------------------------- statistics

# (integer weights (b, n), weighted column sums (b, m), total weight (b,)) -> deltas (b,)
_Statistic = Callable[["np.ndarray", "np.ndarray", "np.ndarray"], "np.ndarray"]


class _NotApplicable(Exception):
    """This metric cannot be resampled for these models (the message says why)."""


class _Builder:
    """Turns per-row outputs into weighted-sum columns and per-metric statistics."""

    def __init__(self, y: np.ndarray, task: str, challenger: Outputs, champion: Outputs) -> None:
        self.y = y
        self.task = task
        self.models = (challenger, champion)
        self.columns: list[np.ndarray] = []
        self._codes: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
        self._labels: np.ndarray | None = None

    def _add(self, *columns: np.ndarray) -> slice:
        start = len(self.columns)
        self.columns.extend(columns)
        return slice(start, len(self.columns))

    def statistic(self, metric: str) -> _Statistic:
        import numpy as np

        if self.task == "regression":
            y = self.y.astype(float)
            errors = [np.asarray(m.predicted, dtype=float) - y for m in self.models]
            if metric == "mae":
                col = self._add(np.abs(errors[0]) - np.abs(errors[1])).start
                return lambda _w, sums, total: sums[:, col] / total
            if metric == "rmse":
                where = self._add(errors[0] ** 2, errors[1] ** 2)
                return lambda _w, sums, total: (
                    np.sqrt(sums[:, where.start] / total)
                    - np.sqrt(sums[:, where.start + 1] / total)
                )
            if metric == "r2":
                centred = y - y.mean()  # the sums of squares below cancel less
                where = self._add(errors[1] ** 2 - errors[0] ** 2, centred, centred * centred)

                def r2(_w: np.ndarray, sums: np.ndarray, total: np.ndarray) -> np.ndarray:
                    gained, sy, syy = (sums[:, where.start + i] for i in range(3))
                    spread = syy - sy * sy / total  # total sum of squares of the resample
                    with np.errstate(divide="ignore", invalid="ignore"):
                        out: np.ndarray = np.where(spread > 1e-12 * syy, gained / spread, np.nan)
                    return out

                return r2
            raise _NotApplicable(f"{metric} does not apply to regression")

        if metric == "accuracy":
            y_code, a_code, b_code, _ = self._label_codes()
            diff = (a_code == y_code).astype(float) - (b_code == y_code).astype(float)
            col = self._add(diff).start
            return lambda _w, sums, total: sums[:, col] / total
        if metric in {"f1", "precision", "recall"}:
            return self._macro(metric)
        if metric == "log_loss":
            losses = [self._row_log_loss(m) for m in self.models]
            col = self._add(losses[0] - losses[1]).start
            return lambda _w, sums, total: sums[:, col] / total
        if metric == "roc_auc":
            challenger_auc, champion_auc = (self._auc(m) for m in self.models)
            return lambda w, _sums, _total: challenger_auc(w) - champion_auc(w)
        raise _NotApplicable(f"{metric} does not apply to classification")

    # -- classification helpers ----------------------------------------------------

    def _label_codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Target and both models' predicted labels as integer codes over one label set."""
        if self._codes is None:
            n = len(self.y)
            parts = [self.y, *(m.predicted for m in self.models)]
            parts += [m.classes for m in self.models if m.classes is not None]
            labels, codes = _encode(parts)
            self._labels = labels
            self._codes = (codes[:n], codes[n : 2 * n], codes[2 * n : 3 * n], len(labels))
        return self._codes

    def _class_columns(self, model: Outputs) -> np.ndarray:
        """For each row, the column of its true label in `model.proba` (-1: not a class)."""
        import numpy as np

        y_code, _, _, k = self._label_codes()
        assert self._labels is not None
        classes = np.searchsorted(self._labels, _as_labels(model.classes or [], self._labels))
        column = np.full(k, -1)
        column[classes] = np.arange(len(classes))
        found: np.ndarray = column[y_code]
        return found

    def _macro(self, metric: str) -> _Statistic:
        """Macro precision / recall / F1 as sklearn computes them (zero_division=0)."""
        import numpy as np

        y_code, a_code, b_code, k = self._label_codes()
        classes = np.arange(k)
        if 5 * k * len(y_code) > DENSE_MAX_CELLS:
            return self._macro_by_counting(metric, y_code, a_code, b_code, k)
        truth = y_code[:, None] == classes
        blocks = [truth.astype(float)]
        for codes in (a_code, b_code):
            predicted = codes[:, None] == classes
            blocks += [predicted.astype(float), (predicted & truth).astype(float)]
        where = self._add(*np.hstack(blocks).T)
        s = where.start

        def statistic(_w: np.ndarray, sums: np.ndarray, _total: np.ndarray) -> np.ndarray:
            true = sums[:, s : s + k]
            scores = [
                _macro_value(
                    metric,
                    true,
                    sums[:, s + k * (1 + 2 * i) : s + k * (2 + 2 * i)],
                    sums[:, s + k * (2 + 2 * i) : s + k * (3 + 2 * i)],
                )
                for i in range(2)
            ]
            delta: np.ndarray = scores[0] - scores[1]
            return delta

        return statistic

    def _macro_by_counting(
        self, metric: str, y_code: np.ndarray, a_code: np.ndarray, b_code: np.ndarray, k: int
    ) -> _Statistic:
        import numpy as np

        hits = [np.where(codes == y_code, codes, k) for codes in (a_code, b_code)]

        def counts(weights: np.ndarray, codes: np.ndarray) -> np.ndarray:
            size = len(weights)
            flat = (codes[None, :] + (k + 1) * np.arange(size)[:, None]).ravel()
            summed = np.bincount(flat, weights=weights.ravel(), minlength=size * (k + 1))
            found: np.ndarray = summed.reshape(size, k + 1)[:, :k]
            return found

        def statistic(w: np.ndarray, _sums: np.ndarray, _total: np.ndarray) -> np.ndarray:
            true = counts(w, y_code)
            scores = [
                _macro_value(metric, true, counts(w, codes), counts(w, hit))
                for codes, hit in zip((a_code, b_code), hits, strict=True)
            ]
            delta: np.ndarray = scores[0] - scores[1]
            return delta

        return statistic

    def _row_log_loss(self, model: Outputs) -> np.ndarray:
        import numpy as np

        if model.proba is None or model.classes is None:
            raise _NotApplicable("needs class probabilities from both models")
        proba = np.asarray(model.proba, dtype=float)
        proba = proba / proba.sum(axis=1, keepdims=True)
        column = self._class_columns(model)
        eps = np.finfo(proba.dtype).eps
        picked = np.where(column >= 0, proba[np.arange(len(column)), column], eps)
        out: np.ndarray = -np.log(np.clip(picked, eps, 1 - eps))
        return out

    def _auc(self, model: Outputs) -> Callable[[np.ndarray], np.ndarray]:
        """Resampled ROC AUC of one model: binary, or one-vs-rest macro (as metrics.score)."""
        import numpy as np

        column = self._class_columns(model)
        k = len(model.classes or [])
        if k == 2:
            if model.proba is not None:
                scores = np.asarray(model.proba, dtype=float)[:, 1]
            elif model.decision is not None:
                scores = np.asarray(model.decision, dtype=float).ravel()
            else:
                raise _NotApplicable("needs scores (probabilities or a decision function)")
            parts = [_BinaryAuc(column == 1, scores)]
        elif k > 2 and model.proba is not None:
            proba = np.asarray(model.proba, dtype=float)
            parts = [_BinaryAuc(column == i, proba[:, i]) for i in range(k)]
        else:
            raise _NotApplicable("needs class probabilities from both models")
        if any(p.undefined for p in parts):
            raise _NotApplicable("undefined: a class is missing from the evaluation data")

        def macro(weights: np.ndarray) -> np.ndarray:
            total: np.ndarray = sum((p(weights) for p in parts), start=np.zeros(len(weights)))
            return total / len(parts)

        return macro


def _encode(parts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct labels, codes of every value of `parts` concatenated).

    Numbers stay numbers (fast); anything else is compared as text, so that a label
    read as '1' and a class 1 agree.
    """
    import numpy as np

    arrays = [np.asarray(p) for p in parts]
    if all(a.dtype.kind in "biuf" for a in arrays):
        joined = np.concatenate([a.astype(np.float64) for a in arrays])
    else:
        joined = np.concatenate([a.astype(str) for a in arrays])
    labels, codes = np.unique(joined, return_inverse=True)
    return labels, codes.ravel()


def _as_labels(values: Any, labels: np.ndarray) -> np.ndarray:
    import numpy as np

    array = np.asarray(values)
    return array.astype(np.float64) if labels.dtype.kind == "f" else array.astype(str)


def _macro_value(
    metric: str, true: np.ndarray, predicted: np.ndarray, hits: np.ndarray
) -> np.ndarray:
    """Macro average over the labels present in the truth or the predictions."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "precision":
            per_class = np.where(predicted > 0, hits / predicted, 0.0)
        elif metric == "recall":
            per_class = np.where(true > 0, hits / true, 0.0)
        else:
            both = true + predicted
            per_class = np.where(both > 0, 2 * hits / both, 0.0)
    present = (true + predicted) > 0
    count = present.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(count > 0, (per_class * present).sum(axis=1) / count, np.nan)
    return out


class _BinaryAuc:
    """AUC of `scores` for `positive` rows under integer row weights (Mann–Whitney).

    The sum runs over the rarer class, the *counted* rows (with the labels and the result
    flipped when positives are the majority: AUC of the negatives as the positive class is
    1 − AUC). Each counted row contributes its weight times the weight of the other class
    strictly below its score, plus half of the other class tied with it.

    What depends on the scores only is found once: both classes' rows in score order and,
    for each counted row, how many rows of the other class score below it (`low`) and at
    most as high (`high`). A resample then needs the cumulative weight of the other class
    in score order (`below`) at those positions — integers throughout, exact in any order
    of summing. Gathering each class on its own costs n row-weights per resample, as
    gathering every row in score order did, without a cumulative sum over the counted rows.
    """

    def __init__(self, positive: np.ndarray, scores: Any) -> None:
        import numpy as np

        order = np.argsort(scores, kind="stable")
        ordered = np.asarray(scores)[order]
        self.undefined = bool(positive.all() or not positive.any())
        self.flip = bool(positive.mean() > 0.5)
        counted = ~positive[order] if self.flip else positive[order]
        self.counted, self.other = order[counted], order[~counted]
        # Tie groups: runs of equal score in score order (NaN != NaN: each NaN on its own).
        # `other_before[k]`: rows of the other class among the first k in score order.
        last_of_group = np.r_[ordered[1:] != ordered[:-1], True]
        ends = np.flatnonzero(last_of_group) + 1
        starts = np.r_[0, ends[:-1]]
        group = np.repeat(np.arange(len(ends)), ends - starts)[counted]
        other_before = np.r_[0, np.cumsum(~counted)]
        low, high = other_before[starts[group]], other_before[ends[group]]
        # A counted row tied with none of the other class has low == high: one lookup.
        self.ties = bool((low != high).any())
        # Runs of counted rows with no row of the other class between them share low and
        # high. Few runs (coarse scores, or a rare other class): sum the weights per run
        # (a cumulative sum, then differences), then one product per run. Many: one per
        # row. The same integers either way.
        run_starts = np.flatnonzero(np.r_[True, (low[1:] != low[:-1]) | (high[1:] != high[:-1])])
        self.by_run = len(run_starts) * 4 <= len(low)
        if self.by_run:
            self.bounds = np.r_[run_starts, len(low)]
            low, high = low[run_starts], high[run_starts]
        self.low, self.high = low, high
        # Cumulative weights stay far below 2³¹ unless there are tens of millions of rows.
        self.cumulative = np.int32 if len(order) < 10_000_000 else np.int64

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        import numpy as np

        # below[:, j]: the weight of the first j rows of the other class in score order.
        below = self._cumulative(np.take(weights, self.other, axis=1))
        counted = np.take(weights, self.counted, axis=1)
        if self.by_run:
            up_to = self._cumulative(counted)
            counted = np.diff(np.take(up_to, self.bounds, axis=1), axis=1)
            mine = up_to[:, -1].astype(np.int64)
        else:
            mine = counted.sum(axis=1, dtype=np.int64)
        at_low = np.take(below, self.low, axis=1)
        if self.ties:
            wins = _row_dot(counted, at_low + np.take(below, self.high, axis=1)) / 2
        else:
            # The integer W itself, where ties give (2·W) / 2 in floating point: the same
            # float, as doubling and halving are exact.
            wins = _row_dot(counted, at_low)
        pairs = mine.astype(np.float64) * below[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            auc: np.ndarray = np.where(pairs > 0, wins / pairs, np.nan)
        return 1.0 - auc if self.flip else auc

    def _cumulative(self, weights: np.ndarray) -> np.ndarray:
        """Cumulative sums along each resample, with a leading 0 column."""
        import numpy as np

        found = np.zeros((len(weights), weights.shape[1] + 1), dtype=self.cumulative)
        np.cumsum(weights, axis=1, dtype=self.cumulative, out=found[:, 1:])
        return found


def _row_dot(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise dot products of two integer matrices, exact in int64."""
    import numpy as np

    einsum: Any = np.einsum  # numpy's stubs do not cover integer einsum with dtype
    found: np.ndarray = einsum("ij,ij->i", left, right, dtype=np.int64)
    return found


def improvement_interval(interval: Interval, higher_is_better: bool) -> tuple[float, float]:
    """The interval in the metric's better direction (positive = the challenger is better)."""
    if higher_is_better:
        return interval.low, interval.high
    return -interval.high, -interval.low
