"""Great Expectations results in words: what an expectation asks, what was observed.

Plain text, no markdown and no GX import: the report, the validate check line and the CLI
all say an expectation the same way ("values between 0 and 120", "0 of 4,000 unexpected").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

# Expectations whose observed value is one statistic of the column, and its name.
_STATISTIC = {
    "expect_column_min_to_be_between": "min",
    "expect_column_max_to_be_between": "max",
    "expect_column_mean_to_be_between": "mean",
    "expect_column_median_to_be_between": "median",
    "expect_column_stdev_to_be_between": "standard deviation",
    "expect_column_sum_to_be_between": "sum",
    "expect_column_unique_value_count_to_be_between": "distinct values",
    "expect_column_proportion_of_unique_values_to_be_between": "share of distinct values",
    "expect_table_row_count_to_be_between": "rows",
    "expect_table_row_count_to_equal": "rows",
    "expect_table_column_count_to_equal": "columns",
    "expect_table_column_count_to_be_between": "columns",
}


def short(value: Any, limit: int = 60) -> str:
    """A JSON value on one short line (observed values, examples)."""
    shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    shown = " ".join(str(shown).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _number(value: Any) -> str:
    """4,000 for counts, 20.02 for measurements, 0.0012 or 1.2e-05 for small ones."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return short(value, 30)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude < 1:
        return f"{value:.2g}" if magnitude < 0.001 else f"{value:.4g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _bound(kwargs: Mapping[str, Any], low: str = "min_value", high: str = "max_value") -> str:
    lo, hi = kwargs.get(low), kwargs.get(high)
    if lo is not None and hi is not None:
        return f"between {short(lo, 20)} and {short(hi, 20)}"
    if lo is not None:
        return f"≥ {short(lo, 20)}"
    if hi is not None:
        return f"≤ {short(hi, 20)}"
    return "within bounds"


def _set_text(values: Any) -> str:
    if isinstance(values, list | tuple | set):
        return "{" + ", ".join(str(v) for v in values) + "}"
    return short(values, 50)


def describe_expectation(kind: str, kwargs: Mapping[str, Any]) -> str:
    """A GX expectation in words: 'values between 0 and 120', 'no missing values'."""
    described: dict[str, Callable[[], str]] = {
        "expect_column_values_to_be_between": lambda: f"values {_bound(kwargs)}",
        "expect_column_values_to_not_be_null": lambda: "no missing values",
        "expect_column_values_to_be_null": lambda: "only missing values",
        "expect_column_values_to_be_unique": lambda: "unique values",
        "expect_column_to_exist": lambda: "column exists",
        "expect_column_values_to_be_in_set": lambda: (
            "values in " + short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_values_to_not_be_in_set": lambda: (
            "values not in " + short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_distinct_values_to_be_in_set": lambda: (
            "distinct values in " + short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_values_to_match_regex": lambda: f"values match {kwargs.get('regex')!s}",
        "expect_column_values_to_be_of_type": lambda: f"type {kwargs.get('type_')!s}",
        "expect_column_values_to_be_in_type_list": lambda: (
            "type in " + short(_set_text(kwargs.get("type_list")), 50)
        ),
        "expect_column_mean_to_be_between": lambda: f"mean {_bound(kwargs)}",
        "expect_column_median_to_be_between": lambda: f"median {_bound(kwargs)}",
        "expect_column_stdev_to_be_between": lambda: f"standard deviation {_bound(kwargs)}",
        "expect_column_min_to_be_between": lambda: f"minimum {_bound(kwargs)}",
        "expect_column_max_to_be_between": lambda: f"maximum {_bound(kwargs)}",
        "expect_column_unique_value_count_to_be_between": lambda: (
            "distinct values " + _bound(kwargs)
        ),
        "expect_column_proportion_of_unique_values_to_be_between": lambda: (
            f"share of distinct values {_bound(kwargs)}"
        ),
        "expect_table_row_count_to_be_between": lambda: f"row count {_bound(kwargs)}",
        "expect_table_row_count_to_equal": lambda: f"row count = {short(kwargs.get('value'), 20)}",
        "expect_table_column_count_to_equal": lambda: f"{short(kwargs.get('value'), 20)} columns",
        "expect_table_columns_to_match_set": lambda: (
            "columns " + short(_set_text(kwargs.get("column_set")), 50)
        ),
        "expect_table_columns_to_match_ordered_list": lambda: (
            "columns in order " + short(_set_text(kwargs.get("column_list")), 50)
        ),
        "expect_column_value_lengths_to_be_between": lambda: f"lengths {_bound(kwargs)}",
    }
    make = described.get(kind)
    if make is not None:
        words = make()
    else:
        plain = kind.removeprefix("expect_").replace("_", " ")
        shown = {k: v for k, v in kwargs.items() if k not in {"column", "mostly", "batch_id"}}
        args = ", ".join(f"{k}={short(v, 20)}" for k, v in shown.items())
        words = f"{plain} ({args})" if args else plain
    mostly = kwargs.get("mostly")
    if isinstance(mostly, int | float) and not isinstance(mostly, bool) and 0 <= mostly < 1:
        words += f" (≥ {mostly:.0%} of rows)"
    return words


def describe_observed(kind: str, observed: Any) -> str:
    """What GX saw, in words: '0 of 4,000 unexpected', 'min 20.02', '{monthly, yearly}'.

    Empty when nothing was observed (the column is missing, say).
    """
    if observed is None:
        return ""
    if isinstance(observed, Mapping) and "unexpected_count" in observed:
        count = observed.get("unexpected_count")
        total = observed.get("element_count")
        words = f"{_number(count)} unexpected"
        if isinstance(total, int | float) and not isinstance(total, bool):
            words = f"{_number(count)} of {_number(total)} unexpected"
        percent = observed.get("unexpected_percent")
        if count and isinstance(percent, int | float) and not isinstance(percent, bool):
            words += f" ({percent:.2f}%)"
        return words
    if isinstance(observed, Mapping) and {"min", "max"} <= set(observed):
        return f"min {_number(observed['min'])} · max {_number(observed['max'])}"
    if kind in _STATISTIC and isinstance(observed, int | float):
        return f"{_STATISTIC[kind]} {_number(observed)}"
    if isinstance(observed, list | tuple):
        return short(_set_text(observed), 60)
    if isinstance(observed, int | float) and not isinstance(observed, bool):
        return _number(observed)
    return short(observed, 60)
