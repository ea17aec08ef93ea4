"""The rules of a suggested Great Expectations suite, from column statistics.

`podium suggest` writes the expectations today's training and evaluation data meet; an
engine (`podium.engine`) measures each column — its dtype family, non-null share, range
and distinct values — and this module turns the measures into the same rules whichever
engine measured them: on the same table, the same suite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

MAX_CATEGORIES = 20  # text columns with at most this many values get an allowed set
NULL_MARGIN = 0.05  # `mostly` leaves this much room below today's share of non-null values
ROW_BAND = (0.5, 2.0)  # row count between half the smallest and twice the largest table
RANGE_MARGIN = 0.1  # a numeric range widens by this share of its width on each side …
RANGE_MOSTLY = 0.99  # … and holds for this share of the rows

INT = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
INT += ["Int8", "Int16", "Int32", "Int64"]
FLOAT = ["float16", "float32", "float64", "Float32", "Float64"]
TEXT = ["str", "object", "string"]
BOOL = ["bool", "boolean"]


@dataclass(frozen=True)
class ColumnStats:
    """One column measured over every table that has it.

    `family`: int, float, bool, text or other (as pandas reads the data); `dtypes`: the
    pandas dtype names; `non_null`: the smallest share of non-missing values in a table;
    `present`: non-missing values in all; `low`/`high`: the range of numbers;
    `distinct(limit)`: the distinct non-missing values as plain Python values (at most
    `limit` of them when given); `unique()`: whether no non-missing value repeats.
    """

    family: str
    dtypes: set[str]
    non_null: float
    present: int
    low: Any
    high: Any
    distinct: Callable[[int | None], list[Any]]
    unique: Callable[[], bool]


def expectation(kind: str, **kwargs: Any) -> dict[str, Any]:
    """One expectation as GX writes it: `type` and `kwargs`."""
    return {"type": kind, "kwargs": kwargs}


def dtype_family(dtype: Any) -> str:
    """The family of a pandas dtype: bool, int, float, text or other."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "text"
    return "other"


def family_of(kinds: set[str]) -> str:
    """The family of a column whose tables hold `kinds`: numbers widen to float."""
    if kinds <= {"int", "float"}:
        return "float" if "float" in kinds else "int"
    return next(iter(kinds)) if len(kinds) == 1 else "other"


def rules(
    rows: list[int],
    columns: dict[str, ColumnStats],
    *,
    target: str,
    task: str,
    exclude: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Expectations every table meets today: the row band, then each column's rules.
    Excluded columns (identifiers, not features) get no range or value set."""
    out = [
        expectation(
            "expect_table_row_count_to_be_between",
            min_value=max(1, math.floor(min(rows) * ROW_BAND[0])),
            max_value=math.ceil(max(rows) * ROW_BAND[1]),
        )
    ]
    for column, stats in columns.items():
        out.append(expectation("expect_column_to_exist", column=column))
        out.extend(
            _column_rules(
                column, stats, is_target=column == target, task=task, excluded=column in exclude
            )
        )
    return out


def _column_rules(
    column: str, stats: ColumnStats, *, is_target: bool, task: str, excluded: bool = False
) -> list[dict[str, Any]]:
    family = stats.family
    allowed = {"int": INT, "float": INT + FLOAT, "bool": BOOL, "text": TEXT}.get(family)
    type_list = sorted(stats.dtypes) if allowed is None else list(dict.fromkeys(allowed))
    out = [
        expectation("expect_column_values_to_be_in_type_list", column=column, type_list=type_list)
    ]
    if stats.non_null == 1.0:
        out.append(expectation("expect_column_values_to_not_be_null", column=column))
    elif stats.non_null - NULL_MARGIN > 0:
        mostly = math.floor((stats.non_null - NULL_MARGIN) * 100) / 100
        out.append(expectation("expect_column_values_to_not_be_null", column=column, mostly=mostly))
    if stats.present == 0:
        return out
    if excluded:  # an identifier, not a feature: unique if it is today, nothing more
        if stats.present > 1 and stats.unique():
            out.append(expectation("expect_column_values_to_be_unique", column=column))
        return out
    if family in ("int", "float") and not (is_target and task == "classification"):
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                column=column,
                **widened(float(stats.low), float(stats.high), whole=family == "int"),
                mostly=RANGE_MOSTLY,
            )
        )
    elif family in ("int", "float", "text", "bool"):  # categories; numbers only for a label
        found = stats.distinct(None if is_target else MAX_CATEGORIES + 1)
        if len(found) <= MAX_CATEGORIES or is_target:
            if family == "float":
                found = [float(v) for v in found]
            value_set = sorted(found)
            out.append(
                expectation("expect_column_values_to_be_in_set", column=column, value_set=value_set)
            )
        elif family == "text" and stats.unique():
            out.append(expectation("expect_column_values_to_be_unique", column=column))
    return out


def widened(low: float, high: float, *, whole: bool) -> dict[str, Any]:
    """Today's [low, high] widened by RANGE_MARGIN of its width (at least 1 for whole
    numbers) on each side; a range that never went below zero still does not."""
    margin = (high - low) * RANGE_MARGIN or abs(high) * RANGE_MARGIN or 1.0
    lower, upper = low - margin, high + margin
    if low >= 0:
        lower = max(0.0, lower)
    if whole:
        return {"min_value": math.floor(lower), "max_value": math.ceil(upper)}
    return {"min_value": lower, "max_value": upper}
