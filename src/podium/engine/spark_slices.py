"""`slices:` on Spark: every slice's metrics from grouped aggregates over the scored rows.

The pandas path (`podium.slices`) cuts the evaluation rows in memory; here each slicing
is one text key column computed in Spark — a column's value, or its bin for
`{column, bins}` — with the same labels, checks and messages (a missing column, a
non-numeric or out-of-range binned value, too many slices: exit 2 naming the entry).

Per slice, as for the whole set (`spark_evaluate`):
- accuracy, precision, recall, F1 from the slice's confusion counts, log loss, RMSE,
  MAE and R² from its sums: exact over every row of the slice;
- ROC AUC from a `AUC_BINS`-bin histogram of the slice's scores by class, within the
  bound `auc_from_histogram` states (the worst slice's is said in the report);
- the paired bootstrap (the intervals and standard errors behind `significant: true`
  slice gates) from the seeded evaluation sample evaluate already draws: each slice's
  rows in that sample are stated beside its row count.

The scored rows are kept (memory, spilling to disk) while the whole set and the slices
are aggregated, so each model scores each row once. The judging is `podium.slices`'.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium import slices
from podium.engine.aggregates import EPS, auc_from_histogram, label_metrics, regression_metrics
from podium.errors import DataError, closest

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from podium.config import Config
    from podium.results import Slices

AUC_BINS = 1_000  # per slice and class (fewer than the whole set's: hundreds of slices)
KEY = "__podium_slice_{}"  # the key column of slicing number {}


@dataclass(frozen=True)
class Plan:
    """The slicings as Spark key columns and their slices, in the pandas path's order."""

    specs: list[slices.SliceSpec]
    keys: list[Column]  # one text column per slicing, aliased KEY.format(index)
    cells: list[list[tuple[str, str]]]  # per slicing: (key, label), sorted by key

    @property
    def names(self) -> list[str]:
        return [KEY.format(index) for index in range(len(self.specs))]


def plan(config: Config, frame: DataFrame) -> Plan:
    """The `slices:` entries as key columns over `frame` (the evaluation rows to slice),
    checked as `slices.cells` checks them; DataError (exit 2) names the entry and the fix.

    One aggregate for every binned column (non-numeric values, values outside the bins),
    then one small job per slicing for its distinct keys (at most `MAX_CELLS` + 1 come
    back, so an id column fails fast).
    """
    from pyspark.sql import functions as F

    specs = list(config.raw.slices or [])
    where = str(config.path)
    binned = [c for spec in specs for c in slices.columns_of(spec) if not isinstance(c, str)]
    checks: list[Column] = []
    for index, column in enumerate(binned):
        if column.column not in frame.columns:
            continue  # named below, in the entries' order
        value, number, present = _number(frame, column.column)
        bad = value.isNotNull() & number.isNull()
        outside = present & ((number < column.bins[0]) | (number > column.bins[-1]))
        checks += [
            F.first(F.when(bad, value.cast("string")), ignorenulls=True).alias(f"bad{index}"),
            F.count(F.when(outside, 1)).alias(f"out{index}"),
            F.min(F.when(present, number)).alias(f"lo{index}"),
            F.max(F.when(present, number)).alias(f"hi{index}"),
        ]
    found: dict[str, Any] = {}
    if checks:
        first = frame.agg(*checks).first()
        assert first is not None
        found = first.asDict()
    keys: list[Column] = []
    cells: list[list[tuple[str, str]]] = []
    total = 0
    position = 0
    for index, spec in enumerate(specs):
        entry = f"{where}: slices[{index}]"
        parts = []
        for part in slices.columns_of(spec):
            name = part if isinstance(part, str) else part.column
            if name not in frame.columns:
                hint = closest(name, [str(c) for c in frame.columns])
                did_you = f" (did you mean '{hint}'?)" if hint else ""
                raise DataError(
                    f"{entry}: column '{name}' is not in the evaluation data{did_you}; "
                    "fix slices in podium.yaml"
                )
            if isinstance(part, str):
                parts.append(_named(frame, name))
            else:
                parts.append(_binned(frame, part, entry, found, position))
                position += 1
        key = (parts[0] if len(parts) == 1 else F.concat_ws("\x1f", *parts)).alias(
            KEY.format(index)
        )
        distinct = frame.select(key).distinct().limit(slices.MAX_CELLS + 1).collect()
        if len(distinct) > slices.MAX_CELLS:
            many = frame.select(key).distinct().count()
            raise DataError(
                f"{entry} ({slices.name_of(spec)}) cuts the evaluation data into {many:,} "
                f"slices (at most {slices.MAX_CELLS:,}); slice by fewer or coarser columns "
                "(give numeric columns bins: {column: …, bins: [...]})"
            )
        names = [c if isinstance(c, str) else c.column for c in slices.columns_of(spec)]
        values = sorted(str(r[0]) for r in distinct)
        cells.append([(v, slices.label_of(names, v)) for v in values])
        keys.append(key)
        total += len(values)
        if total > slices.MAX_SLICES:
            raise DataError(
                f"{entry}: the slicings up to here make {total:,} slices (at most "
                f"{slices.MAX_SLICES:,} in all); remove or coarsen some of them"
            )
    return Plan(specs, keys, cells)


def _number(frame: DataFrame, name: str) -> tuple[Column, Column, Column]:
    """(the column, its value as a number, whether that number is present) — as
    `pd.to_numeric(errors="coerce")` reads it: NaN is missing, text that is no number
    is bad."""
    from pyspark.sql import functions as F

    value = F.col(f"`{name}`")
    kind = str(frame.schema[name].dataType.simpleString())
    number = value.try_cast("double") if kind == "string" else value.cast("double")
    return value, number, number.isNotNull() & ~F.isnan(number)


def _named(frame: DataFrame, name: str) -> Column:
    """A column's value as the slice's text, as pandas' `astype(str)` writes it (True,
    1.0; missing — null or NaN — as `slices.MISSING`)."""
    from pyspark.sql import functions as F

    value = F.col(f"`{name}`")
    kind = str(frame.schema[name].dataType.simpleString())
    if kind == "boolean":
        text = F.when(value, F.lit("True")).otherwise(F.lit("False"))
    elif kind in ("float", "double"):
        integral = (value == F.floor(value)) & (F.abs(value) < 1e15)
        text = F.when(integral, F.concat(value.cast("bigint").cast("string"), F.lit(".0")))
        text = text.otherwise(value.cast("string"))
        value = F.when(~F.isnan(value), value)
    else:
        text = value.cast("string")
    return F.when(value.isNotNull(), text).otherwise(F.lit(slices.MISSING))


def _binned(
    frame: DataFrame, column: slices.Binned, entry: str, found: dict[str, Any], index: int
) -> Column:
    """The bin of each row, named and numbered as `slices` names them; bad input raises."""
    from pyspark.sql import functions as F

    name, edges = column.column, column.bins
    if found.get(f"bad{index}") is not None:
        raise DataError(
            f"{entry}: column '{name}' has non-numeric values (e.g. {found[f'bad{index}']!r}), "
            f"so it cannot be binned; slice it by name instead (slices: [..., {name}])"
        )
    outside = int(found.get(f"out{index}") or 0)
    if outside:
        raise DataError(
            f"{entry}: {outside:,} evaluation rows of '{name}' fall outside the bins "
            f"{slices.describe_edges(edges)} (values from {found[f'lo{index}']:g} to "
            f"{found[f'hi{index}']:g}); widen the first or last bin edge"
        )
    _, number, present = _number(frame, name)
    names = slices.bin_names(edges)
    hidden = slices.HIDDEN_ORDER
    label = F.when(number < edges[1], F.lit(f"{0:04d}{hidden}{names[0]}"))
    for i in range(1, len(names)):
        label = label.when(number < edges[i + 1], F.lit(f"{i:04d}{hidden}{names[i]}"))
    label = label.otherwise(F.lit(f"{len(names) - 1:04d}{hidden}{names[-1]}"))
    return F.when(present, label).otherwise(F.lit(f"9999{hidden}{slices.MISSING}"))


# -- the slices' metrics --------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One scored model as the slices read it: its outputs' column and its classes."""

    column: str  # 'm0': struct<label, value, proba, error> in the scored rows
    classes: list[str]  # the model's classes as text (empty for regression)


def evaluate(
    layout: Plan,
    *,
    config: Config,
    scored: DataFrame,
    challenger: Model,
    champion: Model | None,
    sample: Any,
    sampled: tuple[Any, Any],
) -> Slices:
    """Every slice of `layout` scored from aggregates over `scored` (the labelled rows:
    `y`, each model's outputs and the slice keys), the bootstrap from `sample` (the
    collected evaluation sample with the same key columns; `sampled`: challenger's and
    champion's in-memory scoring of it), judged by `podium.slices`."""
    started = time.perf_counter()
    task = config.model.task
    models = [challenger] + ([champion] if champion is not None else [])
    if task == "regression":
        measured, worst = _regression(scored, layout, models), None
    else:
        measured, worst = _classification(scored, layout, models)
    bootstrap = slices.bootstrapped(config.gates)
    scores: list[slices.SliceScore] = []
    challenger_run, champion_run = sampled
    for index, spec in enumerate(layout.specs):
        slicing = slices.name_of(spec)
        column = sample[KEY.format(index)].to_numpy() if len(sample) else None
        for key, label in layout.cells[index]:
            rows, metrics = measured.get((index, key), (0, [{}] * len(models)))
            score = slices.SliceScore(
                slicing,
                label,
                rows,
                metrics[0],
                metrics[1] if champion is not None else None,
            )
            chosen = (column == key).nonzero()[0] if column is not None else []
            score.sample_rows = len(chosen)
            paired = champion_run is not None and challenger_run is not None
            if paired and bootstrap and len(chosen) >= 2:
                drawn = slices.score_cells(
                    [slices.Cell(slicing, label, chosen)],
                    task=task,
                    target=challenger_run.target,
                    challenger=challenger_run.outputs,
                    champion=champion_run.outputs,
                    bootstrapped=bootstrap,
                )[0]
                score.intervals, score.spread = drawn.intervals, drawn.spread
            scores.append(score)
    return slices.summarise(
        scores,
        specs=layout.specs,
        gates=config.gates,
        min_rows=config.raw.slices_min_rows,
        started=started,
        computed=_said(worst, len(sample)),
    )


def of_evaluation(
    layout: Plan,
    config: Config,
    scored: DataFrame,
    ready: list[Any],
    challenger: Any,
    champion: Any,
    sample: tuple[Any, list[Any]],
    outcomes: list[Any],
) -> Slices | None:
    """`slices:` for `spark_evaluate.score_both`: its models (`ready`, the scored
    `Candidate`s; `outcomes`, each model's (score, in-memory scoring of the sample)),
    its scored rows and sample; None when the challenger could not be scored (evaluate
    stops there)."""
    runs = [o[1] if o is not None else None for o in outcomes]
    if challenger not in ready or runs[0] is None:
        return None

    def model(candidate: Any) -> Model:
        return Model(f"m{ready.index(candidate)}", [str(c) for c in candidate.classes or []])

    paired = champion is not None and champion in ready and runs[1] is not None
    return evaluate(
        layout,
        config=config,
        scored=scored,
        challenger=model(challenger),
        champion=model(champion) if paired and champion is not None else None,
        sample=sample[0],
        sampled=(runs[0], runs[1] if paired else None),
    )


def _up(bound: float) -> float:
    """The bound rounded up to the three digits shown (rounding down would understate it)."""
    if bound <= 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(bound)) - 2)
    return math.ceil(bound / step * (1 - 1e-12)) * step


def _said(worst: float | None, sample_rows: int) -> str:
    auc = (
        f"; ROC AUC from a {AUC_BINS:,}-bin histogram per slice, within ±{_up(worst):.2e} "
        "of the exact value"
        if worst is not None
        else ""
    )
    return (
        f"computed in spark: every slice's metrics over all of its rows{auc}; the bootstrap "
        f"intervals come from the seeded sample of {sample_rows:,} evaluation rows (each "
        "slice's rows in it are in brackets)"
    )


Measured = dict[tuple[int, str], tuple[int, list[dict[str, float]]]]  # (slicing, key) ->


def _cut(scored: DataFrame, layout: Plan) -> DataFrame:
    """One row per (scored row, slicing): `s` the slicing, `key` its slice."""
    from pyspark.sql import functions as F

    pairs = [
        F.struct(F.lit(index).alias("s"), F.col(name).alias("key"))
        for index, name in enumerate(layout.names)
    ]
    rest = [c for c in scored.columns if c not in layout.names]
    exploded = scored.select(F.explode(F.array(*pairs)).alias("cut"), *rest)
    return exploded.select(F.col("cut.s").alias("s"), F.col("cut.key").alias("key"), *rest)


def _regression(scored: DataFrame, layout: Plan, models: list[Model]) -> Measured:
    from pyspark.sql import functions as F

    y = F.col("y")
    parts: list[Column] = [F.count(F.lit(1)).alias("n"), F.var_pop(y).alias("var")]
    for i, model in enumerate(models):
        residual = y - F.col(f"{model.column}.value")
        parts += [
            F.sum(residual * residual).alias(f"sse{i}"),
            F.sum(F.abs(residual)).alias(f"sae{i}"),
        ]
    found: Measured = {}
    for row in _cut(scored, layout).groupBy("s", "key").agg(*parts).collect():
        rows = int(row["n"])
        metrics = [
            regression_metrics(
                rows, float(row[f"sse{i}"]), float(row[f"sae{i}"]), float(row["var"] or 0.0)
            )
            for i in range(len(models))
        ]
        found[(int(row["s"]), str(row["key"]))] = (rows, metrics)
    return found


def _classification(
    scored: DataFrame, layout: Plan, models: list[Model]
) -> tuple[Measured, float | None]:
    """Two jobs over the scored rows: per (slice, label, each model's prediction) the
    count and log-loss sums; per (slice, label, model's class, bin) the histogram."""
    from pyspark.sql import functions as F

    cut = _cut(scored, layout)
    y = F.col("y")
    derived: list[Column] = [F.col("s"), F.col("key"), y]
    sums: list[Column] = [F.count(F.lit(1)).alias("n")]
    entries: list[Column] = []
    histograms: dict[int, tuple[int, int, int]] = {}  # h -> (model, class, bins)
    for i, model in enumerate(models):
        position = F.array_position(F.array(*[F.lit(c) for c in model.classes]), y)
        proba = F.col(f"{model.column}.proba")
        picked = F.element_at(proba, position.cast("int"))
        clipped = F.least(F.greatest(picked, F.lit(EPS)), F.lit(1 - EPS))
        noproba = proba.isNull() | (position == 0) | F.isnan(picked)
        derived += [
            F.col(f"{model.column}.label").alias(f"p{i}"),
            F.when(~noproba, -F.log(clipped)).alias(f"loss{i}"),
            noproba.alias(f"noproba{i}"),
        ]
        sums += [
            F.sum(f"loss{i}").alias(f"ll{i}"),
            F.count(F.when(F.col(f"noproba{i}"), 1)).alias(f"nop{i}"),
        ]
        classes = len(model.classes)
        used = [1] if classes == 2 else list(range(classes))
        count = AUC_BINS if classes == 2 else max(100, AUC_BINS // max(classes, 1))
        for c in used:
            h = len(histograms)
            histograms[h] = (i, c, count)
            score = F.element_at(proba, c + 1)
            bucket = F.least(F.floor(score * count), F.lit(count - 1)).cast("int")
            usable = score.isNotNull() & ~F.isnan(score)
            entry = F.struct(F.lit(h).alias("h"), bucket.alias("b"), score.alias("v"))
            entries.append(F.when(usable, entry))
    frame = cut.select(*derived, *([F.array(*entries).alias("e")] if entries else []))
    predictions = [f"p{i}" for i in range(len(models))]
    cells = frame.groupBy("s", "key", "y", *predictions).agg(*sums).collect()
    binned: list[Any] = []
    if entries:
        spread = frame.select("s", "key", "y", F.explode("e").alias("e")).where(
            F.col("e").isNotNull()
        )
        binned = (
            spread.groupBy("s", "key", "y", F.col("e.h").alias("h"), F.col("e.b").alias("b"))
            .agg(F.count(F.lit(1)).alias("n"), F.min("e.v").alias("lo"), F.max("e.v").alias("hi"))
            .collect()
        )
    by_cell: dict[tuple[int, str], list[Any]] = {}
    for row in cells:
        by_cell.setdefault((int(row["s"]), str(row["key"])), []).append(row)
    bins_of: dict[tuple[int, str, int], list[Any]] = {}
    for row in binned:
        bins_of.setdefault((int(row["s"]), str(row["key"]), int(row["h"])), []).append(row)
    found: Measured = {}
    worst: float | None = None
    for where, rows in by_cell.items():
        total = sum(int(r["n"]) for r in rows)
        present = {str(r["y"]) for r in rows}
        metrics = []
        for i, model in enumerate(models):
            pairs: dict[tuple[str, str], int] = {}
            for r in rows:
                pair = (str(r["y"]), str(r[f"p{i}"]))
                pairs[pair] = pairs.get(pair, 0) + int(r["n"])
            scored_metrics = label_metrics(pairs)
            scored_metrics["log_loss"] = scored_metrics["roc_auc"] = math.nan
            known = bool(model.classes) and present <= set(model.classes)
            if known and not sum(int(r[f"nop{i}"]) for r in rows):
                scored_metrics["log_loss"] = sum(float(r[f"ll{i}"] or 0.0) for r in rows) / total
            auc: list[tuple[float, float]] = []
            every = len(model.classes) == 2 or present == set(model.classes)
            if known and len(present) >= 2 and every:
                for h, (m, c, count) in histograms.items():
                    if m == i:
                        auc.append(_auc(bins_of.get((*where, h), []), model.classes[c], count))
            if auc:
                scored_metrics["roc_auc"] = sum(a for a, _ in auc) / len(auc)
                bound = sum(b for _, b in auc) / len(auc)
                worst = bound if worst is None else max(worst, bound)
            metrics.append(scored_metrics)
        found[where] = (total, metrics)
    return found, worst


def _auc(rows: list[Any], positive: str, count: int) -> tuple[float, float]:
    """One slice's one-vs-rest AUC of `positive` and its bound, from its histogram rows."""
    pos, neg = [0] * count, [0] * count
    low, high = [math.inf] * count, [-math.inf] * count
    for r in rows:
        where = min(max(int(r["b"]), 0), count - 1)
        side = pos if str(r["y"]) == positive else neg
        side[where] += int(r["n"])
        low[where] = min(low[where], float(r["lo"]))
        high[where] = max(high[where], float(r["hi"]))
    tied = [lo == hi for lo, hi in zip(low, high, strict=True)]
    return auc_from_histogram(pos, neg, tied)
