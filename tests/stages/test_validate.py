"""`podium validate`: GX suites on train and eval, drift against the champion, bad data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import Project

PASSING = [
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 100}},
    {"type": "expect_column_to_exist", "kwargs": {"column": "plan"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "tenure_months"}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "tenure_months", "min_value": 0, "max_value": 72},
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "plan", "value_set": ["monthly", "yearly", "two_year"]},
    },
    {
        "type": "expect_column_values_to_be_in_type_list",
        "kwargs": {"column": "region", "type_list": ["str", "object"]},
    },
    {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "age", "mostly": 0.9},
    },
    {
        "type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "monthly_charges", "min_value": 50, "max_value": 90},
    },
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "customer_id"}},
]


def _use_suite(project: Project, expectations: list[dict[str, Any]] | str) -> Path:
    path = project.root / "expectations" / "churn.json"
    path.parent.mkdir(exist_ok=True)
    text = (
        expectations
        if isinstance(expectations, str)
        else json.dumps({"name": "churn", "expectations": expectations})
    )
    path.write_text(text)
    document = project.config()
    document["data"]["expectations"] = "expectations/churn.json"
    project.write_config(document)
    return path


def _validation(project: Project) -> dict[str, Any]:
    loaded = json.loads((project.state / "validation.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text


# -- expectations --------------------------------------------------------------------


def test_a_passing_suite_of_several_kinds_passes_on_train_and_eval(project: Project) -> None:
    _use_suite(project, PASSING)
    result = project.cli("validate")
    assert result.code == 0, result.err
    assert f"✓ expectations: {2 * len(PASSING)}/{2 * len(PASSING)} passed" in result.out
    report = _validation(project)["expectations"]
    assert report["passed"] is True
    assert (report["evaluated"], report["failed"]) == (2 * len(PASSING), 0)
    assert report["suite"].endswith("expectations/churn.json")
    first = report["results"][0]
    assert set(first) == {
        "dataset",
        "expectation",
        "column",
        "kwargs",
        "success",
        "observed",
        "unexpected_examples",
    }
    assert [r["dataset"] for r in report["results"]] == ["train"] * 9 + ["eval"] * 9
    # results keep the suite's order (GX itself does not)
    assert [r["expectation"] for r in report["results"][:9]] == [e["type"] for e in PASSING]
    assert report["results"][0]["observed"] == 1200


def test_failed_expectations_exit_1_naming_expectation_column_observed_and_examples(
    project: Project,
) -> None:
    train = pd.read_csv(project.root / "data" / "train.csv")
    train.loc[[3, 7], "tenure_months"] = [150, -4]
    train.loc[[5], "plan"] = ["weekly"]
    train.to_csv(project.root / "data" / "train.csv", index=False)
    _use_suite(project, PASSING)
    result = project.cli("validate")
    assert result.code == 1
    message = result.err
    assert "expect_column_values_to_be_between on 'tenure_months' failed on train" in message
    assert "2 unexpected values" in message
    assert "[150, -4]" in message
    assert "expect_column_values_to_be_in_set on 'plan' failed on train" in message
    assert '["weekly"]' in message
    report = _validation(project)["expectations"]  # written before the exit
    assert report["passed"] is False
    assert report["failed"] == 2
    failed = [r for r in report["results"] if not r["success"]]
    assert {(r["dataset"], r["column"]) for r in failed} == {
        ("train", "tenure_months"),
        ("train", "plan"),
    }
    between = next(r for r in failed if r["column"] == "tenure_months")
    assert between["observed"]["unexpected_count"] == 2
    assert between["unexpected_examples"] == [150, -4]
    assert between["kwargs"] == {"column": "tenure_months", "min_value": 0.0, "max_value": 72.0}
    assert _validation(project)["passed"] is False


def test_aggregate_expectation_failure_reports_the_observed_value(project: Project) -> None:
    _use_suite(
        project,
        [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000}},
            {
                "type": "expect_column_mean_to_be_between",
                "kwargs": {"column": "monthly_charges", "max_value": 10},
            },
        ],
    )
    result = project.cli("validate")
    assert result.code == 1
    assert "expect_table_row_count_to_be_between failed on eval: observed 600" in result.err
    assert "expect_column_mean_to_be_between on 'monthly_charges' failed on train: observed" in (
        result.err
    )
    results = _validation(project)["expectations"]["results"]
    assert [r["success"] for r in results] == [True, False, False, False]


def test_type_checks_work_on_pandas_3_text_columns(project: Project) -> None:
    _use_suite(
        project,
        [
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "plan", "type_list": ["str"]},
            },
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "region", "type_": "object"},
            },
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "payment", "type_list": ["int64", "float64"]},
            },
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "tenure_months", "type_list": ["int64"]},
            },
        ],
    )
    result = project.cli("validate")
    assert result.code == 1
    results = _validation(project)["expectations"]["results"]
    assert [r["success"] for r in results[:4]] == [True, True, False, True]
    assert results[2]["observed"] == "str"
    assert (
        "expect_column_values_to_be_in_type_list on 'payment' failed on train: observed \"str\""
        in (result.err)
    )


def test_a_suite_naming_a_column_the_data_lacks_is_exit_2_naming_it(project: Project) -> None:
    _use_suite(
        project,
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "tenure_month"}}],
    )
    result = project.cli("validate")
    assert result.code == 2
    _no_traceback(result.err)
    assert "names column 'tenure_month'" in result.err
    assert "did you mean 'tenure_months'?" in result.err
    assert "churn.json" in result.err
    assert not (project.state / "validation.json").exists()


def test_expect_column_to_exist_on_a_missing_column_is_a_failed_expectation(
    project: Project,
) -> None:
    _use_suite(project, [{"type": "expect_column_to_exist", "kwargs": {"column": "contract"}}])
    result = project.cli("validate")
    assert result.code == 1
    assert "expect_column_to_exist on 'contract' failed on train: column not found" in result.err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"name": "churn", "expectations": [', "not valid JSON at line 1"),
        ("[1, 2]", "not a GX expectation suite"),
        (
            '{"name": "x", "expectations": [{"type": "expect_column_to_be_nice", "kwargs": {}}]}',
            "expectations[0] (expect_column_to_be_nice) is not a valid GX expectation",
        ),
        (
            '{"name": "x", "expectations": [{"type": "expect_column_values_to_be_between", '
            '"kwargs": {"column": "age", "mostly": 7}}]}',
            "expectations[0] (expect_column_values_to_be_between) is not a valid GX expectation",
        ),
        (
            '{"expectation_suite_name": "x", "expectations": [{"expectation_type": '
            '"expect_column_to_exist", "kwargs": {"column": "age"}}]}',
            "GX 0.x key 'expectation_type'",
        ),
    ],
    ids=["truncated", "not-a-suite", "unknown-type", "bad-kwargs", "gx-0.x"],
)
def test_a_malformed_suite_is_exit_2_naming_the_file(
    project: Project, content: str, fragment: str
) -> None:
    path = _use_suite(project, content)
    result = project.cli("validate")
    assert result.code == 2
    _no_traceback(result.err)
    assert str(path) in result.err
    assert fragment in result.err
    assert not (project.state / "validation.json").exists()


def test_a_missing_suite_file_is_exit_2(project: Project) -> None:
    _use_suite(project, PASSING).unlink()
    result = project.cli("validate")
    assert result.code == 2
    assert "expectation suite not found (data.expectations)" in result.err
    assert "podium suggest" in result.err


# -- drift -----------------------------------------------------------------------------


def _shift_training_data(project: Project) -> None:
    path = project.root / "data" / "train.csv"
    train = pd.read_csv(path)
    rng = np.random.default_rng(5)
    train["tenure_months"] = train["tenure_months"] + 25
    train["plan"] = rng.choice(["monthly", "weekly"], size=len(train))
    train.to_csv(path, index=False)


def test_no_champion_means_drift_is_skipped_and_said(project: Project) -> None:
    result = project.cli("validate")
    assert result.code == 0, result.err
    written = _validation(project)
    assert written["drift"] is None
    assert written["expectations"] is None
    assert any("drift skipped: no champion yet" in n for n in written["notes"])


def test_a_store_not_created_yet_is_not_created_by_validate(
    make_project: Callable[..., Project],
) -> None:
    project = make_project(seeded=False)
    result = project.cli("validate")
    assert result.code == 0, result.err
    written = _validation(project)
    assert written["champion_version"] is None
    assert any("drift skipped: no champion yet" in n for n in written["notes"])
    assert not (project.state / "mlflow.db").exists()  # nothing to read: nothing created


def test_unchanged_data_shows_no_drift_against_the_champion(champion_project: Project) -> None:
    result = champion_project.cli("validate")
    assert result.code == 0, result.err
    report = _validation(champion_project)["drift"]
    assert report["reference_version"] == "1"
    assert report["passed"] is True
    assert report["drifted_share"] == 0.0
    assert report["max_drifted_share"] is None
    assert {f["feature"] for f in report["features"]} == {
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "plan",
        "region",
        "payment",
        "age",
    }
    assert all(f["psi"] < 0.01 and not f["drifted"] for f in report["features"])
    assert "✓ drift: 0 of 7 features drifted vs v1" in result.out


def test_shifted_training_data_is_reported_and_gated_by_max_drifted_share(
    champion_project: Project,
) -> None:
    _shift_training_data(champion_project)
    result = champion_project.cli("validate")
    assert result.code == 0, result.err  # reported, not gated by default
    report = _validation(champion_project)["drift"]
    drifted = {f["feature"]: f for f in report["features"] if f["drifted"]}
    assert set(drifted) == {"tenure_months", "plan"}
    assert drifted["tenure_months"]["test"] == "KS"
    assert drifted["plan"]["test"] == "chi2"
    assert report["drifted_share"] == pytest.approx(2 / 7)

    champion_project.update(drift={"max_drifted_share": 0.2})
    gated = champion_project.cli("validate")
    assert gated.code == 1
    assert "2 of 7 features drifted vs v1" in gated.err
    assert "above drift.max_drifted_share 0.2" in gated.err
    written = _validation(champion_project)
    assert written["drift"]["passed"] is False
    assert written["drift"]["max_drifted_share"] == 0.2
    assert written["passed"] is False


def test_a_per_feature_psi_bound_gates_drift(champion_project: Project) -> None:
    _shift_training_data(champion_project)
    champion_project.update(drift={"max_psi": 50})
    assert champion_project.cli("validate").code == 0
    champion_project.update(drift={"max_psi": 0.5})
    result = champion_project.cli("validate")
    assert result.code == 1
    assert "is above drift.max_psi 0.5" in result.err


def test_drift_can_be_switched_off(champion_project: Project) -> None:
    _shift_training_data(champion_project)
    champion_project.update(drift={"enabled": False, "max_drifted_share": 0.0})
    result = champion_project.cli("validate")
    assert result.code == 0, result.err
    assert _validation(champion_project)["drift"] is None


def test_a_champion_without_a_recorded_profile_skips_drift_with_a_note(
    champion_project: Project,
) -> None:
    profiles = list((champion_project.state / "artifacts").rglob("podium/profile.json"))
    assert len(profiles) == 1
    profiles[0].unlink()  # as if trained by a podium that did not record one
    result = champion_project.cli("validate")
    assert result.code == 0, result.err
    written = _validation(champion_project)
    assert written["drift"] is None
    assert any("champion v1 has no recorded data profile" in n for n in written["notes"])


# -- bad data --------------------------------------------------------------------------


def _write(project: Project, name: str, text: str) -> None:
    (project.root / "data" / name).write_text(text)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: _write(p, "train.csv", ""), "file is empty (data.train)"),
        (
            lambda p: _write(p, "train.csv", "customer_id,tenure_months,churned\n"),
            "has a header but no data rows (data.train)",
        ),
        (
            lambda p: _write(p, "train.csv", "a:b:churned\n1:2:0\n3:4:1\n"),
            "target column 'churned' not found",
        ),
        (
            lambda p: (
                pd.read_csv(p.root / "data" / "train.csv")
                .drop(columns="churned")
                .to_csv(p.root / "data" / "train.csv", index=False)
            ),
            "target column 'churned' not found",
        ),
        (
            lambda p: (
                pd.read_csv(p.root / "data" / "train.csv")
                .assign(age=np.nan)
                .to_csv(p.root / "data" / "train.csv", index=False)
            ),
            "column 'age' has no values at all",
        ),
        (
            lambda p: (
                pd.read_csv(p.root / "data" / "eval.csv")
                .astype({"tenure_months": object})
                .pipe(
                    lambda f: f.assign(
                        tenure_months=f["tenure_months"].where(f.index != 3, "unknown")
                    )
                )
                .to_csv(p.root / "data" / "eval.csv", index=False)
            ),
            "column 'tenure_months' is numeric in the training data "
            "but has 1 non-numeric value 'unknown' (row 4)",
        ),
    ],
    ids=["empty", "header-only", "wrong-delimiter", "target-missing", "all-nan", "text-in-number"],
)
def test_bad_data_is_a_clear_exit_2(project: Project, make: Any, fragment: str) -> None:
    make(project)
    result = project.cli("validate")
    assert result.code == 2, result.out + result.err
    _no_traceback(result.err)
    assert fragment in result.err


def test_text_in_a_numeric_training_column_is_named_before_the_suite_runs(
    project: Project,
) -> None:
    # issue 31: it was a GX type error (or, with a bounded column, "min_value and max_value
    # must be of the same type"); the column, the value and its row say what to fix.
    path = project.root / "data" / "train.csv"
    train = pd.read_csv(path).astype({"monthly_charges": object})
    train.loc[10, "monthly_charges"] = "twelve"
    train.to_csv(path, index=False)
    _use_suite(
        project,
        [
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "monthly_charges", "type_list": ["float64", "int64"]},
            }
        ],
    )
    result = project.cli("validate")
    assert result.code == 2
    _no_traceback(result.err)
    assert "column 'monthly_charges' is numeric in 1,199 rows but has 1 non-numeric value " in (
        result.err
    )
    assert "'twelve' (row 11)" in result.err


def test_a_challenger_that_leaves_out_a_champion_feature_still_passes(
    champion_project: Project,
) -> None:
    # A user narrowed data.features for the challenger; the data still had every column,
    # yet validate failed: "columns champion v1 was trained on are missing: age".
    data = champion_project.config()["data"]
    del data["exclude"]
    champion_project.update(data={**data, "features": ["tenure_months", "monthly_charges", "plan"]})
    result = champion_project.cli("validate")
    assert result.code == 0, result.err
    check = next(
        c for c in _validation(champion_project)["checks"] if c["name"] == "champion columns"
    )
    assert check == {
        "name": "champion columns",
        "passed": True,
        "detail": "all 7 columns champion v1 uses are present",
    }
    # A column the data really lost still fails, naming it.
    evaluation = pd.read_csv(champion_project.root / "data" / "eval.csv").drop(columns=["age"])
    evaluation.to_csv(champion_project.root / "data" / "eval.csv", index=False)
    lost = champion_project.cli("validate")
    assert lost.code == 1
    assert "columns champion v1 was trained on are missing: age" in lost.err


# -- issue 31: a stray string in a numeric column ------------------------------------------


@pytest.fixture
def credit(tmp_path: Path, store_template: Path) -> Project:
    from tests.shaped import write_project

    return Project(
        write_project(tmp_path / "credit", "credit", store_template=store_template).parent
    )


def _stray_age(project: Project, row: int = 1202, value: str = "unknown") -> None:
    path = project.root / "data" / "train.csv"
    frame = pd.read_csv(path)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[row - 1, "Age"] = value
    frame.to_csv(path, index=False)


def test_a_stray_string_in_a_numeric_column_fails_naming_column_count_rows_and_value(
    credit: Project,
) -> None:
    _stray_age(credit, row=1103)
    result = credit.cli("validate")
    assert result.code == 2, result.out
    _no_traceback(result.err)
    assert "column 'Age' is numeric in 1,199 rows but has 1 non-numeric value 'unknown' " in (
        result.err
    )
    assert "(row 1,103)" in result.err and "data.coerce_numeric" in result.err
    assert not (credit.state / "validation.json").exists()


def test_data_coerce_numeric_reads_stray_values_as_missing(credit: Project) -> None:
    _stray_age(credit, row=5, value="n/a")
    document = credit.config()
    document["data"]["coerce_numeric"] = ["Age"]
    credit.write_config(document)
    result = credit.cli("validate")
    assert result.code == 0, result.err
    assert credit.cli("train").code == 0
    features = json.loads((credit.state / "train.json").read_text())["feature_types"]
    assert features["Age"] == "numeric"


def test_a_column_type_changed_against_the_champion_is_a_failed_check(credit: Project) -> None:
    assert credit.cli("run").code == 0  # v1 champion, Age numeric
    path = credit.root / "data" / "train.csv"
    frame = pd.read_csv(path)
    frame["Age"] = np.where(frame["Age"] < 40, "young", "old")  # now a category
    frame.to_csv(path, index=False)
    result = credit.cli("validate")
    assert result.code == 1
    assert "✗ champion columns: column type changed against champion v1's training data: " in (
        result.out
    )
    assert "'Age' numeric → categorical" in result.out


def test_a_bad_number_in_eval_names_the_rows(credit: Project) -> None:
    path = credit.root / "data" / "eval.csv"
    frame = pd.read_csv(path)
    frame["Income"] = frame["Income"].astype(object)
    frame.loc[[40, 41], "Income"] = ["12k", "12k"]
    frame.to_csv(path, index=False)
    result = credit.cli("validate")
    assert result.code == 2
    assert "column 'Income' is numeric in the training data but has 2 non-numeric values " in (
        result.err
    )
    assert "'12k' (rows 41, 42)" in result.err


def test_did_you_mean_only_for_close_names(credit: Project) -> None:
    path = credit.root / "data" / "eval.csv"
    frame = pd.read_csv(path).drop(columns=["Income"])
    frame["Time"] = 1
    frame.to_csv(path, index=False)
    result = credit.cli("validate")
    assert result.code == 2 and "missing column(s) 'Income'" in result.err
    assert "did you mean" not in result.err
