"""`podium suggest` on Spark: the starting suite's profile from engine aggregates.

`stages.suggest` measures pandas frames; this computes the same numbers inside
Spark — row counts, each column's non-null share, numeric min and max (one aggregate per
table), and for text, booleans and labels at most `suggestions.MAX_CATEGORIES` + 1 distinct values
(a `limit`, so an id column never comes back whole; its uniqueness is an exact distinct
count) — and `podium.suggestions` writes the same rules: on the same table, the same suite.

Spark's types are read as pandas reads the same data (`data.read_table`): an integer
column with missing values is float in pandas, a boolean one text; dates are text
(Python dates in an object column); timestamps keep their pandas dtype name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium import suggestions

if TYPE_CHECKING:
    from collections.abc import Collection

    from pyspark.sql import Column, DataFrame

    from podium.engine.spark import SparkTable

_INTEGRAL = ("tinyint", "smallint", "int", "bigint", "byte", "short", "long")
_FRACTIONAL = ("float", "double")


def rules(
    tables: list[SparkTable], *, target: str, task: str, exclude: Collection[str] = ()
) -> list[dict[str, Any]]:
    """`stages.suggest.rules` for Spark tables: the expectations every table meets today."""
    profiles = [_profile(t.frame) for t in tables]
    columns = list(dict.fromkeys(c for t in tables for c in t.frame.columns))
    stats = {
        column: _stats(
            column, [(t, p[column]) for t, p in zip(tables, profiles, strict=True) if column in p]
        )
        for column in columns
    }
    return suggestions.rules(
        [t.rows for t in tables], stats, target=target, task=task, exclude=exclude
    )


def _kind(frame: DataFrame, column: str) -> str:
    return str(frame.schema[column].dataType.simpleString())


def _present(frame: DataFrame, column: str) -> Column:
    """Not missing as pandas' `notna` sees it (NaN is missing)."""
    from pyspark.sql import functions as F

    value = F.col(f"`{column}`")
    if _kind(frame, column) in _FRACTIONAL:
        return value.isNotNull() & ~F.isnan(value)
    return value.isNotNull()


def _profile(frame: DataFrame) -> dict[str, dict[str, Any]]:
    """Per column, in one aggregate: rows, non-null count, and min/max of numbers."""
    from pyspark.sql import functions as F

    parts: list[Column] = [F.count(F.lit(1)).alias("rows")]
    for index, column in enumerate(frame.columns):
        present = _present(frame, column)
        parts.append(F.count(F.when(present, 1)).alias(f"n{index}"))
        kind = _kind(frame, column)
        if kind in _INTEGRAL or kind in _FRACTIONAL or kind.startswith("decimal"):
            value = F.when(present, F.col(f"`{column}`"))
            parts += [F.min(value).alias(f"lo{index}"), F.max(value).alias(f"hi{index}")]
    row = frame.agg(*parts).first()
    assert row is not None
    found = row.asDict()
    out = {}
    for index, column in enumerate(frame.columns):
        kind = _kind(frame, column)
        count = int(found[f"n{index}"])
        out[column] = {
            "kind": kind,
            "rows": int(found["rows"]),
            "present": count,
            "family": _family(kind, missing=count < int(found["rows"])),
            "low": found.get(f"lo{index}"),
            "high": found.get(f"hi{index}"),
        }
    return out


def _family(kind: str, *, missing: bool) -> str:
    """The pandas dtype family `data.read_table` gives this Spark type."""
    if kind in _INTEGRAL:
        return "float" if missing else "int"  # NaN makes pandas' integers float64
    if kind in _FRACTIONAL:
        return "float"
    if kind.startswith("decimal"):
        return "text"  # pandas holds Decimal objects
    if kind == "boolean":
        return "text" if missing else "bool"  # None makes pandas' booleans object
    if kind in ("string", "date") or kind.startswith(("varchar", "char")):
        return "text"
    return "other"


def _dtype(kind: str) -> str:
    """The pandas dtype name for a type outside the families (only timestamps, here)."""
    if kind == "timestamp":
        return "datetime64[us, UTC]"
    if kind == "timestamp_ntz":
        return "datetime64[us]"
    return kind


def _stats(column: str, parts: list[tuple[SparkTable, dict[str, Any]]]) -> suggestions.ColumnStats:
    """A column's measures over the Spark tables that have it; its distinct values are
    asked of Spark only when a rule needs them."""
    lows = [p["low"] for _, p in parts if p["low"] is not None]
    highs = [p["high"] for _, p in parts if p["high"] is not None]
    present = sum(p["present"] for _, p in parts)

    def values() -> DataFrame:
        from pyspark.sql import functions as F

        found = None
        for table, _ in parts:
            chosen = table.frame.where(_present(table.frame, column)).select(
                F.col(f"`{column}`").alias("v")
            )
            found = chosen if found is None else found.union(chosen)
        assert found is not None
        return found

    def distinct(limit: int | None) -> list[Any]:
        rows = values().distinct()
        return [r["v"] for r in (rows if limit is None else rows.limit(limit)).collect()]

    return suggestions.ColumnStats(
        family=suggestions.family_of({p["family"] for _, p in parts}),
        dtypes={_dtype(p["kind"]) for _, p in parts},
        non_null=min(p["present"] / p["rows"] for _, p in parts),
        present=present,
        low=min(lows) if lows else None,
        high=max(highs) if highs else None,
        distinct=distinct,
        unique=lambda: values().distinct().count() == present,
    )
