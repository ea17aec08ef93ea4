"""`podium predict` on every engine: one table scored through pandas (a file), SQL (sqlite,
streamed in chunks) and Spark (inside Spark, written by Spark) gives the same rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import Project
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]


def _table(project: Project) -> pd.DataFrame:
    """The eval rows without the target, some cells empty (missing values are scored too)."""
    frame = pd.read_csv(project.root / "data" / "eval.csv").drop(columns=["churned"])
    frame.loc[frame.index % 7 == 0, "plan"] = None
    frame.loc[frame.index % 11 == 0, "monthly_charges"] = np.nan
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    """A csv file, or the folder of part files Spark writes."""
    if not path.is_dir():
        return pd.read_csv(path)
    parts = sorted(path.glob("part-*.csv"))
    assert parts, path
    return pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)


def _flow(text: dict[str, str]) -> str:
    return json.dumps(text)  # JSON is YAML: the inline mapping --data takes


def test_pandas_sql_and_spark_write_the_same_predictions(
    champion_project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.engine import sql

    project = champion_project
    table = _table(project)
    table.to_csv(project.root / "score.csv", index=False)
    table.to_parquet(project.root / "score.parquet", index=False)
    with closing(sqlite3.connect(project.root / "score.db")) as connection:
        table.to_sql("customers", connection, index=False)
    as_text = table.assign(monthly_charges=table["monthly_charges"].map(str, na_action="ignore"))
    as_text.to_parquet(project.root / "text.parquet", index=False)  # numbers stored as text
    monkeypatch.setattr(sql, "CHUNK_ROWS", 97)  # seven chunks, appended one by one

    sources = {
        "pandas": str(project.root / "score.csv"),
        "sql": _flow({"engine": "sql", "uri": "sqlite:///score.db", "table": "customers"}),
        "spark": _flow({"engine": "spark", "path": "score.parquet"}),
        "spark-text": _flow({"engine": "spark", "path": "text.parquet"}),
    }
    said = {
        "pandas": "scored 600 rows with v1 (@champion): wrote",
        "sql": "scored 600 rows with v1 (@champion) streamed from SQL: wrote",
        "spark": "scored 600 rows with v1 (@champion) in Spark: wrote",
        "spark-text": "scored 600 rows with v1 (@champion) in Spark: wrote",
    }
    written: dict[str, pd.DataFrame] = {}
    for engine, source in sources.items():
        for suffix in (".parquet", ".csv"):
            out = project.root / "out" / f"{engine}{suffix}"
            done = project.cli(
                "predict", "--data", source, "--out", str(out), "--id", "customer_id"
            )
            assert done.code == 0, (engine, done.err)
            assert said[engine] in done.out, done.out
            read = pd.read_parquet(out) if suffix == ".parquet" else _read_csv(out)
            written[engine + suffix] = read.sort_values("customer_id").reset_index(drop=True)
    for suffix in (".parquet", ".csv"):  # Spark wrote them: folders of part files
        assert (project.root / "out" / f"spark{suffix}").is_dir()
    assert not [p for p in (project.root / "out").iterdir() if p.name.startswith(".")]

    expected = written["pandas.parquet"]
    assert list(expected.columns) == ["customer_id", "prediction", "proba_0", "proba_1"]
    assert len(expected) == 600 and expected["customer_id"].is_unique
    assert expected["prediction"].nunique() == 2  # both classes predicted: a real comparison
    for name, frame in written.items():
        assert list(frame.columns) == list(expected.columns), name
        assert frame["customer_id"].tolist() == expected["customer_id"].tolist(), name
        assert frame["prediction"].tolist() == expected["prediction"].tolist(), name
        for column in ("proba_0", "proba_1"):
            gap = (frame[column] - expected[column]).abs().max()
            assert gap < 1e-9, (name, column, gap)


def test_predict_checks_the_schema_first_on_sql_and_spark(
    champion_project: Project, spark: Any
) -> None:
    project = champion_project
    table = _table(project).drop(columns=["plan"])
    table.to_parquet(project.root / "broken.parquet", index=False)
    with closing(sqlite3.connect(project.root / "broken.db")) as connection:
        table.to_sql("customers", connection, index=False)
        _table(project).head(0).to_sql("empty", connection, index=False)
    texts = _table(project)
    texts["monthly_charges"] = texts["monthly_charges"].map(lambda v: f"{v}", na_action="ignore")
    texts.loc[5, "monthly_charges"] = "unknown"  # a number column with a stray word
    texts.to_parquet(project.root / "texts.parquet", index=False)
    texts.to_csv(project.root / "texts.csv", index=False)
    out = project.root / "out" / "scored.parquet"
    cases: dict[tuple[str, ...], str] = {
        (_flow({"engine": "spark", "path": "texts.parquet"}),): "non-numeric value 'unknown'",
        (str(project.root / "texts.csv"),): "non-numeric value 'unknown'",
        (_flow({"engine": "sql", "uri": "sqlite:///broken.db", "table": "customers"}),): "'plan'",
        (_flow({"engine": "spark", "path": "broken.parquet"}),): "'plan'",
        (
            _flow({"engine": "spark", "path": "broken.parquet"}),
            "--id",
            "nope",
        ): "--id 'nope' is not a column",
        (_flow({"engine": "sql", "uri": "sqlite:///broken.db", "table": "nope"}),): "no such table",
        (_flow({"engine": "sql", "table": "customers"}),): "--data: a SQL source needs 'uri'",
        ("{engine: sql, uri: [",): "--data: not a YAML mapping",
        (_flow({"engine": "sql", "uri": "sqlite:///broken.db", "table": "empty"}),): "no rows",
    }
    for (source, *rest), expected in cases.items():
        result = project.cli("predict", "--data", source, "--out", str(out), *rest)
        assert result.code == 2, (source, result.err)
        lines = result.err.strip().splitlines()
        assert expected in result.err and len(lines) == 1, (source, result.err)
    assert not out.exists()
    assert not (project.root / "out").exists() or not list((project.root / "out").iterdir())


def test_spark_scoring_never_collects_the_table(
    champion_project: Project, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows reach the driver only as the one-row probe that fixes the output's schema:
    every `toPandas`/`collect` on the driver is counted (spies that return what pyspark
    returns), and the 24,000 scored rows are read back from what Spark wrote."""
    frames = type(spark.range(1))  # the DataFrame class this session makes (classic)
    brought: list[int] = []
    for name in ("toPandas", "collect"):
        original = getattr(frames, name)

        def spy(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            got = _original(self, *args, **kwargs)
            brought.append(len(got))
            return got

        monkeypatch.setattr(frames, name, spy)
    project = champion_project
    big = pd.concat([_table(project)] * 40, ignore_index=True)  # 24,000 rows
    big["customer_id"] = [f"c{i:06d}" for i in range(len(big))]
    big.to_parquet(project.root / "big.parquet", index=False)
    out = project.root / "out" / "big.parquet"
    source = _flow({"engine": "spark", "path": str(project.root / "big.parquet")})
    done = project.cli("predict", "--data", source, "--out", str(out), "--id", "customer_id")
    assert done.code == 0, done.err
    assert "scored 24000 rows" in done.out
    assert brought and max(brought) <= 1, brought  # the probe, nothing more
    written = pd.read_parquet(out)
    assert len(written) == 24000 and written["customer_id"].is_unique
    assert written["proba_1"].between(0, 1).all()


def test_a_regression_version_writes_the_same_values_on_every_engine(
    make_project: Callable[..., Project], spark: Any
) -> None:
    project = make_project(
        estimator="sklearn.tree.DecisionTreeRegressor",
        params={"max_depth": 4},
        gates=[{"metric": "rmse", "max": 1e9}],
    )
    document = project.config()
    document["model"]["task"] = "regression"
    document["data"]["target"] = "monthly_charges"
    document["data"]["exclude"] = ["customer_id", "churned"]
    project.write_config(document)
    assert project.cli("run").code == 0
    table = pd.read_csv(project.root / "data" / "eval.csv").drop(columns=["monthly_charges"])
    table.to_csv(project.root / "score.csv", index=False)
    table.to_parquet(project.root / "score.parquet", index=False)
    with closing(sqlite3.connect(project.root / "score.db")) as connection:
        table.to_sql("customers", connection, index=False)
    sources = {
        "pandas": str(project.root / "score.csv"),
        "sql": _flow({"engine": "sql", "uri": "sqlite:///score.db", "table": "customers"}),
        "spark": _flow({"engine": "spark", "path": "score.parquet"}),
    }
    written = {}
    for engine, source in sources.items():
        out = project.root / "out" / f"{engine}.parquet"
        done = project.cli("predict", "--data", source, "--out", str(out), "--id", "customer_id")
        assert done.code == 0, (engine, done.err)
        frame = pd.read_parquet(out).sort_values("customer_id").reset_index(drop=True)
        written[engine] = frame
    expected = written["pandas"]
    assert list(expected.columns) == ["customer_id", "prediction"]
    assert expected["prediction"].nunique() > 2  # a real regression: many distinct values
    for name, frame in written.items():
        assert list(frame.columns) == list(expected.columns), name
        assert frame["customer_id"].tolist() == expected["customer_id"].tolist(), name
        gap = (frame["prediction"] - expected["prediction"]).abs().max()
        assert gap < 1e-9, (name, gap)
