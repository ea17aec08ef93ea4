"""`podium suggest` on Spark (engine/spark_suggest.py): the suite comes from engine
aggregates and is the pandas path's suite, rule for rule, on the same table."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]


def test_suggest_on_spark_writes_the_pandas_paths_suite(project: Project, spark: Any) -> None:
    from podium.engine import spark as engine

    engine.forget()
    document = project.config()
    for name in ("train", "eval"):
        frame = pd.read_csv(project.root / "data" / f"{name}.csv")
        frame["vip"] = frame["tenure_months"] > 36  # a boolean column
        frame.to_parquet(project.root / "data" / f"{name}.parquet", index=False)
        document["data"][name] = f"data/{name}.parquet"  # pandas reads the very same files
    project.write_config(document)
    on_spark = Project(project.root.parent / "on-spark")
    shutil.copytree(project.root, on_spark.root)
    document = on_spark.config()
    for name in ("train", "eval"):
        document["data"][name] = {"engine": "spark", "path": f"data/{name}.parquet"}
    on_spark.write_config(document)

    suites = []
    for each in (project, on_spark):
        done = each.cli("suggest")
        assert done.code == 0, done.err
        suites.append(json.loads((each.root / "expectations" / "churn.json").read_text()))
    expected, found = suites
    assert found["expectations"] == expected["expectations"]
    kinds = {e["type"] for e in found["expectations"]}
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_be_between"} <= kinds
    assert "Suggested by `podium suggest` from spark " in json.dumps(found)
