"""`podium suggest`: a starting suite that holds today and catches tomorrow's breakage."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.conftest import Project


def _types(suite: dict[str, object]) -> dict[tuple[str, str | None], dict[str, object]]:
    expectations = suite["expectations"]
    assert isinstance(expectations, list)
    return {(e["type"], e["kwargs"].get("column")): e["kwargs"] for e in expectations}


def test_suggest_writes_a_gx_suite_that_passes_on_the_current_data(project: Project) -> None:
    result = project.cli("suggest")
    assert result.code == 0, result.err
    path = project.root / "expectations" / "churn.json"
    assert f"to {path}" in result.out
    assert "set `data.expectations: expectations/churn.json`" in result.out
    suite = json.loads(path.read_text())
    assert suite["name"] == "churn"
    rules = _types(suite)
    assert rules[("expect_table_row_count_to_be_between", None)] == {
        "min_value": 300,  # half the smaller table (eval, 600 rows)
        "max_value": 2400,  # twice the larger (train, 1,200 rows)
    }
    assert rules[("expect_column_values_to_be_in_set", "plan")]["value_set"] == [
        "monthly",
        "two_year",
        "yearly",
    ]
    assert rules[("expect_column_values_to_be_in_set", "churned")]["value_set"] == [0, 1]
    tenure = rules[("expect_column_values_to_be_between", "tenure_months")]
    # 0–72 seen, widened by a tenth of the width (never below 0), for 99% of the rows
    assert (tenure["min_value"], tenure["max_value"], tenure["mostly"]) == (0, 80, 0.99)
    assert "str" in rules[("expect_column_values_to_be_in_type_list", "region")]["type_list"]
    assert ("expect_column_values_to_not_be_null", "tenure_months") in rules
    assert 0.85 <= rules[("expect_column_values_to_not_be_null", "age")]["mostly"] < 0.95
    assert ("expect_column_values_to_be_unique", "customer_id") in rules

    document = project.config()
    document["data"]["expectations"] = "expectations/churn.json"
    project.write_config(document)
    validated = project.cli("validate")
    assert validated.code == 0, validated.err
    assert "failed" not in validated.out


def test_the_suggested_suite_catches_broken_data(project: Project) -> None:
    assert project.cli("suggest").code == 0
    document = project.config()
    document["data"]["expectations"] = "expectations/churn.json"
    project.write_config(document)
    path = project.root / "data" / "eval.csv"
    evaluation = pd.read_csv(path)
    evaluation.loc[0, "plan"] = "lifetime"
    evaluation.loc[1:40, "tenure_months"] = None
    evaluation.to_csv(path, index=False)
    result = project.cli("validate")
    assert result.code == 1
    assert "expect_column_values_to_be_in_set on 'plan' failed on eval" in result.err
    assert '["lifetime"]' in result.err
    assert "expect_column_values_to_not_be_null on 'tenure_months' failed on eval" in result.err


def test_suggest_never_overwrites_without_force(project: Project) -> None:
    path = project.root / "expectations" / "churn.json"
    path.parent.mkdir()
    path.write_text("hand-written")
    refused = project.cli("suggest")
    assert refused.code == 2
    assert "already exists; pass --force" in refused.err
    assert path.read_text() == "hand-written"
    forced = project.cli("suggest", "--force")
    assert forced.code == 0, forced.err
    assert json.loads(path.read_text())["name"] == "churn"


def test_suggest_writes_where_asked_and_to_the_configured_suite(project: Project) -> None:
    target = project.root / "suites" / "mine.json"
    result = project.cli("suggest", "--output", str(target))
    assert result.code == 0, result.err
    assert target.is_file()
    document = project.config()
    document["data"]["expectations"] = "suites/configured.json"
    project.write_config(document)
    again = project.cli("suggest")
    assert again.code == 0, again.err
    assert (project.root / "suites" / "configured.json").is_file()
    assert "set `data.expectations" not in again.out  # already pointed at it


def test_suggested_bounds_have_a_margin_and_none_on_excluded_columns(
    tmp_path: Path, store_template: Path
) -> None:
    # issue 31: one income of 1,000 against a suggested max of 959 failed next month's run,
    # and the excluded identifier got a range
    from tests.shaped import credit_tables, write_project

    train, _ = credit_tables()
    assert train["Income"].max() < 960
    project = Project(
        write_project(tmp_path / "credit", "credit", store_template=store_template).parent
    )
    assert project.cli("suggest").code == 0, project.cli("suggest", "--force").err
    suite = json.loads((project.root / "expectations" / "credit.json").read_text())
    rules = _types(suite)
    assert not [key for key in rules if key[1] == "Id" and "between" in key[0]]
    assert ("expect_column_values_to_be_unique", "Id") in rules
    income = rules[("expect_column_values_to_be_between", "Income")]
    assert income["max_value"] >= 1000 and income["mostly"] == 0.99
    document = project.config()
    document["data"]["expectations"] = "expectations/credit.json"
    project.write_config(document)
    month = credit_tables(seed=11)[0]
    month.loc[0, "Income"] = 1000
    month["Id"] = month["Id"] + 10_000  # new customers
    month.to_csv(project.root / "data" / "train.csv", index=False)
    assert project.cli("validate").code == 0
    month.loc[: len(month) // 10, "Income"] = 50_000  # a tenth of the rows in cents
    month.to_csv(project.root / "data" / "train.csv", index=False)
    broken = project.cli("validate")
    assert broken.code == 1
    assert "expect_column_values_to_be_between on 'Income' failed on train" in broken.err
