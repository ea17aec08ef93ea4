"""How expectations and what GX observed read in the report and the check lines."""

from __future__ import annotations

from podium.expectation_words import describe_expectation, describe_observed


def test_describe_expectation_reads_like_a_sentence() -> None:
    describe = describe_expectation
    assert describe("expect_column_values_to_be_between", {"min_value": 0, "max_value": 120}) == (
        "values between 0 and 120"
    )
    assert describe("expect_column_values_to_not_be_null", {"mostly": 0.95}) == (
        "no missing values (≥ 95% of rows)"
    )
    assert describe("expect_column_values_to_be_in_set", {"value_set": ["a", "b"]}) == (
        "values in {a, b}"
    )
    assert describe("expect_column_kl_divergence_to_be_less_than", {"threshold": 0.1}) == (
        "column kl divergence to be less than (threshold=0.1)"
    )


def test_observed_values_are_said_in_words_not_cut_json() -> None:
    counts = {"unexpected_count": 0, "unexpected_percent": 0.0, "element_count": 4000}
    assert (
        describe_observed("expect_column_values_to_be_between", counts) == "0 of 4,000 unexpected"
    )
    some = {"unexpected_count": 12, "unexpected_percent": 0.3, "element_count": 4000}
    assert describe_observed("expect_column_values_to_not_be_null", some) == (
        "12 of 4,000 unexpected (0.30%)"
    )
    assert describe_observed("expect_column_min_to_be_between", 20.0231) == "min 20.02"
    assert describe_observed("expect_column_max_to_be_between", 119.99) == "max 119.99"
    assert describe_observed(
        "expect_column_values_to_be_between", {"min": 20.02, "max": 119.99}
    ) == ("min 20.02 · max 119.99")
    assert describe_observed("expect_table_row_count_to_be_between", 4000) == "rows 4,000"
    assert describe_observed("expect_column_distinct_values_to_be_in_set", ["a", "b"]) == "{a, b}"
    assert describe_observed("expect_column_values_to_be_of_type", "int64") == "int64"
    assert describe_observed("expect_column_to_exist", None) == ""
