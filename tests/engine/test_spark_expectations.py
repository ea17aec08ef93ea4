"""Expectations on Spark in one pass (engine/spark_expectations.py): the same records as
GX's Spark engine (`expectations.run_spark`), from a fraction of the Spark jobs."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from podium import expectations
from tests.conftest import Project, state_json
from tests.engine.projects import spark_copy
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]

SCHEMA = "i bigint, j int, f double, s string, b boolean, d date, t timestamp, m decimal(6,2)"


def _rows(count: int) -> list[tuple[Any, ...]]:
    return [
        (
            v % 9,
            None if v % 6 == 0 else v % 4,
            math.nan if v % 11 == 3 else None if v % 7 == 0 else v / 3,
            None if v % 5 == 0 else f"v{v % 11}",
            None if v % 8 == 1 else v % 3 == 0,
            dt.date(2024, 1, 1 + v % 20),
            dt.datetime(2024, 1, 1, v % 24),
            None if v % 10 == 4 else Decimal(v % 13) / 4,
        )
        for v in range(count)
    ]


def _frames(spark: Any) -> dict[str, Any]:
    base = spark.createDataFrame(_rows(60), SCHEMA)
    return {
        "base": base,
        "empty": base.where("false"),
        "one": spark.createDataFrame(_rows(1), SCHEMA),
        "clean": spark.createDataFrame(
            [(v, v, v / 2, f"k{v}", True, None, None, Decimal(v)) for v in range(1, 30)], SCHEMA
        ),
    }


def _suite(tmp_path: Path, items: list[dict[str, Any]]) -> expectations.Suite:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"name": "t", "expectations": items}))
    return expectations.load_suite(path)


def _items() -> list[dict[str, Any]]:
    """Every type the one pass covers, over each column, with bounds, strictness, sets,
    `mostly` and type names varied; and a few it leaves to GX."""
    items: list[dict[str, Any]] = []

    def add(kind: str, **kwargs: Any) -> None:
        items.append({"type": kind, "kwargs": kwargs})

    for low, high in [(1, 100), (None, 3), (60, None), (0, 0)]:
        add("expect_table_row_count_to_be_between", min_value=low, max_value=high)
    add("expect_table_row_count_to_be_between", min_value=1, max_value=60, strict_max=True)
    add("expect_column_to_exist", column="nope")
    sets: dict[str, list[list[Any]]] = {
        "i": [[0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 2.0], []],
        "j": [[0, 1, 2, 3], [0, 1]],
        "f": [[1.0, 2.0], []],
        "s": [[f"v{k}" for k in range(11)], ["v1", "v2"]],
        "b": [[True, False], [True]],
        "m": [[0, 0.25, 0.5, 1, 2.5], [1]],
    }
    for name in ("i", "j", "f", "s", "b", "d", "t", "m"):
        add("expect_column_to_exist", column=name)
        for mostly in [{}, {"mostly": 0.6}]:
            add("expect_column_values_to_not_be_null", column=name, **mostly)
            add("expect_column_values_to_be_unique", column=name, **mostly)
            for values in sets.get(name, []):
                add("expect_column_values_to_be_in_set", column=name, value_set=values, **mostly)
        for types in (["LongType"], ["IntegerType", "LongType"], ["StringType", "NumericType"]):
            add("expect_column_values_to_be_in_type_list", column=name, type_list=types)
        if name in ("i", "j", "f", "m"):
            for low, high in [(1, 4), (None, 2.5), (2.5, None), (-1.0, 8)]:
                for strict in [{}, {"strict_min": True, "strict_max": True, "mostly": 0.5}]:
                    add(
                        "expect_column_values_to_be_between",
                        column=name,
                        min_value=low,
                        max_value=high,
                        **strict,
                    )
    add("expect_column_values_to_match_regex", column="s", regex="^v")  # GX's
    add("expect_column_max_to_be_between", column="i", min_value=0, max_value=5)  # GX's
    return items


def _gx_and_fast(
    tmp_path: Path, frame: Any, items: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from podium.engine import spark_expectations

    suite = _suite(tmp_path, items)
    theirs = expectations.run_spark(suite, {"train": frame}).results
    ours = spark_expectations.run(suite, {"train": frame}).results
    return theirs, ours


@pytest.mark.parametrize("name", ["base", "empty", "one", "clean"])
def test_one_pass_records_equal_gx_on_spark(tmp_path: Path, spark: Any, name: str) -> None:
    from podium.engine import spark_expectations

    frame = _frames(spark)[name]
    items = _items()
    theirs, ours = _gx_and_fast(tmp_path, frame, items)
    covered = 0
    failed = 0
    for item, mine, gx in zip(items, ours, theirs, strict=True):
        # key order too; examples in GX's order (the same query, so the same rows)
        assert json.dumps(mine) == json.dumps(gx), item
        if spark_expectations._plan(item, frame) is not None:
            covered += 1
            failed += not mine["success"]
    assert covered > len(items) * 3 // 4
    if name == "base":
        assert failed > 20  # failures with examples were compared, not only passes


def test_a_suite_the_one_pass_covers_is_one_spark_job_and_no_gx(
    tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.engine import spark_expectations

    frame = _frames(spark)["clean"]
    suite = _suite(
        tmp_path,
        [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
            {"type": "expect_column_to_exist", "kwargs": {"column": "s"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "i"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "f", "min_value": 0, "max_value": 15},
            },
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "b", "value_set": [True]},
            },
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "j", "type_list": ["IntegerType"]},
            },
        ],
    )

    def no_gx(*args: object, **kwargs: object) -> None:
        raise AssertionError("GX was asked")

    monkeypatch.setattr(expectations, "build_expectations", no_gx)  # the seam to GX
    frame.persist().count()  # cached as validate leaves it: count the expectations' jobs only
    context = spark.sparkContext
    context.setJobGroup("one-pass", "one pass")
    report = spark_expectations.run(suite, {"train": frame})
    jobs = context.statusTracker().getJobIdsForGroup("one-pass")
    context.setJobGroup("other", "other")
    assert report.passed and report.evaluated == 6
    # One aggregate, one job: adaptive execution is off for these tables (tests/engine/conftest.py);
    # on (Spark's default), the aggregate's map and its result are two.
    assert len(jobs) == 1


def test_a_failure_fetches_its_examples_and_a_unique_check_its_counts(
    tmp_path: Path, spark: Any
) -> None:
    from podium.engine import spark_expectations

    frame = _frames(spark)["base"]
    suite = _suite(
        tmp_path,
        [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "d"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "s"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "i", "min_value": 0, "max_value": 6},
            },
        ],
    )
    context = spark.sparkContext
    jobs = {}
    for name, run in (("ours", spark_expectations.run), ("gx", expectations.run_spark)):
        context.setJobGroup(name, name)
        report = run(suite, {"train": frame})
        jobs[name] = len(context.statusTracker().getJobIdsForGroup(name))
    context.setJobGroup("other", "other")
    passed, unique, between = report.results
    assert passed["success"] and not unique["success"] and not between["success"]
    assert between["unexpected_examples"] == [7, 8]
    assert between["observed"]["unexpected_count"] == 12
    # the aggregate, the unique check's groupBy, and one bounded query per failure
    assert jobs["ours"] < jobs["gx"], jobs


def test_type_checks_in_pandas_names_are_answered_as_pandas_reads_the_column(
    tmp_path: Path, spark: Any
) -> None:
    """`podium suggest` writes pandas' dtype names; GX on Spark knows only pyspark's and
    fails every such check ("No recognized spark types"). Answered from the dtype pandas
    gives the column read whole: an integer column with nulls is float64 there, a boolean
    one text."""
    from podium import suggestions
    from podium.engine import spark_expectations
    from podium.errors import DataError

    frame = _frames(spark)["base"]

    def check(column: str, names: list[str]) -> dict[str, Any]:
        item = {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": column, "type_list": names},
        }
        (result,) = spark_expectations.run(_suite(tmp_path, [item]), {"train": frame}).results
        return {"success": result["success"], "observed": result["observed"]}

    assert check("i", suggestions.INT) == {"success": True, "observed": "int64"}
    assert check("j", suggestions.INT) == {"success": False, "observed": "float64"}  # it has nulls
    assert check("j", suggestions.INT + suggestions.FLOAT) == {
        "success": True,
        "observed": "float64",
    }
    assert check("f", ["float64"]) == {"success": True, "observed": "float64"}
    assert check("s", suggestions.TEXT) == {"success": True, "observed": "str"}
    assert check("s", suggestions.INT) == {"success": False, "observed": "str"}
    assert check("b", suggestions.BOOL) == {"success": False, "observed": "str"}  # it has nulls
    assert check("b", suggestions.TEXT) == {"success": True, "observed": "str"}
    assert check("d", suggestions.TEXT) == {"success": True, "observed": "str"}
    assert check("t", ["datetime64[us, UTC]"]) == {
        "success": True,
        "observed": "datetime64[us, UTC]",
    }
    item = {
        "type": "expect_column_values_to_be_in_type_list",
        "kwargs": {"column": "i", "type_list": ["int64"]},
    }
    with pytest.raises(DataError, match="No recognized spark types"):
        expectations.run_spark(_suite(tmp_path, [item]), {"train": frame})


def test_the_suite_podium_suggest_writes_on_spark_passes_validate_on_spark(
    project: Project, spark: Any
) -> None:
    """Its type checks are in pandas' names: before the one pass, GX failed them all and
    `podium validate` on the very tables the suite was written from was exit 2."""
    from podium.engine import spark as engine

    engine.forget()
    on_spark = spark_copy(project)
    suggested = on_spark.cli("suggest")
    assert suggested.code == 0, suggested.err
    document = on_spark.config()
    document["data"]["expectations"] = "expectations/churn.json"
    on_spark.write_config(document)
    done = on_spark.cli("validate")
    assert done.code == 0, done.err
    found = state_json(on_spark, "validation.json")["expectations"]
    kinds = {r["expectation"] for r in found["results"]}
    assert "expect_column_values_to_be_in_type_list" in kinds
    assert found["failed"] == 0 and found["evaluated"] > 20
