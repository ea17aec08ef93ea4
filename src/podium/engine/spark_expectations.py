"""Expectation suites on Spark tables in one pass: `expectations.run_spark`'s results,
a fraction of its Spark jobs.

GX's Spark engine runs about one job per expectation: a count, then per expectation its
unexpected count, then a `limit` for its examples. The types
`podium suggest` writes are checked here instead, with GX's very conditions
(`great_expectations/expectations/metrics/column_map_metrics/*._spark`) and GX's result
records: every table's row count, null counts and unexpected counts come from ONE
aggregate; a unique check adds one `groupBy`; and only an expectation that failed fetches
its examples, with the same bounded query GX runs (so the same rows, in the same order).
Differential tests against GX on Spark hold the records equal
(tests/engine/test_spark_expectations.py).

Anything else — other types, `row_condition`, unusual column types or value sets — goes
to GX exactly as before; a suite mixes both, and GX is imported only if something is left
for it.

One deliberate difference: a type check in pandas' dtype names (what `podium suggest`
writes) cannot be answered by GX on Spark (it knows only pyspark's type names, and fails
with "No recognized spark types"). It is answered from the dtype pandas gives the column
read whole, as for SQL sources (`expectations.run_sql`) and as `engine/spark_suggest.py`
maps Spark types to pandas'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium import expectations
from podium.expectations import Report, Suite

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_INTEGRAL = ("tinyint", "smallint", "int", "bigint")
_NUMBERS = (*_INTEGRAL, "float", "double", "decimal")  # `x / 10.0` in Spark SQL is a decimal
# types Spark can group and compare (a unique check's groupBy); maps, arrays and structs: GX
_ATOMIC = (*_NUMBERS, "string", "boolean", "date", "timestamp", "timestamp_ntz")
# the pandas dtype `toPandas` gives a Spark type read whole without / with missing values
_PANDAS_DTYPE = {
    "tinyint": ("int8", "float64"),
    "smallint": ("int16", "float64"),
    "int": ("int32", "float64"),
    "bigint": ("int64", "float64"),
    "float": ("float32", "float32"),
    "double": ("float64", "float64"),
    "boolean": ("bool", "str"),  # None makes pandas' booleans object: text
    "string": ("str", "str"),
    "date": ("str", "str"),  # Python dates in an object column
    "decimal": ("object", "object"),  # Decimal objects
    "timestamp": ("datetime64[us, UTC]", "datetime64[us, UTC]"),
    "timestamp_ntz": ("datetime64[us]", "datetime64[us]"),
}
# the pandas names a type check may use here: `podium suggest`'s lists and the dtypes above
_PANDAS_NAMES = expectations.PANDAS_TYPES | {n for pair in _PANDAS_DTYPE.values() for n in pair}
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*")  # what F.col(name) reads as one column
_LONG = 2**63


@dataclass(frozen=True)
class _Check:
    """How one expectation is answered: its GX kwargs and, for a column map type, GX's
    unexpected condition (None: no per-row condition)."""

    kind: str
    kwargs: dict[str, Any]
    unexpected: Column | None = None


def run(suite: Suite, frames: Mapping[str, DataFrame]) -> Report:
    """Validate each named Spark DataFrame: `expectations.run_spark`'s report."""
    report = Report(suite=str(suite.path))
    built: dict[int, Any] = {}  # GX objects, made only for what is left to GX
    for dataset, frame in frames.items():
        # GX's Spark engine persists every table it validates, and since engine: spark
        # began the later passes (drift profile, training sample, scoring) have read the
        # tables from that cache; keep it so, whoever validates (`spark.read` persists
        # the tables it reads already: caching them twice only logs a warning)
        if not frame.is_cached:
            frame.persist()
        checks = {
            index: check
            for index, item in enumerate(suite.expectations)
            if (check := _plan(item, frame)) is not None
        }
        # None: Spark refused the one-pass query; GX runs everything and says what is wrong
        own = _answer(checks, frame, dataset) or {}
        rest = [i for i in range(len(suite.expectations)) if i not in own]
        found: Any = iter([])
        if rest:
            missing = [i for i in rest if i not in built]
            if missing:
                built.update(
                    zip(missing, expectations.build_expectations(suite, missing), strict=True)
                )
            batch = expectations.spark_batch_definition(dataset).get_batch(
                batch_parameters={"dataframe": frame}
            )
            found = iter(
                expectations.validate_batch(suite, [built[i] for i in rest], batch, dataset)
            )
        for index in range(len(suite.expectations)):
            report.results.append(own[index] if index in own else next(found))
    return report


def _kind(frame: DataFrame, column: str) -> str:
    """The column's Spark type name, without a decimal's precision and scale."""
    return str(frame.schema[column].dataType.simpleString()).split("(")[0]


def _plan(item: Mapping[str, Any], frame: DataFrame) -> _Check | None:
    """The check for `item` on `frame`, or None where it is GX's to judge."""
    from pyspark.sql import functions as F

    if not expectations.fast_config(item):
        return None
    kind = item["type"]
    raw = item.get("kwargs") or {}
    kwargs = expectations.gx_kwargs(kind, raw)
    if kind in ("expect_table_row_count_to_be_between", "expect_column_to_exist"):
        return _Check(kind, kwargs)
    name = kwargs["column"]
    if name not in frame.columns or not _PLAIN_NAME.fullmatch(name):
        return None  # GX reads a dotted name as a struct field
    column_type = _kind(frame, name)
    column = F.col(name)  # as GX names it
    if kind == "expect_column_values_to_be_in_type_list":
        if set(raw) != {"column", "type_list"}:
            return None  # `mostly` on a type check: GX's
        return _Check(kind, kwargs) if _type_answer(kwargs["type_list"], frame, name) else None
    if column_type not in _ATOMIC:
        return None
    if kind == "expect_column_values_to_not_be_null":
        # GX's ColumnValuesNonNull: `isNotNull`, nulls not filtered (NaN is a value)
        return _Check(kind, kwargs, ~column.isNotNull())
    if kind == "expect_column_values_to_be_unique":
        return _Check(kind, kwargs)  # a window condition: counted by a groupBy
    if kind == "expect_column_values_to_be_between":
        if column_type not in _NUMBERS:
            return None  # GX rejects text against numbers, or compares with its own casts
        expected = _between(column, kwargs)
    elif kind == "expect_column_values_to_be_in_set":
        values = kwargs["value_set"]
        if not _comparable(values, column_type):
            return None  # a cast Spark may refuse (ANSI): GX reports it in its words
        expected = column.isin(values)
    else:
        return None
    # GX's column_condition_partial: nulls are not considered
    return _Check(kind, kwargs, column.isNotNull() & ~expected)


def _between(column: Column, kwargs: Mapping[str, Any]) -> Column:
    """GX's ColumnValuesBetween._spark, operator for operator."""
    from pyspark.sql import functions as F

    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    strict_min, strict_max = kwargs.get("strict_min"), kwargs.get("strict_max")
    if low is None:
        return column < F.lit(high) if strict_max else column <= F.lit(high)
    if high is None:
        return column > F.lit(low) if strict_min else column >= F.lit(low)
    above = column > F.lit(low) if strict_min else column >= F.lit(low)
    below = column < F.lit(high) if strict_max else column <= F.lit(high)
    return above & below


def _comparable(values: list[Any], column_type: str) -> bool:
    """Whether `isin(values)` compares like with like on this column type."""
    if column_type == "string":
        return all(isinstance(v, str) for v in values)
    if column_type == "boolean":
        return all(isinstance(v, bool) for v in values)
    if column_type in _NUMBERS:
        return all(
            isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < _LONG
            for v in values
        )
    return False


def _type_answer(type_list: list[str], frame: DataFrame, name: str) -> bool:
    """Whether podium answers this type check: pyspark's type names (GX's semantics) or
    only pandas' dtype names on a column whose pandas dtype is known."""
    from pyspark.sql import types as T

    found = [getattr(T, n) for n in type_list if hasattr(T, n)]
    if found:  # GX: isinstance over the names pyspark knows, the others ignored
        return all(isinstance(t, type) and issubclass(t, T.DataType) for t in found)
    return _kind(frame, name) in _PANDAS_DTYPE and all(n in _PANDAS_NAMES for n in type_list)


def _answer(
    checks: Mapping[int, _Check], frame: DataFrame, dataset: str
) -> dict[int, dict[str, Any]] | None:
    """GX's record per check: one aggregate, a groupBy per unique column, and a bounded
    query for each failed expectation's examples. None if Spark refuses the query."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    if not checks:
        return {}
    nulls: dict[str, str] = {}  # column -> alias of its null count
    parts: list[Column] = [F.count(F.lit(1)).alias("rows")]
    for index, check in checks.items():
        name = check.kwargs.get("column")
        table_wide = check.kind in (
            "expect_table_row_count_to_be_between",
            "expect_column_to_exist",
        )
        if isinstance(name, str) and not table_wide and name not in nulls:
            nulls[name] = f"n{len(nulls)}"
            parts.append(F.count(F.when(F.col(name).isNull(), 1)).alias(nulls[name]))
        if check.unexpected is not None:
            # GX's own aggregate (a sum: null, not 0, on an empty table, as GX reports)
            total = F.sum(F.when(check.unexpected, 1).otherwise(0))
            parts.append(total.alias(f"u{index}"))
    try:
        row = frame.agg(*parts).first()
        assert row is not None
        found = row.asDict()
        for index, check in checks.items():
            if check.kind == "expect_column_values_to_be_unique":
                found[f"u{index}"] = _repeated(frame, check.kwargs["column"])
        out = {}
        for index, check in checks.items():
            unexpected = found.get(f"u{index}")
            out[index] = _record(check, frame, dataset, found, nulls, unexpected)
    except PySparkException:
        return None
    return out


def _repeated(frame: DataFrame, name: str) -> int:
    """Non-null rows whose value occurs more than once (GX's unique window, as a groupBy)."""
    from pyspark.sql import functions as F

    counts = frame.where(F.col(name).isNotNull()).groupBy(F.col(name)).count()
    row = counts.where(F.col("count") > 1).agg(F.sum("count").alias("rows")).first()
    return int(row["rows"] or 0) if row is not None else 0


def _record(
    check: _Check,
    frame: DataFrame,
    dataset: str,
    found: Mapping[str, Any],
    nulls: Mapping[str, str],
    unexpected: int | None,
) -> dict[str, Any]:
    kind, kwargs = check.kind, check.kwargs
    rows = int(found["rows"])
    if kind == "expect_table_row_count_to_be_between":
        success = expectations.within_bounds(rows, kwargs)
        return expectations.make_result(dataset, kind, kwargs, success, {"observed_value": rows})
    name = kwargs["column"]
    if kind == "expect_column_to_exist":
        return expectations.make_result(dataset, kind, kwargs, name in frame.columns, {})
    missing = int(found[nulls[name]])
    if kind == "expect_column_values_to_be_in_type_list":
        success, observed = _type_check(kwargs["type_list"], frame, name, missing=missing > 0)
        return expectations.make_result(
            dataset, kind, kwargs, success, {"observed_value": observed}
        )
    count = None if unexpected is None else int(unexpected)
    mostly = float(kwargs.get("mostly", 1.0))
    # GX's ExpectColumnValuesToNotBeNull considers every row, the other types non-null ones
    every = kind == "expect_column_values_to_not_be_null"
    considered = rows if every else rows - missing
    # nothing to consider is vacuously true, as GX says
    success = (
        count is None or rows == 0 or considered == 0 or (considered - count) / considered >= mostly
    )
    percent = count / considered * 100 if count is not None and rows and considered else None
    raw = {
        "element_count": rows,
        "unexpected_count": count,
        "unexpected_percent": percent,
        "partial_unexpected_list": [] if success else _examples(check, frame),
    }
    return expectations.make_result(dataset, kind, kwargs, success, raw)


def _examples(check: _Check, frame: DataFrame) -> list[Any]:
    """GX's `partial_unexpected_list`: the query its Spark engine runs, the same rows in
    the same order (`_spark_column_map_condition_values`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = check.kwargs["column"]
    condition = check.unexpected
    domain = frame
    if condition is None:  # unique: GX's window over the non-null rows
        domain = frame.filter(f"`{name}` IS NOT NULL")
        condition = ~(F.count(F.lit(1)).over(Window.partitionBy(F.col(name))) <= 1)
    data = domain.withColumn("__unexpected", condition)
    filtered = data.filter(F.col("__unexpected") == True).drop(F.col("__unexpected"))  # noqa: E712
    query = filtered.select(F.col(name).alias(name)).limit(expectations.PARTIAL_VALUES)
    return [row[name] for row in query.collect()]


def _type_check(
    type_list: list[str], frame: DataFrame, name: str, *, missing: bool
) -> tuple[bool, str]:
    """(success, observed type name) of a type check `_type_answer` accepted."""
    from pyspark.sql import types as T

    data_type = frame.schema[name].dataType
    found = [getattr(T, n) for n in type_list if hasattr(T, n)]
    if found:  # GX's ExpectColumnValuesToBeInTypeList._validate_spark
        return isinstance(data_type, tuple(found)), type(data_type).__name__
    dtype = _PANDAS_DTYPE[_kind(frame, name)][missing]
    text = dtype in ("str", "object") and bool(set(type_list) & expectations.TEXT_TYPES)
    return dtype in type_list or text, dtype
