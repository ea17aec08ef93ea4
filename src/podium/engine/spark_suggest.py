"""`podium suggest` on Spark: the starting suite's profile from engine aggregates.

`stages.suggest.rules` profiles pandas frames; this computes the same numbers inside
Spark — row counts, each column's non-null share, numeric min and max (one aggregate per
table), and for text, booleans and labels at most `MAX_CATEGORIES` + 1 distinct values
(a `limit`, so an id column never comes back whole; its uniqueness is an exact distinct
count) — and writes the same rules: on the same table, the same suite.

Spark's types are read as pandas reads the same data (`data.read_table`): an integer
column with missing values is float in pandas, a boolean one text; dates are text
(Python dates in an object column); timestamps keep their pandas dtype name.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from podium.stages.suggest import (
    _BOOL,
    _FLOAT,
    _INT,
    _TEXT,
    MAX_CATEGORIES,
    NULL_MARGIN,
    RANGE_MOSTLY,
    ROW_BAND,
    _e,
    widened,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from podium.engine.spark import SparkTable

_INTEGRAL = ("tinyint", "smallint", "int", "bigint", "byte", "short", "long")
_FRACTIONAL = ("float", "double")


def rules(
    tables: list[SparkTable], *, target: str, task: str, exclude: Collection[str] = ()
) -> list[dict[str, Any]]:
    """`stages.suggest.rules` for Spark tables: the expectations every table meets today."""
    rows = [t.rows for t in tables]
    out: list[dict[str, Any]] = [
        _e(
            "expect_table_row_count_to_be_between",
            min_value=max(1, math.floor(min(rows) * ROW_BAND[0])),
            max_value=math.ceil(max(rows) * ROW_BAND[1]),
        )
    ]
    profiles = [_profile(t.frame) for t in tables]
    columns = list(dict.fromkeys(c for t in tables for c in t.frame.columns))
    for column in columns:
        parts = [(t, p[column]) for t, p in zip(tables, profiles, strict=True) if column in p]
        out.append(_e("expect_column_to_exist", column=column))
        out.extend(
            _column_rules(
                column, parts, is_target=column == target, task=task, excluded=column in exclude
            )
        )
    return out


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


def _column_rules(
    column: str,
    parts: list[tuple[SparkTable, dict[str, Any]]],
    *,
    is_target: bool,
    task: str,
    excluded: bool = False,
) -> list[dict[str, Any]]:
    from pyspark.sql import functions as F

    out: list[dict[str, Any]] = []
    families = {p["family"] for _, p in parts}
    if families <= {"int", "float"}:
        family = "float" if "float" in families else "int"
    else:
        family = families.pop() if len(families) == 1 else "other"
    types = {_dtype(p["kind"]) for _, p in parts}
    allowed = {"int": _INT, "float": _INT + _FLOAT, "bool": _BOOL, "text": _TEXT}.get(family)
    type_list = sorted(types) if allowed is None else list(dict.fromkeys(allowed))
    out.append(_e("expect_column_values_to_be_in_type_list", column=column, type_list=type_list))

    non_null = min(p["present"] / p["rows"] for _, p in parts)
    if non_null == 1.0:
        out.append(_e("expect_column_values_to_not_be_null", column=column))
    elif non_null - NULL_MARGIN > 0:
        mostly = math.floor((non_null - NULL_MARGIN) * 100) / 100
        out.append(_e("expect_column_values_to_not_be_null", column=column, mostly=mostly))
    present = sum(p["present"] for _, p in parts)
    if present == 0:
        return out

    values = None
    for table, _ in parts:
        chosen = table.frame.where(_present(table.frame, column)).select(
            F.col(f"`{column}`").alias("v")
        )
        values = chosen if values is None else values.union(chosen)
    assert values is not None
    if excluded:  # an identifier, not a feature: unique if it is today, nothing more
        if present > 1 and values.distinct().count() == present:
            out.append(_e("expect_column_values_to_be_unique", column=column))
        return out
    if family in ("int", "float") and not (is_target and task == "classification"):
        low = min(p["low"] for _, p in parts if p["low"] is not None)
        high = max(p["high"] for _, p in parts if p["high"] is not None)
        out.append(
            _e(
                "expect_column_values_to_be_between",
                column=column,
                **widened(float(low), float(high), whole=family == "int"),
                mostly=RANGE_MOSTLY,
            )
        )
    elif family in ("int", "float", "text", "bool"):  # categories; numbers only for a label
        distinct = values.distinct()
        if not is_target:
            distinct = distinct.limit(MAX_CATEGORIES + 1)
        found = [r["v"] for r in distinct.collect()]
        if len(found) <= MAX_CATEGORIES or is_target:
            plain = [float(v) if family == "float" else v for v in found]
            out.append(
                _e("expect_column_values_to_be_in_set", column=column, value_set=sorted(plain))
            )
        elif family == "text" and values.distinct().count() == present:
            out.append(_e("expect_column_values_to_be_unique", column=column))
    return out
