"""`podium monitor` on an `engine: spark` production source (engine/spark_monitor.py):
drift and the champion's live metrics measured in Spark, agreeing with the pandas path."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]

LABEL_METRICS = ("accuracy", "f1", "precision", "recall")


def _monitor(project: Project, data: Any) -> dict[str, Any]:
    document = project.config()
    document["monitor"] = {"data": data}
    project.write_config(document)
    done = project.cli("monitor")
    assert "Traceback" not in done.err, done.err
    assert done.code in (0, 1), done.err
    loaded = json.loads((project.state / "monitor.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_monitor_on_spark_agrees_with_the_pandas_path(project: Project, spark: Any) -> None:
    from podium.engine import spark as engine

    engine.forget()
    project.update(gates=[{"metric": "roc_auc", "min": 0.5}, {"metric": "f1", "min": 0.1}])
    assert project.cli("run").code == 0
    frame = pd.read_csv(project.root / "data" / "eval.csv")
    frame["monthly_charges"] = frame["monthly_charges"] + 40  # a drift both must see
    frame.to_parquet(project.root / "data" / "production.parquet", index=False)
    frame.drop(columns=["churned"]).to_parquet(project.root / "data" / "inputs.parquet")

    expected = _monitor(project, "data/production.parquet")
    found = _monitor(project, {"engine": "spark", "path": "data/production.parquet"})
    assert found["rows"] == expected["rows"]
    assert found["labelled_rows"] == expected["labelled_rows"] > 0
    verdicts = [
        {f["feature"]: f["drifted"] for f in r["drift"]["features"]} for r in (expected, found)
    ]
    assert verdicts[0] == verdicts[1] and verdicts[0]["monthly_charges"]
    live = {m["metric"]: m for m in found["metrics"]}
    theirs = {m["metric"]: m for m in expected["metrics"]}
    assert set(live) == set(theirs) == {"roc_auc", "f1"}
    assert live["f1"]["live"] == pytest.approx(theirs["f1"]["live"], rel=1e-12)
    note = next(n for n in found["notes"] if "computed in spark" in n)
    bound = float(note.split("within ±")[1].split(";")[0])
    assert abs(live["roc_auc"]["live"] - theirs["roc_auc"]["live"]) <= bound * 1.01 + 1e-12
    assert found["passed"] == expected["passed"]

    inputs = _monitor(project, {"engine": "spark", "path": "data/inputs.parquet"})
    assert inputs["labelled_rows"] == 0
    assert any("drift only" in n for n in inputs["notes"])


def test_production_data_without_a_feature_is_exit_2_in_one_line_on_spark(
    project: Project, spark: Any
) -> None:
    from podium.engine import spark as engine

    engine.forget()
    assert project.cli("run").code == 0
    frame = pd.read_csv(project.root / "data" / "eval.csv").drop(columns=["monthly_charges"])
    frame.to_parquet(project.root / "data" / "inputs.parquet", index=False)
    said = []
    for data in ("data/inputs.parquet", {"engine": "spark", "path": "data/inputs.parquet"}):
        document = project.config()
        document["monitor"] = {"data": data}
        project.write_config(document)
        done = project.cli("monitor")
        assert done.code == 2, done.err
        assert len(done.err.strip().splitlines()) == 1, done.err
        said.append(done.err.strip().split(".parquet: ", 1)[1])
    assert said[0] == said[1]
    assert "missing column(s) 'monthly_charges'" in said[1]
