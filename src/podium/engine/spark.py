"""Spark as podium's engine: the session, tables, features, fingerprint and drift profile.

Everything here is a Spark aggregate or a bounded sample; nothing collects a table to
the driver. What comes back is what a `data.Table`/`data.Dataset` would say about the
same rows (names, counts, feature types, the normalised columns), so the stages judge
both alike, and the profile has `drift.profile`'s format, so a Spark-trained champion
and a file-trained challenger compare.

Differences from the pandas path, by design: quantile bin edges are Spark's approximate
quantiles (relative error `QUANTILE_ERROR`), the reference sample is Spark's seeded
Bernoulli sample, and the fingerprint hashes content, not a file's bytes (a Spark
table has no bytes podium could read) — order-independent, as Spark rows have no order.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import drift
from podium.errors import DataError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column, DataFrame, SparkSession

    from podium.config import SparkSection, TableSource

QUANTILE_ERROR = 1e-4  # relative rank error of the profile's bin edges
TARGET = "__podium_target__"  # the normalised target's column in a prepared frame
MAX_CLASSES = 1000  # more distinct labels than this is not a classification target
_NUMERIC = ("byte", "short", "int", "bigint", "long", "float", "double", "decimal")
# Set on a session podium builds itself, unless `spark.conf` names them; never on an
# active session (its owner's settings stand). Larger Arrow batches: the scoring UDF
# calls the model on 50,000 rows at a time, not 10,000 (~40% less Python CPU per row).
SESSION_DEFAULTS = {"spark.sql.execution.arrow.maxRecordsPerBatch": "50000"}


def session(settings: SparkSection) -> SparkSession:
    """The active Spark session, else one from podium.yaml's `spark:` (`local[*]` default).

    The same podium.yaml thus runs on a laptop and, under Databricks Connect or a
    `spark-submit` that made the session, against a cluster.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            "engine: spark needs pyspark (and Java 17+); `pip install pyspark` "
            "or use a file or SQL source"
        ) from None
    with quiet():
        # pyspark imports its test helpers on its first numpy conversion, and they warn
        # about pandas 3 on import: import them once here, quietly
        import pyspark.testing.utils  # noqa: F401
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(settings.master).appName("podium")
    for key, value in {**SESSION_DEFAULTS, **settings.conf}.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        builder = builder.config(key, text)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no Java, a bad master URL: the environment, not the data
        raise DataError(f"spark: cannot start a session ({_first_line(exc)}); fix spark:") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass(frozen=True)
class SparkTable:
    """A table inside Spark and what podium knows of it without collecting it."""

    path: str  # where it came from, for messages and result files
    frame: DataFrame
    rows: int
    sha256: str

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "columns": len(self.frame.columns),
            "sha256": self.sha256,
        }


_TABLES: dict[str, SparkTable] = {}


def read(source: Path | TableSource, *, label: str, spark: SparkSession) -> SparkTable:
    """An `engine: spark` source as a Spark table; a file or SQL source on the other side
    of the project is read as usual (it fits: it is read that way today) and handed over.

    Within one process a source is counted and fingerprinted once (validate, train and
    evaluate in `podium run` see one snapshot).
    """
    from podium import data

    key = str(source) if isinstance(source, Path) else source.model_dump_json()
    if key in _TABLES:
        return _TABLES[key]
    if isinstance(source, Path) or source.engine != "spark":
        table = data.read_table(source, label=label)
        frame = _from_pandas(spark, table.frame)
        result = SparkTable(str(table.path), frame, table.rows, table.sha256)
    else:
        result = _read_spark(source, label=label, spark=spark)
    while len(_TABLES) >= 4:
        _release(_TABLES.pop(next(iter(_TABLES))))
    _TABLES[key] = result
    return result


def _from_pandas(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:

    import pandas as pd

    # Arrow carries pandas' dtypes; text columns as plain objects with None for missing.
    plain = frame.copy()
    for column in plain.columns:
        if isinstance(plain[column].dtype, pd.StringDtype):
            values = plain[column].astype(object)
            plain[column] = values.where(plain[column].notna(), None)
    with quiet():
        return spark.createDataFrame(plain)


def _read_spark(source: TableSource, *, label: str, spark: SparkSession) -> SparkTable:
    from pyspark.errors import PySparkException

    from podium import data

    where = data.spark_where(source)
    persisted = None
    try:
        frame = data.spark_frame(source, spark)
        if not frame.columns:
            raise DataError(f"{where}: returned no columns ({label}); check the table or query")
        names = [str(c).strip() for c in frame.columns]
        duplicated = sorted({c for c in names if names.count(c) > 1})
        if duplicated:
            raise DataError(f"{where}: duplicate column name(s) {duplicated} ({label}); alias them")
        frame = frame.toDF(*names)
        # Every later pass reads the table again (prepare's checks and class counts, the
        # suite, the drift profile, the training sample, the scoring): the first one, the
        # fingerprint, fills a cache they all read, as GX's Spark engine did for a suite.
        persisted = frame.persist()
        rows, sha256 = fingerprint(frame)  # the first action: a failing query fails here
    except PySparkException as exc:
        if persisted is not None:
            persisted.unpersist()
        raise DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}") from None
    if rows == 0:
        raise DataError(f"{where}: returned no rows ({label}); check the table or query")
    return SparkTable(where, frame, rows, sha256)


def fingerprint(frame: DataFrame) -> tuple[int, str]:
    """(rows, sha256 of the content) in one aggregate pass.

    Each row is hashed twice (xxhash64, two salts); the sums of those 64-bit hashes,
    split in 32-bit halves so no sum can overflow below 2³¹ rows, form a multiset hash:
    the same rows in any order and partitioning give the same digest, a changed value
    changes it. The schema and the row count are part of the digest.
    """
    from pyspark.sql import functions as F

    columns = [F.col(f"`{c}`") for c in frame.columns]
    first = F.xxhash64(*columns)
    second = F.xxhash64(F.lit("podium"), *columns)
    low = F.lit(0xFFFFFFFF)
    parts = []
    for index, value in enumerate((first, second)):
        parts.append(F.sum(F.shiftrightunsigned(value, 32)).alias(f"h{index}"))
        parts.append(F.sum(value.bitwiseAND(low)).alias(f"l{index}"))
    row = frame.agg(F.count(F.lit(1)).alias("rows"), *parts).first()
    assert row is not None
    rows = int(row["rows"])
    digest = hashlib.sha256()
    digest.update(frame.schema.simpleString().encode())
    digest.update(repr([rows, *(int(row[k] or 0) for k in ("h0", "l0", "h1", "l1"))]).encode())
    return rows, digest.hexdigest()


# -- features and target, as data.prepare makes them ----------------------------------


@dataclass(frozen=True)
class SparkDataset:
    """Labelled rows with normalised feature columns and the target in `TARGET`."""

    frame: DataFrame
    feature_types: dict[str, str]
    rows: int  # labelled rows
    dropped_unlabelled: int
    classes: dict[str, int] = field(default_factory=dict)  # label (as text) -> rows
    # how `frame` is made from the table's frame: labelled rows, then these columns
    labelled: Column | None = None
    columns: list[Column] = field(default_factory=list)  # the features, then TARGET


def _kind(frame: DataFrame, column: str) -> str:
    return str(frame.schema[column].dataType.simpleString())


def prepare(
    table: SparkTable,
    *,
    target: str,
    task: str,
    features: list[str] | None,
    exclude: list[str],
    expected_types: dict[str, str] | None = None,
) -> SparkDataset:
    """`data.prepare` on the engine: the same checks and messages, one aggregate pass
    (remembered: validate, train and evaluate in one process prepare a table once).

    Numbers, booleans, dates and timestamps are numeric (dates as epoch seconds), and so
    is text that is entirely ISO 8601 dates (as the pandas path parses it); other text is
    categorical unless the training data had the column numeric.
    """
    key = repr((table.path, table.sha256, target, task, features, exclude, expected_types))
    if key not in _PREPARED:
        while len(_PREPARED) >= 8:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = _prepare(table, target, task, features, exclude, expected_types)
    return _PREPARED[key]


_PREPARED: dict[str, SparkDataset] = {}


def _prepare(
    table: SparkTable,
    target: str,
    task: str,
    features: list[str] | None,
    exclude: list[str],
    expected_types: dict[str, str] | None,
) -> SparkDataset:
    from pyspark.sql import functions as F

    from podium import data

    frame, path = table.frame, table.path
    columns = list(frame.columns)
    wanted = data.feature_columns(
        path, columns, target, features, exclude, expected_types=expected_types
    )

    y = F.col(f"`{target}`")
    y_kind = _kind(frame, target)
    y_present = _present(y, y_kind)
    checks: list[Column] = [F.count(F.when(y_present, 1)).alias("labelled")]
    if task == "regression" and not y_kind.startswith(_NUMERIC):
        bad = y.isNotNull() & y.cast("double").isNull()
        checks.append(F.first(F.when(bad, y.cast("string")), ignorenulls=True).alias("y_bad"))
    if task != "regression" and y_kind in ("float", "double"):
        checks.append(F.count(F.when(y_present & (y != F.floor(y)), 1)).alias("y_fraction"))
    types: dict[str, str] = {}
    for index, column in enumerate(wanted):
        value, kind = F.col(f"`{column}`"), _kind(frame, column)
        expected = expected_types.get(column) if expected_types else None
        types[column] = _feature_kind(kind, expected)
        checks.append(F.count(F.when(_present(value, kind), 1)).alias(f"n{index}"))
        if kind in ("float", "double"):
            infinite = value.isin(math.inf, -math.inf)
            checks.append(F.count(F.when(infinite, 1)).alias(f"inf{index}"))
        if types[column] == "numeric" and not _is_numeric_kind(kind):
            bad = value.isNotNull() & _numeric(value, kind).isNull()
            checks.append(
                F.first(F.when(bad, value.cast("string")), ignorenulls=True).alias(f"b{index}")
            )
        if kind == "string" and expected != "categorical":  # ISO dates in text are dates
            not_date = value.isNotNull() & ~value.rlike(f"^(?:{_iso_date_pattern()})$")
            checks.append(F.count(F.when(not_date, 1)).alias(f"nd{index}"))
    try:
        first = frame.agg(*checks).first()
    except Exception as exc:  # a query that fails only once it runs
        raise DataError(f"{path}: {_first_line(exc)}; fix the table or query") from None
    assert first is not None
    found = first.asDict()
    dates = {c for i, c in enumerate(wanted) if found.get(f"nd{i}") == 0 and found[f"n{i}"]}
    types |= dict.fromkeys(dates, "numeric")  # as data.prepare: epoch seconds (UTC)
    labelled = int(found["labelled"])
    if labelled == 0:
        raise DataError(f"{path}: target column '{target}' is empty in every row; fill it")
    if found.get("y_bad") is not None:
        raise DataError(
            f"{path}: target '{target}' must be numeric for regression; found "
            f"{found['y_bad']!r}; fix the data or set model.task: classification"
        )
    for index, column in enumerate(wanted):
        if int(found[f"n{index}"]) == 0:
            raise DataError(
                f"{path}: column '{column}' has no values at all; drop it or list it in "
                "data.exclude"
            )
        if found.get(f"inf{index}"):
            raise DataError(
                f"{path}: column '{column}' has an infinite value; "
                "replace it with a number or leave the cell empty"
            )
        if found.get(f"b{index}") is not None and column not in dates:
            raise DataError(
                f"{path}: column '{column}' is numeric in the training data but has "
                f"non-numeric value {found[f'b{index}']!r} here; fix the value or the export"
            )
    if task == "regression":
        y_value = y.cast("double")
    elif y_kind == "boolean" or (y_kind in ("float", "double") and not int(found["y_fraction"])):
        y_value = y.cast("bigint")
    else:
        y_value = y
    selected = [
        (
            _iso_seconds(F.col(f"`{c}`"))
            if c in dates
            else normalised(F.col(f"`{c}`"), _kind(frame, c), types[c])
        ).alias(c)
        for c in wanted
    ]
    selected.append(y_value.alias(TARGET))
    prepared = frame.where(y_present).select(*selected)
    classes: dict[str, int] = {}
    if task != "regression":
        counted = (
            prepared.groupBy(F.col(TARGET).cast("string").alias("label"))
            .count()
            .limit(MAX_CLASSES + 1)
            .collect()
        )
        classes = {str(r["label"]): int(r["count"]) for r in counted}
    return SparkDataset(
        prepared, types, labelled, table.rows - labelled, classes, y_present, selected
    )


def _is_numeric_kind(kind: str) -> bool:
    return kind.startswith(_NUMERIC) or kind in ("boolean", "date") or kind.startswith("timestamp")


def _feature_kind(kind: str, expected: str | None) -> str:
    if expected is not None:
        return expected
    return "numeric" if _is_numeric_kind(kind) else "categorical"


def _present(value: Column, kind: str) -> Column:
    """Not missing, as pandas' `notna` sees it (NaN is missing)."""
    from pyspark.sql import functions as F

    if kind in ("float", "double"):
        return value.isNotNull() & ~F.isnan(value)
    return value.isNotNull()


def _numeric(value: Column, kind: str) -> Column:
    from pyspark.sql import functions as F

    if kind == "date" or kind.startswith("timestamp"):
        return F.unix_micros(value.cast("timestamp")) / 1e6
    if kind == "string":
        return value.try_cast("double")
    return value.cast("double")


def _iso_date_pattern() -> str:
    """The pattern of text `data.prepare` reads as ISO 8601 dates and timestamps."""
    from podium import raw_rows

    return raw_rows.ISO_DATE


def _iso_seconds(value: Column) -> Column:
    """ISO 8601 text as epoch seconds, as `data.prepare` reads it (`utc=True`): text
    without a zone is UTC, a date alone its midnight, `+hhmm` an offset like `+hh:mm`."""
    from pyspark.sql import functions as F

    zoned = value.rlike(r"(?:Z|[+-]\d{2}:?\d{2})$")
    offset = F.regexp_replace(value, r"([+-]\d{2})(\d{2})$", "$1:$2")
    midnight = F.when(F.length(value) == 10, F.lit(" 00:00:00")).otherwise(F.lit(""))
    text = F.when(zoned, offset).otherwise(F.concat(value, midnight, F.lit("Z")))
    return F.unix_micros(text.cast("timestamp")) / 1e6


def normalised(value: Column, kind: str, feature: str) -> Column:
    """A feature column as the model sees it: double for numeric, text for categorical
    (an integral float as '1', not '1.0', as the pandas path writes it)."""
    from pyspark.sql import functions as F

    if feature == "numeric":
        return _numeric(value, kind)
    if kind in ("float", "double"):
        integral = value == F.floor(value)
        return F.when(integral, value.cast("bigint").cast("string")).otherwise(value.cast("string"))
    return value.cast("string")


# -- the drift profile and the comparison with one -------------------------------------


def profile(
    dataset: SparkDataset,
    *,
    bins: int = drift.BINS,
    sample_size: int = drift.SAMPLE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """`drift.profile` of a prepared Spark dataset, in the same format, from aggregates:
    approximate quantile edges, bin counts, missing counts, the top categories and a
    seeded sample of at most `sample_size` values per numeric feature."""
    import numpy as np

    frame, types = dataset.frame, dataset.feature_types
    numeric = [c for c, k in types.items() if k == "numeric"]
    probabilities = [float(p) for p in np.linspace(0, 1, bins + 1)[1:-1]]
    edges: dict[str, np.ndarray] = {}
    if numeric:
        quantiles = frame.approxQuantile(numeric, probabilities, QUANTILE_ERROR)
        edges = {
            c: np.unique(np.asarray(q, dtype=float))
            for c, q in zip(numeric, quantiles, strict=True)
        }
    counted = _counts(frame, types, edges, {})
    samples = _samples(frame, numeric, sample_size, seed, rows=dataset.rows)
    for column, kind in types.items():
        if kind != "numeric":
            counts, missing = counted[column]
            counted[column] = (_top_categories(dict(counts)), missing)
    return drift.profile_from(dataset.rows, types, edges, counted, samples)


def _top_categories(counts: dict[str, int]) -> dict[str, int]:
    """The `drift.MAX_CATEGORIES` most frequent categories, the rest (and the unseen ones
    counted together) under `drift.OTHER`."""
    rest = counts.pop(_UNSEEN, 0)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    categories = dict(ordered[: drift.MAX_CATEGORIES])
    rest += sum(v for _, v in ordered[drift.MAX_CATEGORIES :])
    if rest:
        categories[drift.OTHER] = rest
    return categories


def compare(
    reference: dict[str, Any],
    dataset: SparkDataset,
    *,
    psi_threshold: float = drift.PSI_THRESHOLD,
    p_value: float = drift.P_VALUE,
    sample_size: int = drift.SAMPLE_SIZE,
    seed: int = 0,
) -> list[drift.FeatureDrift]:
    """`drift.compare` on the engine: counts over the reference's bins and categories, and
    a sample of at most `sample_size` values, judged by the same functions."""
    types = dataset.feature_types
    chosen, edges, known = drift.reference_bins(reference, types, dataset.frame.columns)
    counted = _counts(dataset.frame, {c: types[c] for c in chosen}, edges, known)
    samples = _samples(dataset.frame, list(edges), sample_size, seed, rows=dataset.rows)
    return drift.from_counts(
        chosen,
        counted,
        samples,
        psi_threshold=psi_threshold,
        p_value=p_value,
        sample_size=sample_size,
    )


_UNSEEN = "\x00podium-unseen"  # categories outside the reference's, summed (never a label)


def _counts(
    frame: DataFrame,
    types: dict[str, str],
    edges: dict[str, Any],
    known: dict[str, list[str]],
) -> dict[str, tuple[Any, int]]:
    """Per feature: (bin counts over `edges`, or category counts; missing count).

    Bins are (-inf, e0], (e0, e1], …, (ek, inf) as `drift` counts them. Categories are
    counted one by one; with `known` given (a reference's categories), any other
    category is counted under one key, so what comes back stays small.
    """
    from pyspark.sql import functions as F

    out: dict[str, tuple[Any, int]] = {}
    aggregates: list[Column] = []
    numeric = [c for c, k in types.items() if k == "numeric"]
    for index, column in enumerate(numeric):
        value = F.col(f"`{column}`")
        present = value.isNotNull() & ~F.isnan(value) & ~value.isin(math.inf, -math.inf)
        aggregates.append(F.count(F.when(~present, 1)).alias(f"m{index}"))
        cuts = list(edges[column])
        for position in range(len(cuts) + 1):
            inside = present
            if position > 0:
                inside = inside & (value > float(cuts[position - 1]))
            if position < len(cuts):
                inside = inside & (value <= float(cuts[position]))
            aggregates.append(F.count(F.when(inside, 1)).alias(f"b{index}_{position}"))
    categorical = [c for c, k in types.items() if k != "numeric"]
    for index, column in enumerate(categorical):
        value = F.col(f"`{column}`")
        aggregates.append(F.count(value).alias(f"c{index}"))
        aggregates.append(F.count(F.when(value.isNull(), 1)).alias(f"cm{index}"))
    if not aggregates:
        return out
    row = frame.agg(*aggregates).first()
    assert row is not None
    for index, column in enumerate(numeric):
        count = len(edges[column]) + 1
        bins = [int(row[f"b{index}_{p}"]) for p in range(count)]
        out[column] = (bins, int(row[f"m{index}"]))
    for index, column in enumerate(categorical):
        value = F.col(f"`{column}`")
        present_rows, missing = int(row[f"c{index}"]), int(row[f"cm{index}"])
        if column in known:
            value = F.when(value.isin(known[column]), value).otherwise(F.lit(_UNSEEN))
        grouped = frame.where(F.col(f"`{column}`").isNotNull()).groupBy(value.alias("v")).count()
        if column not in known:  # the profile keeps the most frequent categories only
            grouped = grouped.orderBy(F.desc("count"), F.asc("v")).limit(drift.MAX_CATEGORIES)
        categories = {str(r["v"]): int(r["count"]) for r in grouped.collect()}
        beyond = present_rows - sum(categories.values())
        if beyond:
            categories[_UNSEEN] = categories.get(_UNSEEN, 0) + beyond
        out[column] = (categories, missing)
    return out


def _samples(
    frame: DataFrame, columns: list[str], size: int, seed: int, *, rows: int
) -> dict[str, Any]:
    """A seeded sample of the `rows` rows (at most `size`; all of them in a table that
    small) and each numeric column's finite values in it, in one job."""
    import numpy as np
    from pyspark.sql import functions as F

    if not columns:
        return {}
    finite = []
    for column in columns:
        value = F.col(f"`{column}`")
        present = value.isNotNull() & ~F.isnan(value) & ~value.isin(math.inf, -math.inf)
        finite.append(F.when(present, value).alias(column))
    chosen = frame.select(*finite)
    if rows > size:  # `rows` is known from `prepare`: counting again is a pass over the table
        chosen = chosen.sample(fraction=min(1.0, 1.2 * size / rows), seed=seed)
    # The first `size` sampled rows in partition order, as `.limit(size)` takes them — but
    # in one job: a limit scans a partition, then more in rounds (a second pass at least),
    # and the whole sample is only ~1.2 × size rows.
    picked = chosen.collect()[:size]
    return {
        column: np.asarray([r[i] for r in picked if r[i] is not None], dtype=float)
        for i, column in enumerate(columns)
    }


# -- training on a sample ---------------------------------------------------------------


def training_sample(dataset: SparkDataset, *, rows: int, task: str, seed: int = 0) -> pd.DataFrame:
    """At most about `rows` prepared rows as pandas, stratified by class (each class keeps
    the same share of its rows) and seeded; all rows when there are fewer."""

    from pyspark.sql import functions as F

    frame = dataset.frame
    if dataset.rows > rows:
        fraction = rows / dataset.rows
        if task == "classification" and dataset.classes:
            label = F.col(TARGET).cast("string")
            frame = (
                frame.withColumn("__stratum", label)
                .sampleBy("__stratum", {c: fraction for c in dataset.classes}, seed=seed)
                .drop("__stratum")
            )
        else:
            frame = frame.sample(fraction=fraction, seed=seed)
    with quiet():
        return frame.toPandas()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Without pyspark's warnings about pandas 3 (its Arrow path works on it; podium's
    tests prove the results) and the `copy=` keyword it still passes."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        warnings.filterwarnings("ignore", "The copy keyword is deprecated")
        yield


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split())[:300] if text else type(exc).__name__


def forget() -> None:
    """Drop the tables and prepared datasets remembered in this process (a new snapshot),
    and the cache of the Spark tables `read` persisted (a re-read sees the new data)."""
    for table in _TABLES.values():
        _release(table)
    _TABLES.clear()
    _PREPARED.clear()


def _release(table: SparkTable) -> None:
    """Unpersist a table `read` persisted (a file handed over to Spark was not)."""
    if table.frame.is_cached:
        with contextlib.suppress(Exception):  # a stopped session has nothing cached
            table.frame.unpersist()


def text_as_numbers(
    frame: DataFrame, columns: list[str], *, where: str, label: str
) -> dict[str, Column]:
    """Text columns a version reads as numbers, as `data.features_like` reads them: a column
    entirely of ISO 8601 dates as epoch seconds, else numbers as doubles; a value that is
    neither is a DataError naming it. One aggregate pass (nothing collected but counts)."""
    from pyspark.sql import functions as F

    if not columns:
        return {}
    checks: list[Column] = []
    for index, column in enumerate(columns):
        value = F.col(f"`{column}`")
        not_date = value.isNotNull() & ~value.rlike(f"^(?:{_iso_date_pattern()})$")
        checks.append(F.count(F.when(not_date, 1)).alias(f"nd{index}"))
        bad = value.isNotNull() & value.try_cast("double").isNull()
        checks.append(F.first(F.when(bad, value), ignorenulls=True).alias(f"b{index}"))
    try:
        first = frame.agg(*checks).first()
    except Exception as exc:  # a query that fails only once it runs
        raise DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}") from None
    assert first is not None
    found = first.asDict()
    out: dict[str, Column] = {}
    for index, column in enumerate(columns):
        value = F.col(f"`{column}`")
        if int(found[f"nd{index}"]) == 0:
            out[column] = _iso_seconds(value)
        elif found[f"b{index}"] is not None:
            raise DataError(
                f"{where}: column '{column}' is numeric in the training data but has "
                f"non-numeric value {found[f'b{index}']!r} here ({label}); fix the value or "
                "the export"
            )
        else:
            out[column] = value.try_cast("double")
    return out
