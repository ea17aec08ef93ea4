"""Tables that are not files: SQL through SQLAlchemy (on sqlite) and Spark (local mode)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project
from tests.tools import JAVA, PYSPARK, requires


def _to_sqlite(project: Project) -> None:
    with sqlite3.connect(project.root / "data" / "warehouse.db") as connection:
        for name in ("train", "eval"):
            pd.read_csv(project.root / "data" / f"{name}.csv").to_sql(
                f"churn_{name}", connection, index=False
            )


def _point(project: Project, train: Any, evaluation: Any) -> None:
    document = project.config()
    document["data"]["train"] = train
    document["data"]["eval"] = evaluation
    project.write_config(document)


def test_sql_table_and_query_sources_validate_and_train(project: Project) -> None:
    _to_sqlite(project)
    _point(
        project,
        {"uri": "sqlite:///data/warehouse.db", "table": "churn_train"},
        {"uri": "sqlite:///data/warehouse.db", "sql": "select * from churn_eval where 1 = 1"},
    )
    (project.root / "data" / "train.csv").unlink()  # nothing is read from files
    result = project.cli("run")
    assert result.code == 0, result.err
    written = json.loads((project.state / "validation.json").read_text())
    assert written["train"]["rows"] == 1200
    assert written["train"]["path"].endswith("warehouse.db (table churn_train)")
    assert written["eval"]["path"].endswith("warehouse.db (query)")
    assert len(written["train"]["sha256"]) == 64
    again = project.cli("validate")  # same content, same fingerprint; drift against v1: none
    assert again.code == 0, again.err
    rewritten = json.loads((project.state / "validation.json").read_text())
    assert rewritten["train"]["sha256"] == written["train"]["sha256"]
    assert rewritten["drift"]["drifted_share"] == 0.0


def test_sql_uri_reads_secrets_from_the_environment(project: Project) -> None:
    _to_sqlite(project)
    db = project.root / "data" / "warehouse.db"
    _point(
        project,
        {"uri": "${PODIUM_TEST_WAREHOUSE}", "table": "churn_train"},
        {"uri": "${PODIUM_TEST_WAREHOUSE}", "table": "churn_eval"},
    )
    missing = project.cli("validate")
    assert missing.code == 2
    assert "environment variable PODIUM_TEST_WAREHOUSE is not set" in missing.err
    ok = project.cli("validate", env={"PODIUM_TEST_WAREHOUSE": f"sqlite:///{db}"})
    assert ok.code == 0, ok.err


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (
            {"uri": "sqlite:///data/warehouse.db", "table": "churn_tran"},
            "no such table 'churn_tran'",
        ),
        ({"uri": "sqlite:///data/warehouse.db", "sql": "selec * from churn_train"}, "syntax error"),
        ({"uri": "sqlite:///data/nowhere.db", "table": "t"}, "sqlite database not found"),
        (
            {"uri": "sqlite:///data/warehouse.db", "sql": "select * from churn_train where 0"},
            "returned no rows (data.train)",
        ),
        ({"uri": "not a url", "table": "t"}, "is not a SQLAlchemy URL"),
    ],
    ids=["unknown-table", "bad-sql", "no-database", "no-rows", "bad-uri"],
)
def test_bad_sql_sources_are_exit_2_naming_them(
    project: Project, source: dict[str, str], fragment: str
) -> None:
    _to_sqlite(project)
    _point(project, source, "data/eval.csv")
    result = project.cli("validate")
    assert result.code == 2, result.out
    assert "Traceback" not in result.err
    assert fragment in result.err


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ({"table": "t"}, "a SQL source needs 'uri'"),
        (
            {"uri": "sqlite:///x.db", "table": "t", "sql": "select 1"},
            "exactly one of 'table' or 'sql'",
        ),
        (
            {"uri": "sqlite:///x.db", "tabel": "t"},
            "unknown key 'data.train.tabel'; did you mean 'table'?",
        ),
        ({"engine": "spark", "uri": "sqlite:///x.db", "table": "t"}, "'uri' is for engine: sql"),
    ],
)
def test_source_mappings_are_checked_in_the_config(
    project: Project, source: dict[str, str], fragment: str
) -> None:
    _point(project, source, "data/eval.csv")
    result = project.cli("validate")
    assert result.code == 2
    assert fragment in result.err


# -- Spark (optional) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")

    session = (
        SparkSession.builder.master("local[1]")
        .appName("podium-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield
    session.stop()


@pytest.mark.spark
@requires(PYSPARK, JAVA)
def test_spark_path_and_query_sources_validate(project: Project, spark_session: None) -> None:
    for name in ("train", "eval"):
        frame = pd.read_csv(project.root / "data" / f"{name}.csv")
        frame.to_parquet(project.root / "data" / f"{name}.parquet", index=False)
    evaluation = project.root / "data" / "eval.parquet"
    _point(
        project,
        {"engine": "spark", "path": "data/train.parquet"},
        {"engine": "spark", "sql": f"select * from parquet.`{evaluation}`"},
    )
    suite = project.root / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_in_set",
                        "kwargs": {
                            "column": "plan",
                            "value_set": ["monthly", "yearly", "two_year"],
                        },
                    },
                    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 600}},
                ],
            }
        )
    )
    document = project.config()
    document["data"]["expectations"] = "suite.json"
    project.write_config(document)
    result = project.cli("validate")
    assert result.code == 0, result.err
    written = json.loads((project.state / "validation.json").read_text())
    assert (written["train"]["rows"], written["eval"]["rows"]) == (1200, 600)
    assert written["eval"]["path"] == "spark query"
    assert written["expectations"]["evaluated"] == 4

    _point(project, {"engine": "spark", "table": "no_such_table"}, "data/eval.csv")
    missing = project.cli("validate")
    assert missing.code == 2
    assert "spark table no_such_table" in missing.err
