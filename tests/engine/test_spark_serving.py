"""The serving check of `podium evaluate` on an `engine: spark` project: the candidate behind
MLflow's real scoring server (`mlflow models serve`), sent rows of the sample scored in this
process, answers as podium scored them in Spark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project, state_json
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]


def test_a_spark_source_is_serving_checked_on_the_rows_scored_in_process(
    make_project: Callable[..., Project], spark: Any
) -> None:
    from podium.engine import spark as engine

    engine.forget()
    project = make_project()
    document = project.config()
    for name in ("train", "eval"):
        frame = pd.read_csv(project.root / "data" / f"{name}.csv")
        frame.to_parquet(project.root / "data" / f"{name}.parquet", index=False)
        document["data"][name] = {"engine": "spark", "path": f"data/{name}.parquet"}
    document["serving"] = {"rows": 40, "requests": 3}
    project.write_config(document)
    result = project.cli("run")
    assert result.code == 0, result.err
    evaluated = state_json(project, "evaluation.json")
    served = evaluated["serving"]
    assert (served["rows"], served["parity"], served["skipped"]) == (40, 1.0, None)
    assert served["error"] is None and served["latency_ms"] > 0
    assert evaluated["challenger"]["metrics"]["serving_parity"] == 1.0
