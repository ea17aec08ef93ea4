"""The GX adapter on its own: loading suites, running them on frames, serialising them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from podium import expectations
from podium.errors import ConfigError, DataError


def _suite(tmp_path: Path, items: list[dict[str, object]]) -> expectations.Suite:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"name": "t", "expectations": items}))
    return expectations.load_suite(path)


FRAME = pd.DataFrame(
    {
        "n": [1.0, 2.0, 3.0, np.nan, 5.0],
        "k": [1, 2, 3, 4, 5],
        "s": ["x", "y", "z", None, "x"],
    }
)


def test_results_keep_suite_order_and_report_examples(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "s", "value_set": ["x"]},
            },
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "k", "max_value": 3},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n"}},
        ],
    )
    report = expectations.run(suite, {"train": FRAME})
    assert [r["expectation"] for r in report.results] == [
        "expect_column_values_to_be_in_set",
        "expect_table_row_count_to_be_between",
        "expect_column_values_to_be_between",
        "expect_column_values_to_not_be_null",
    ]
    assert [r["success"] for r in report.results] == [False] * 4
    in_set, rows, between, nulls = report.results
    assert in_set["unexpected_examples"] == ["y", "z"]  # distinct values, no repeats
    assert rows["observed"] == 5
    assert between["unexpected_examples"] == [4, 5]
    assert nulls["unexpected_examples"] == [None]  # NaN is JSON null
    json.dumps(report.to_dict(), allow_nan=False)  # strictly JSON-ready
    assert expectations.describe(between) == (
        "expect_column_values_to_be_between on 'k' failed on train: "
        "2 unexpected values (40.00%), e.g. [4, 5]"
    )


def test_mostly_lets_a_share_of_values_fail(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n", "mostly": 0.8}}],
    )
    report = expectations.run(suite, {"train": FRAME})
    assert report.passed
    assert report.results[0]["unexpected_examples"] == []


def test_text_type_checks_on_the_str_dtype_and_on_object(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "s", "type_list": ["str"]},
            },
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "s", "type_": "int64"},
            },
        ],
    )
    assert isinstance(FRAME["s"].dtype, pd.StringDtype)
    report = expectations.run(suite, {"new": FRAME, "old": FRAME.astype({"s": object})})
    assert [r["success"] for r in report.results] == [True, False, True, False]


def test_check_columns_names_the_missing_column(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_to_exist",
                "kwargs": {"column": "gone"},
            },  # a finding, not an error
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": "k", "column_B": "m"},
            },
        ],
    )
    with pytest.raises(
        DataError, match=r"expectations\[1\] .* names column 'm', which the eval data"
    ):
        expectations.check_columns(suite, list(FRAME.columns), dataset="eval", source="e.csv")


def test_an_expectation_gx_cannot_evaluate_on_the_data_is_exit_2(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "s", "min_value": 0}}],
    )
    with pytest.raises(DataError, match="on 's' could not be evaluated on the train data: Column"):
        expectations.run(suite, {"train": FRAME})


def test_render_suite_writes_what_gx_reads_back(tmp_path: Path) -> None:
    items = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "k", "min_value": 1, "max_value": 5},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "s", "value_set": ["x", "y", "z"]},
        },
    ]
    text = expectations.render_suite("churn", items, notes="edit me")
    document = json.loads(text)
    assert document["name"] == "churn"
    assert document["notes"] == "edit me"
    assert [e["type"] for e in document["expectations"]] == [i["type"] for i in items]
    assert "great_expectations_version" in document["meta"]
    path = tmp_path / "churn.json"
    path.write_text(text)
    assert expectations.run(expectations.load_suite(path), {"train": FRAME}).passed


def test_render_suite_refuses_an_invalid_expectation() -> None:
    with pytest.raises(ConfigError, match="is not a valid GX expectation"):
        expectations.render_suite(
            "x", [{"type": "expect_column_values_to_be_between", "kwargs": {}}]
        )
