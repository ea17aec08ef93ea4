"""`podium suggest`: a starting Great Expectations suite written from the current data.

The suggested suite holds for today's training and evaluation data: every column
exists with its type, is non-null (or mostly so), numbers stay in their observed range
widened by a margin (and `mostly`: one odd value in a thousand does not fail a month's
run), low-cardinality text stays in its observed categories, identifiers stay unique,
and the row count stays within a band. Columns in data.exclude (identifiers) get no
range or category expectations. It is a start: the user reviews it (widening
ranges to what the domain allows), commits it and points `data.expectations` at it.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import data, results
from podium.config import Config
from podium.engine import on_spark
from podium.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

MAX_CATEGORIES = 20  # text columns with at most this many values get an allowed set
NULL_MARGIN = 0.05  # `mostly` leaves this much room below today's share of non-null values
ROW_BAND = (0.5, 2.0)  # row count between half the smallest and twice the largest table
RANGE_MARGIN = 0.1  # a numeric range widens by this share of its width on each side …
RANGE_MOSTLY = 0.99  # … and holds for this share of the rows

_INT = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
_INT += ["Int8", "Int16", "Int32", "Int64"]
_FLOAT = ["float16", "float32", "float64", "Float32", "Float64"]
_TEXT = ["str", "object", "string"]
_BOOL = ["bool", "boolean"]


@dataclass
class SuggestResult:
    path: Path
    expectations: int
    columns: int
    configured: bool  # data.expectations already points at this file


def suggest(*, config: Config, output: Path | None = None, force: bool = False) -> SuggestResult:
    """Profile data.train and data.eval and write a GX 1.x suite; never overwrite silently."""
    from podium import expectations

    spec = config.data
    target = output or (
        config.resolve(spec.expectations)
        if spec.expectations
        else config.root / "expectations" / f"{config.model.name}.json"
    )
    if target.exists() and not force:
        raise InputError(
            f"{target}: already exists; pass --force to replace it or --output PATH for a new file"
        )
    if on_spark(config):  # issue 14: profiled with Spark aggregates, nothing collected
        from podium.engine import spark_stages, spark_suggest

        spark_train, spark_eval = spark_stages.tables(config)
        items = spark_suggest.rules(
            [spark_train, spark_eval],
            target=spec.target,
            task=config.model.task,
            exclude=spec.exclude,
        )
        sources = f"{spark_train.path} and {spark_eval.path}"
        width = len(spark_train.columns)
    else:
        train = data.read_table(config.resolve(spec.train), label="data.train")
        evaluation = data.read_table(config.resolve(spec.eval), label="data.eval")
        items = rules(
            [train.frame, evaluation.frame],
            target=spec.target,
            task=config.model.task,
            exclude=spec.exclude,
        )
        sources = f"{train.path} and {evaluation.path}"
        width = len(train.frame.columns)
    text = expectations.render_suite(
        config.model.name,
        items,
        notes=f"Suggested by `podium suggest` from {sources}. Review it (widen ranges to "
        "what the domain allows), then commit it.",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(target.parent, target.name, text)
    configured = bool(spec.expectations) and config.resolve(spec.expectations or "") == target
    return SuggestResult(target, len(items), width, configured)


def rules(
    frames: list[pd.DataFrame], *, target: str, task: str, exclude: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Expectations (GX `type` + `kwargs`) that every frame in `frames` meets today."""
    rows = [len(f) for f in frames]
    out: list[dict[str, Any]] = [
        _e(
            "expect_table_row_count_to_be_between",
            min_value=max(1, math.floor(min(rows) * ROW_BAND[0])),
            max_value=math.ceil(max(rows) * ROW_BAND[1]),
        )
    ]
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    for column in columns:
        present = [f[column] for f in frames if column in f.columns]
        out.append(_e("expect_column_to_exist", column=column))
        out.extend(
            _column_rules(
                column, present, is_target=column == target, task=task, excluded=column in exclude
            )
        )
    return out


def _column_rules(
    column: str, parts: list[pd.Series], *, is_target: bool, task: str, excluded: bool = False
) -> list[dict[str, Any]]:
    import pandas as pd

    out: list[dict[str, Any]] = []
    family = _family(parts)
    types = {str(p.dtype) for p in parts}
    allowed = {"int": _INT, "float": _INT + _FLOAT, "bool": _BOOL, "text": _TEXT}.get(family)
    type_list = sorted(types) if allowed is None else list(dict.fromkeys(allowed))
    out.append(_e("expect_column_values_to_be_in_type_list", column=column, type_list=type_list))

    non_null = min(float(p.notna().mean()) for p in parts)
    if non_null == 1.0:
        out.append(_e("expect_column_values_to_not_be_null", column=column))
    elif non_null - NULL_MARGIN > 0:
        mostly = math.floor((non_null - NULL_MARGIN) * 100) / 100
        out.append(_e("expect_column_values_to_not_be_null", column=column, mostly=mostly))
    values = pd.concat([p.dropna() for p in parts], ignore_index=True)
    if values.empty:
        return out

    if excluded:  # an identifier, not a feature: unique if it is today, nothing more
        if values.is_unique and len(values) > 1:
            out.append(_e("expect_column_values_to_be_unique", column=column))
        return out
    if family in ("int", "float") and not (is_target and task == "classification"):
        out.append(
            _e(
                "expect_column_values_to_be_between",
                column=column,
                **widened(float(values.min()), float(values.max()), whole=family == "int"),
                mostly=RANGE_MOSTLY,
            )
        )
    elif family in ("int", "float", "text", "bool"):  # categories; numbers only for a label
        distinct = values.unique()
        if len(distinct) <= MAX_CATEGORIES or is_target:
            value_set = sorted(_plain(v) for v in distinct)
            out.append(_e("expect_column_values_to_be_in_set", column=column, value_set=value_set))
        elif len(distinct) == len(values) and family == "text":
            out.append(_e("expect_column_values_to_be_unique", column=column))
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


def _family(parts: list[pd.Series]) -> str:
    import pandas as pd

    kinds = set()
    for part in parts:
        dtype = part.dtype
        if pd.api.types.is_bool_dtype(dtype):
            kinds.add("bool")
        elif pd.api.types.is_integer_dtype(dtype):
            kinds.add("int")
        elif pd.api.types.is_float_dtype(dtype):
            kinds.add("float")
        elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            kinds.add("text")
        else:
            kinds.add("other")
    if kinds <= {"int", "float"}:
        return "float" if "float" in kinds else "int"
    return kinds.pop() if len(kinds) == 1 else "other"


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _e(kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs}
