"""SQL sources with `in_database: true` (issue 14): checks, expectations and the drift
profile run in the database (real sqlite through SQLAlchemy and GX's SQL engine)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project, state_json

DB = "sqlite:///data/warehouse.db"
SUITE = {
    "name": "churn",
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 100}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "tenure_months"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "monthly_charges", "min_value": 0, "max_value": 60},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "plan", "value_set": ["monthly", "yearly"]},
        },
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "tenure_months"}},
    ],
}


def _to_sqlite(project: Project) -> None:
    with sqlite3.connect(project.root / "data" / "warehouse.db") as connection:
        for name in ("train", "eval"):
            pd.read_csv(project.root / "data" / f"{name}.csv").to_sql(
                f"churn_{name}", connection, index=False
            )


def _point(project: Project, *, in_database: bool, suite: bool = True, **extra: Any) -> None:
    document = project.config()
    document["data"]["train"] = {"uri": DB, "table": "churn_train", "in_database": in_database}
    document["data"]["eval"] = {
        "uri": DB,
        "sql": "select * from churn_eval where 1 = 1",
        "in_database": in_database,
    }
    if suite:
        (project.root / "suite.json").write_text(json.dumps(SUITE))
        document["data"]["expectations"] = "suite.json"
    document["data"].update(extra)
    project.write_config(document)


def _forget() -> None:
    from podium import data
    from podium.engine import sql

    sql.forget()
    data._CACHE.clear()


def _profile(project: Project, registry_of: Any, version: str) -> dict[str, Any]:
    registry = registry_of(project)
    found = registry.get_version(version)
    assert found is not None and found.run_id
    from podium import drift

    profile = registry.run_json(found.run_id, drift.PROFILE_ARTIFACT)
    assert isinstance(profile, dict)
    return profile


def test_in_database_agrees_with_the_pandas_path_on_a_small_table(
    project: Project, registry_of: Any
) -> None:
    _to_sqlite(project)
    _point(project, in_database=False, suite=False)
    first = project.cli("run")  # read into pandas: the champion, its profile from pandas
    assert first.code == 0, first.err
    pandas_evaluation = state_json(project, "evaluation.json")
    _point(project, in_database=False)
    checked = project.cli("validate")
    assert checked.code == 1, checked.err
    pandas_validation = state_json(project, "validation.json")
    _forget()
    _point(project, in_database=True)
    again = project.cli("validate")
    assert again.code == 1, again.err  # the suite's in_set and unique fail, on both paths
    sql_validation = state_json(project, "validation.json")
    # identical expectation results: counts, percents, examples, verdicts
    # identical results; the examples are the first the database returns (a unique
    # check's come in the database's order), each an unexpected value of the data
    train = pd.read_csv(project.root / "data" / "train.csv")
    repeated = set(train["tenure_months"][train["tenure_months"].duplicated()])
    for mine, theirs in zip(
        sql_validation["expectations"]["results"],
        pandas_validation["expectations"]["results"],
        strict=True,
    ):
        examples = mine.pop("unexpected_examples")
        wanted = theirs.pop("unexpected_examples")
        assert mine == theirs
        assert bool(examples) == bool(wanted)
        if mine["expectation"] == "expect_column_values_to_be_unique" and mine["dataset"] == "train":
            assert set(examples) <= repeated
        elif mine["expectation"] != "expect_column_values_to_be_unique":
            assert examples == wanted
    assert sql_validation["expectations"]["failed"] == pandas_validation["expectations"]["failed"]
    assert "'plan' failed on train" in again.out + again.err
    assert sql_validation["train"]["rows"] == 1200
    assert sql_validation["eval"]["rows"] == 600
    assert sql_validation["drift"]["drifted_share"] == 0.0  # in-DB data vs a pandas profile
    _forget()
    trained = project.cli("train")  # in-database: checks and profile by queries
    assert trained.code == 0, trained.err
    evaluated = project.cli("evaluate")
    assert evaluated.code in (0, 1), evaluated.err
    sql_evaluation = state_json(project, "evaluation.json")
    labels = ("accuracy", "f1", "precision", "recall", "roc_auc", "log_loss")
    for metric in labels:  # all 1,200 rows fitted: the same model, the same numbers
        assert sql_evaluation["challenger"]["metrics"][metric] == pytest.approx(
            pandas_evaluation["challenger"]["metrics"][metric], abs=1e-12
        )
    in_database = _profile(project, registry_of, sql_evaluation["challenger"]["version"])
    from_pandas = _profile(project, registry_of, pandas_evaluation["challenger"]["version"])
    for name, feature in from_pandas["features"].items():
        assert in_database["features"][name] == feature, name
    assert in_database == from_pandas  # exact quantiles, counts, every value as the sample
