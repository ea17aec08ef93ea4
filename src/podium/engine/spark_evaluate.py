"""`podium evaluate` on Spark: both models scored in the engine, metrics from aggregates.

What is exact and what is not (written to evaluation.json's `computed`):
- accuracy, precision, recall, F1: exact, from the confusion counts.
- log loss, RMSE, MAE, R²: exact aggregate sums over every row (float summation order
  aside).
- ROC AUC: from a histogram of the scores by class (`AUC_BINS` equal-width bins on
  [0, 1]; one-vs-rest per class for multiclass). Pairs in different bins are ordered
  exactly; pairs within one bin count as ties (½). The error is therefore at most
  Σ_b pos_b·neg_b / (2·P·N) — computed from the same histogram and reported with the
  number. Exact ties count ½ either way, so the bound is conservative.
- The paired bootstrap intervals, permutation importance and latency: on one seeded
  sample of at most `SAMPLE_ROWS` evaluation rows (hash-selected, so both models see the
  same rows), with the existing pandas code.

Scoring: a pandas UDF around the registered model (broadcast once, loaded once per
Python worker) returns each row's label/value, class probabilities and any error. All
metrics come from one pass over the scored rows — grouping sets: the confusion cells with
the log-loss sums, and each score histogram — so each model scores each row once and
nothing is collected but counts. It scores whatever `Registry.load_model` returns through
`scoring.predict` (scikit-learn's `predict_proba`/`classes_`); `_outputs` is the one
place to change for models that only a pyfunc `predict` (the any-framework issue's
`predictions.interpret`) can read.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium.engine import spark
from podium.engine.aggregates import (
    AUC_BINS,
    AUC_BOUND,
    EPS,
    SAMPLE_ROWS,
    auc_from_histogram,
    bins_for,
    label_metrics,
    regression_metrics,
)
from podium.errors import DataError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column, DataFrame, SparkSession

    from podium.config import Config
    from podium.registry import Registry, Version
    from podium.results import Computation, ModelScore, Slices

SEED = 0
Histogram = tuple[list[int], list[int], list[bool]]  # per bin: positives, negatives, one value
# Each model's outputs are a column struct<label, value, proba, error>: m0 challenger, m1 champion


@dataclass
class Candidate:
    version: Version
    dataset: spark.SparkDataset | None = None
    model: Any = None
    classes: list[Any] | None = None  # the model's classes_, in its own types
    error: str | None = None
    size_mb: float | None = None  # the bytes of the version's model artifacts


def score_both(
    *,
    config: Config,
    registry: Registry,
    challenger_version: Version,
    champion_version: Version | None,
    challenger_types: dict[str, str],
) -> tuple[
    spark.SparkTable,
    tuple[ModelScore, Any],
    tuple[ModelScore, Any] | None,
    Computation,
    Slices | None,
]:
    """Score the challenger (and champion) on data.eval inside Spark.

    Returns the table, (ModelScore, in-memory scoring on the sample) for each model, how
    each number was computed, and the `slices:` (None without them). The challenger's
    unusable eval data is exit 2 (as `evaluate._score(strict=True)`); the champion's
    problems are recorded on its score.
    """
    from podium.registry import read_feature_types

    session = spark.session(config.spark)
    table = spark.read(config.resolve(config.data.eval), label="data.eval", spark=session)
    challenger = _candidate(registry, challenger_version, table, config, challenger_types, True)
    champion = None
    if champion_version is not None:
        champion = _candidate(
            registry, champion_version, table, config, read_feature_types(champion_version.tags)
        )
    ready = [c for c in (challenger, champion) if c is not None and c.error is None]
    task = config.model.task
    assert challenger.dataset is not None
    labelled = challenger.dataset.labelled
    assert labelled is not None
    layout = None
    if config.raw.slices:  # issue 14: slices from grouped aggregates (engine.spark_slices)
        from podium.engine import spark_slices

        layout = spark_slices.plan(config, table.frame.where(labelled))
    keep = layout.keys if layout is not None else []
    scored = score_rows(session, table.frame.where(labelled), ready, task, keep)
    if layout is not None:  # the whole set and the slices aggregate one scoring
        from pyspark import StorageLevel

        scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
    measured = measure_scored(scored, ready, task)  # one pass: each model scores each row once
    sample = _sample(session, table, ready, task, rows=challenger.dataset.rows, keep=keep)
    outcomes: list[tuple[ModelScore, Any] | None] = []
    for candidate in (challenger, champion):
        if candidate is None:
            outcomes.append(None)
            continue
        position = ready.index(candidate) if candidate in ready else -1
        metrics, error = measured[position] if position >= 0 else ({}, candidate.error)
        outcome = _outcome(candidate, metrics, error, sample, position, task)
        if outcome[1] is not None:  # what it cost to train and to predict 1k rows
            from podium.resources import version_costs

            found = version_costs(
                registry,
                candidate.version,
                candidate.model,
                outcome[1].features,
                config.raw.metrics.cost_per_cpu_hour,
            )
            outcome[1].metrics.update(found)
            outcome[0].metrics.update(found)
        outcomes.append(outcome)
    computed = _computation(challenger.dataset.rows, measured, len(sample[0]), task)
    first = outcomes[0]
    assert first is not None
    sliced = None
    if layout is not None:
        sliced = spark_slices.of_evaluation(
            layout, config, scored, ready, challenger, champion, sample, outcomes
        )
        scored.unpersist()
    return table, first, outcomes[1], computed, sliced


def _candidate(
    registry: Registry,
    version: Version,
    table: spark.SparkTable,
    config: Config,
    feature_types: dict[str, str] | None,
    strict: bool = False,
) -> Candidate:
    spec = config.data
    candidate = Candidate(version)
    try:
        candidate.dataset = spark.prepare(
            table,
            target=spec.target,
            task=config.model.task,
            features=spec.features,
            exclude=spec.exclude,
            expected_types=feature_types,
        )
    except DataError as exc:
        if strict:
            raise
        candidate.error = str(exc)
        return candidate
    candidate.model = registry.load_model(version)
    candidate.size_mb = registry.model_size_mb(version)
    classes = getattr(candidate.model, "classes_", None)
    candidate.classes = list(classes) if classes is not None else None
    return candidate


# -- scoring in the engine ----------------------------------------------------------

_LOADED: dict[str, Any] = {}  # per Python worker: one key per shipped model -> model


def _udf(session: SparkSession, candidate: Candidate, task: str) -> Any:
    """A pandas UDF: a struct of the model's normalised features -> its outputs, with
    one plain double column per class probability (Arrow moves those fastest)."""
    import cloudpickle
    import pandas as pd
    from pyspark.sql import functions as F

    assert candidate.dataset is not None
    types = candidate.dataset.feature_types
    shipped = session.sparkContext.broadcast(cloudpickle.dumps(candidate.model))
    names = list(types)
    classes = _classes(candidate, task)
    key = uuid.uuid4().hex

    def score(batch: pd.DataFrame) -> pd.DataFrame:
        if key not in _LOADED:
            _LOADED[key] = cloudpickle.loads(shipped.value)
        features = pandas_features(batch, names, types)
        return _outputs(_LOADED[key], features, task, classes)

    score.__annotations__ = {"batch": pd.DataFrame, "return": pd.DataFrame}
    fields = ["label string", "value double", "error string"]
    fields += [f"p{j} double" for j in range(classes)]
    with spark.quiet():
        return F.pandas_udf(score, returnType=", ".join(fields))  # type: ignore[attr-defined]


def _classes(candidate: Candidate, task: str) -> int:
    return len(candidate.classes or []) if task != "regression" else 0


def _as_output(raw: Column, classes: int) -> Column:
    """The UDF's flat struct as struct<label, value, proba array, error>."""
    from pyspark.sql import functions as F

    proba = (
        F.array(*[raw[f"p{j}"] for j in range(classes)])
        if classes
        else F.lit(None).cast("array<double>")
    )
    return F.struct(
        raw["label"].alias("label"),
        raw["value"].alias("value"),
        proba.alias("proba"),
        raw["error"].alias("error"),
    )


def pandas_features(batch: pd.DataFrame, names: list[str], types: dict[str, str]) -> pd.DataFrame:
    """Spark's rows as `data.prepare` hands features to a model: float64 numbers (missing
    as NaN), text as Python str objects (missing as NaN)."""
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=batch.index)
    for name in names:
        column = batch[name]
        if types[name] == "numeric":
            # Spark hands doubles as float64 already (prepare casts them): no copy
            plain = column.dtype == "float64"
            out[name] = (
                column if plain else pd.to_numeric(column, errors="coerce").astype("float64")
            )
        else:
            values = column.astype(object)
            out[name] = values.where(column.notna(), np.nan).astype(object)
    return out


def _outputs(model: Any, features: pd.DataFrame, task: str, classes: int) -> pd.DataFrame:
    """One batch's outputs, or its error (recorded per model, as the pandas path does)."""
    import numpy as np
    import pandas as pd

    from podium.scoring import predict

    rows = len(features)
    columns: dict[str, Any] = {"label": None, "value": math.nan, "error": None}
    columns |= {f"p{j}": math.nan for j in range(classes)}
    try:
        said = predict(model, features, task)
    except Exception as exc:  # the model's failure is a recorded result, not a crash
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        columns["error"] = text
        return pd.DataFrame(columns, index=range(rows))
    if task == "regression":
        columns["value"] = np.asarray(said.predicted, dtype=float)
        return pd.DataFrame(columns, index=range(rows))
    columns["label"] = _as_text(np.asarray(said.predicted))
    if said.proba is not None and np.shape(said.proba)[1] == classes:
        proba = np.asarray(said.proba, dtype=float)
        columns |= {f"p{j}": proba[:, j] for j in range(classes)}
    elif said.decision is not None and classes == 2:
        # a binary margin, no probabilities: no log loss, but its logistic keeps AUC's order
        columns["p1"] = _sigmoid(said.decision)
    return pd.DataFrame(columns, index=range(rows))


def _as_text(predicted: Any) -> Any:
    """`predicted.astype(str).astype(object)`, converting each distinct label once (a
    batch has 50,000 rows and a handful of classes: converting per row was a fifth of the
    scoring UDF's Python time).

    Only where equal values have one text: integers, booleans and strings (not floats,
    where 0.0 == -0.0, nor mixed objects, where 1 == 1.0 == True)."""
    import numpy as np
    import pandas as pd

    if predicted.dtype.kind in "biuU":
        distinct, where = np.unique(predicted, return_inverse=True)
    elif (
        predicted.dtype == object and pd.api.types.infer_dtype(predicted, skipna=False) == "string"
    ):
        where, distinct = pd.factorize(predicted)
    else:
        return predicted.astype(str).astype(object)
    # the same object array as per row (pandas then types it as before, on any version)
    return np.asarray(distinct).astype(str).astype(object)[np.ravel(where)]


def _sigmoid(decision: Any) -> Any:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.asarray(decision, dtype=float)))


def score_rows(
    session: SparkSession,
    labelled: DataFrame,
    ready: list[Candidate],
    task: str,
    keep: list[Column] | None = None,
) -> DataFrame:
    """The labelled rows with the target (text for labels), each model's outputs and the
    `keep` columns (the slice keys)."""
    from pyspark.sql import functions as F

    first = ready[0].dataset if ready else None
    assert first is not None
    target = first.columns[-1]
    y = target.cast("double" if task == "regression" else "string").alias("y")
    raw = []
    for index, candidate in enumerate(ready):
        assert candidate.dataset is not None
        udf = _udf(session, candidate, task)
        raw.append(udf(F.struct(*candidate.dataset.columns[:-1])).alias(f"r{index}"))
    # two selects: each UDF runs once, then its columns are regrouped
    outputs = [
        _as_output(F.col(f"r{i}"), _classes(c, task)).alias(f"m{i}") for i, c in enumerate(ready)
    ]
    kept = labelled.select(*(keep or [])).columns
    return labelled.select(y, *raw, *(keep or [])).select("y", *outputs, *kept)


# -- metrics from aggregates ----------------------------------------------------------


@dataclass
class _Measured:
    metrics: dict[str, float]
    error: str | None
    auc_bound: float | None = None


def measure_scored(
    scored: DataFrame, ready: list[Candidate], task: str
) -> list[tuple[dict[str, float], str | None]]:
    from pyspark.sql import functions as F

    found: list[_Measured] = []
    errors = [
        F.first(F.col(f"m{i}.error"), ignorenulls=True).alias(f"e{i}") for i in range(len(ready))
    ]
    if task == "regression":
        y = F.col("y")
        parts: list[Column] = [F.count(F.lit(1)).alias("n"), F.var_pop(y).alias("var")]
        for i in range(len(ready)):
            residual = y - F.col(f"m{i}.value")
            parts += [
                F.sum(residual * residual).alias(f"sse{i}"),
                F.sum(F.abs(residual)).alias(f"sae{i}"),
            ]
        row = scored.agg(*errors, *parts).first()
        assert row is not None
        for i in range(len(ready)):
            error = row[f"e{i}"]
            metrics = (
                {}
                if error
                else regression_metrics(
                    int(row["n"]),
                    float(row[f"sse{i}"]),
                    float(row[f"sae{i}"]),
                    float(row["var"] or 0.0),
                )
            )
            found.append(_Measured(metrics, error))
        return [(m.metrics, m.error) for m in found]

    rows, cells, histograms = _classification_counts(scored, ready)
    for i, candidate in enumerate(ready):
        if any(int(c[f"e{i}"]) for c in cells):
            found.append(_Measured({}, _first_error(scored, i)))
            continue
        pairs: dict[tuple[str, str], int] = {}
        for cell in cells:
            key = (str(cell["y"]), str(cell[f"p{i}"]))
            pairs[key] = pairs.get(key, 0) + int(cell["n"])
        metrics = label_metrics(pairs)
        classes = [str(c) for c in candidate.classes or []]
        log_loss = sum(float(c[f"ll{i}"] or 0.0) for c in cells)
        unknown = sum(int(c[f"unknown{i}"]) for c in cells)
        noproba = sum(int(c[f"noproba{i}"]) for c in cells)
        metrics["log_loss"] = (
            log_loss / rows if classes and not unknown and not noproba else math.nan
        )
        metrics["roc_auc"], bound = math.nan, None
        present = {y for y, _ in pairs}
        if len(present) >= 2 and classes:
            if len(classes) == 2:
                metrics["roc_auc"], bound = auc_from_histogram(*histograms[(i, 1)])
            elif present == set(classes):
                each = [auc_from_histogram(*histograms[(i, c)]) for c in range(len(classes))]
                metrics["roc_auc"] = sum(a for a, _ in each) / len(each)
                bound = sum(b for _, b in each) / len(each)
        found.append(_Measured(metrics, None, bound))
    return [(m.metrics | _bound_key(m.auc_bound), m.error) for m in found]


def _classification_counts(
    scored: DataFrame, ready: list[Candidate]
) -> tuple[int, list[Any], dict[tuple[int, int], Histogram]]:
    """In one job (grouping sets over the scored rows): per (label, each model's
    prediction) the row count, log-loss sums and error counts; and per model and class, the
    histogram of that class's scores split by whether the row is of that class.

    Returns (rows, the cells of the first set, {(model, class index): (pos, neg)}).
    """
    from pyspark.sql import functions as F

    y = F.col("y")
    derived: list[Column] = [y]
    sums: list[Column] = [F.count(F.lit(1)).alias("n")]
    bins: dict[tuple[int, int], int] = {}
    for i, candidate in enumerate(ready):
        classes = [str(c) for c in candidate.classes or []]
        position = F.array_position(F.array(*[F.lit(c) for c in classes]), y).cast("int")
        proba = F.col(f"m{i}.proba")
        picked = F.element_at(proba, position)
        clipped = F.least(F.greatest(picked, F.lit(EPS)), F.lit(1 - EPS))
        derived += [
            F.col(f"m{i}.label").alias(f"p{i}"),
            F.col(f"m{i}.error").alias(f"err{i}"),
            (-F.log(clipped)).alias(f"loss{i}"),
            (position == 0).alias(f"isunknown{i}"),
            (proba.isNull() | F.isnan(picked)).alias(f"isnoproba{i}"),
        ]
        sums += [
            F.sum(f"loss{i}").alias(f"ll{i}"),
            F.count(F.when(F.col(f"isunknown{i}"), 1)).alias(f"unknown{i}"),
            F.count(F.when(F.col(f"isnoproba{i}"), 1)).alias(f"noproba{i}"),
            # a count, not the message: an aggregate over text (first, min) cannot hash
            # and would sort every scored row; `_first_error` reads a message if any
            F.count(f"err{i}").alias(f"e{i}"),
        ]
        used = [1] if len(classes) == 2 else list(range(len(classes)))
        count = bins_for(len(classes))
        for c in used:
            score = F.element_at(proba, c + 1)
            bucket = F.least(F.floor(score * count), F.lit(count - 1)).cast("int")
            usable = score.isNotNull() & ~F.isnan(score)
            derived.append(F.when(usable, bucket).alias(f"b{i}_{c}"))
            derived.append(F.when(usable, score).alias(f"s{i}_{c}"))
            # a bin whose scores are all one value holds exact ties only: no uncertainty
            sums += [F.min(f"s{i}_{c}").alias(f"lo{i}_{c}"), F.max(f"s{i}_{c}").alias(f"hi{i}_{c}")]
            bins[(i, c)] = count
    frame = scored.select(*derived)
    first = ["y", *[f"p{i}" for i in range(len(ready))]]
    histogram = [f"b{i}_{c}" for i, c in bins]
    columns = first + histogram
    sets = [first] + [["y", name] for name in histogram]
    grouped = frame.groupingSets(sets, *columns).agg(*sums, F.grouping_id().alias("g"))
    width = len(columns)

    def gid(kept: list[str]) -> int:
        return sum(1 << (width - 1 - j) for j, name in enumerate(columns) if name not in kept)

    # One row per (set, label), the histograms as arrays of (bin, count): what reaches
    # the driver is a few bytes per bin, whatever the number of rows.
    is_cell = F.col("g") == gid(first)
    spread = [f"{end}{i}_{c}" for i, c in bins for end in ("lo", "hi")]
    fields = [c for c in grouped.columns if c not in ("g", "y", *histogram, *spread)]
    binned = F.coalesce(*[F.col(name) for name in histogram]) if histogram else F.lit(None)

    def own(end: str) -> Column:  # the set's own score's min or max
        chosen = [F.when(F.col(f"b{i}_{c}").isNotNull(), F.col(f"{end}{i}_{c}")) for i, c in bins]
        return F.coalesce(*chosen) if chosen else F.lit(None)

    entry = F.struct(binned.alias("b"), "n", own("lo").alias("lo"), own("hi").alias("hi"))
    packed = grouped.groupBy("g", "y").agg(
        F.collect_list(F.when(is_cell, F.struct(*fields))).alias("cells"),
        F.collect_list(F.when(~is_cell & binned.isNotNull(), entry)).alias("hist"),
    )
    found = packed.collect()
    cells = [cell.asDict() | {"y": r["y"]} for r in found for cell in r["cells"]]
    rows = sum(int(c["n"]) for c in cells)
    histograms: dict[tuple[int, int], Histogram] = {}
    labels = {i: [str(c) for c in candidate.classes or []] for i, candidate in enumerate(ready)}
    for (i, c), count in bins.items():
        pos, neg = [0] * count, [0] * count
        low, high = [math.inf] * count, [-math.inf] * count
        for r in found:
            if r["g"] != gid(["y", f"b{i}_{c}"]):
                continue
            side = pos if str(r["y"]) == labels[i][c] else neg
            for item in r["hist"]:
                where = min(max(int(item["b"]), 0), count - 1)
                side[where] += int(item["n"])
                low[where] = min(low[where], float(item["lo"]))
                high[where] = max(high[where], float(item["hi"]))
        tied = [lo == hi for lo, hi in zip(low, high, strict=True)]
        histograms[(i, c)] = (pos, neg, tied)
    return rows, cells, histograms


def _first_error(scored: DataFrame, index: int) -> str:
    """One of model `index`'s error messages (only read when it failed on some rows)."""
    from pyspark.sql import functions as F

    error = F.col(f"m{index}.error")
    row = scored.where(error.isNotNull()).select(error.alias("e")).limit(1).first()
    return str(row["e"]) if row is not None else "scoring failed"


def _bound_key(bound: float | None) -> dict[str, float]:
    return {} if bound is None else {AUC_BOUND: bound}


# -- the sample for the bootstrap, importance and latency -------------------------------


def _sample(
    session: SparkSession,
    table: spark.SparkTable,
    ready: list[Candidate],
    task: str,
    *,
    rows: int,
    keep: list[Column] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """At most `SAMPLE_ROWS` labelled rows, chosen by a seeded hash of their content:
    the target, for each model its features and outputs, and the `keep` columns."""

    from pyspark.sql import functions as F

    first = ready[0].dataset if ready else None
    assert first is not None
    assert first.labelled is not None
    frame = table.frame.where(first.labelled)
    if rows > SAMPLE_ROWS:
        share = int(1_000_000 * min(1.0, 1.1 * SAMPLE_ROWS / rows))
        content = [F.col(f"`{c}`") for c in table.frame.columns]
        frame = frame.where(F.pmod(F.xxhash64(F.lit(SEED), *content), F.lit(1_000_000)) < share)
    target = first.columns[-1]
    selected = [target.cast("double" if task == "regression" else "string").alias("y")]
    regrouped = [F.col("y")]
    for index, candidate in enumerate(ready):
        assert candidate.dataset is not None
        columns = candidate.dataset.columns[:-1]
        named = [f"f{index}_{n}" for n in range(len(columns))]
        selected += [c.alias(n) for c, n in zip(columns, named, strict=True)]
        udf = _udf(session, candidate, task)
        selected.append(udf(F.struct(*columns)).alias(f"r{index}"))
        regrouped += [F.col(n) for n in named]
        output = _as_output(F.col(f"r{index}"), _classes(candidate, task))
        regrouped.append(output.alias(f"m{index}"))
    kept = frame.select(*(keep or [])).columns
    selected += keep or []
    regrouped += [F.col(name) for name in kept]
    with spark.quiet():
        chosen = frame.select(*selected).limit(SAMPLE_ROWS).select(*regrouped)
        collected = chosen.toPandas()
    per_model = []
    for index, candidate in enumerate(ready):
        assert candidate.dataset is not None
        types = candidate.dataset.feature_types
        raw = collected[[f"f{index}_{n}" for n in range(len(types))]]
        raw.columns = list(types)
        per_model.append(pandas_features(raw, list(types), types))
    return collected, per_model


def _outcome(
    candidate: Candidate,
    metrics: dict[str, float],
    error: str | None,
    sample: tuple[pd.DataFrame, list[pd.DataFrame]],
    position: int,
    task: str,
) -> tuple[ModelScore, Any]:
    import numpy as np

    from podium.results import ModelScore
    from podium.scoring import InMemoryScoring, Outputs, latency_ms_per_1k

    version = candidate.version
    if error is not None or position < 0:
        return ModelScore(version=version.version, run_id=version.run_id, error=error), None
    collected, features = sample
    said = collected[f"m{position}"]
    sample_errors = [s["error"] for s in said if s is not None and s["error"]]
    metrics = {k: v for k, v in metrics.items() if k != AUC_BOUND}
    model = candidate.model
    if task == "regression":
        target: pd.Series = collected["y"].astype(float)
        outputs = Outputs(predicted=np.asarray([s["value"] for s in said], dtype=float))
    else:
        typed = {str(c): c for c in candidate.classes or []}
        target = collected["y"].map(lambda v: typed.get(v, v))
        predicted = np.asarray([typed.get(s["label"], s["label"]) for s in said])
        probas = [s["proba"] for s in said]
        proba: Any = None
        decision: Any = None
        if probas and all(p is not None for p in probas):
            stacked = np.vstack([np.asarray(p, dtype=float) for p in probas])
            if np.isnan(stacked).any():  # a margin's logistic, not probabilities (`_outputs`)
                decision = stacked[:, 1]
            else:
                proba = stacked
        outputs = Outputs(
            predicted=predicted, proba=proba, decision=decision, classes=candidate.classes
        )
    sampled = features[position]
    metrics["latency_ms"] = latency_ms_per_1k(model, sampled) if not sample_errors else math.nan
    if candidate.size_mb is not None:
        metrics["model_size_mb"] = candidate.size_mb
    scoring = InMemoryScoring(model, sampled, target, outputs, metrics)
    scored: dict[str, float | None] = dict(metrics)
    score = ModelScore(version=version.version, run_id=version.run_id, metrics=scored)
    return score, scoring


def _computation(
    rows: int,
    measured: list[tuple[dict[str, float], str | None]],
    sample_rows: int,
    task: str,
) -> Computation:
    from podium.results import Computation

    exact = ["rmse", "mae", "r2"] if task == "regression" else [
        "accuracy", "f1", "precision", "recall", "log_loss",
    ]  # fmt: skip
    approximate: dict[str, str] = {}
    if task != "regression":
        bounds = [m.get(AUC_BOUND) for m, _ in measured]
        worst = max((b for b in bounds if b is not None), default=None)
        if worst is not None:
            approximate["roc_auc"] = (
                f"from a {AUC_BINS:,}-bin histogram of scores by class; within ±{worst:.2e} "
                "of the exact value (pairs sharing a bin counted as ties)"
            )
    return Computation(
        engine="spark",
        rows=rows,
        exact=[*exact, "model_size_mb"],
        approximate=approximate,
        sample_rows=sample_rows,
        sampled=["bootstrap intervals", "permutation importance", "latency_ms"],
    )
