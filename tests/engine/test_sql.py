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
TYPES = "expect_column_values_to_be_in_type_list"
INT = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "Int64"]
FLOAT = ["float32", "float64", "Float64"]
TEXT = ["str", "object", "string"]
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
        # type checks in pandas' names, as `podium suggest` writes them
        {"type": TYPES, "kwargs": {"column": "tenure_months", "type_list": INT}},
        {"type": TYPES, "kwargs": {"column": "age", "type_list": INT + FLOAT}},
        {"type": TYPES, "kwargs": {"column": "plan", "type_list": TEXT}},
        {"type": TYPES, "kwargs": {"column": "support_calls", "type_list": TEXT}},  # fails
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
        if (
            mine["expectation"] == "expect_column_values_to_be_unique"
            and mine["dataset"] == "train"
        ):
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
    mine, theirs = sql_evaluation["challenger"], pandas_evaluation["challenger"]
    # all 1,200 rows fitted: the same model; the 600 eval rows streamed in chunks
    for metric in ("accuracy", "f1", "precision", "recall"):
        assert mine["metrics"][metric] == theirs["metrics"][metric]  # exact counts
    assert mine["metrics"]["log_loss"] == pytest.approx(theirs["metrics"]["log_loss"], rel=1e-12)
    computed = sql_evaluation["computed"]
    assert computed["engine"] == "sql"
    assert computed["rows"] == 600
    assert computed["sample_rows"] == 600  # under SAMPLE_ROWS: every row, as on pandas
    bound = float(computed["approximate"]["roc_auc"].split("±")[1].split()[0])
    assert bound < 1e-3
    assert abs(mine["metrics"]["roc_auc"] - theirs["metrics"]["roc_auc"]) <= bound
    in_database = _profile(project, registry_of, sql_evaluation["challenger"]["version"])
    from_pandas = _profile(project, registry_of, pandas_evaluation["challenger"]["version"])
    for name, feature in from_pandas["features"].items():
        assert in_database["features"][name] == feature, name
    assert in_database == from_pandas  # exact quantiles, counts, every value as the sample


def _sqlite_source(path: Any, frame: pd.DataFrame, name: str, **extra: Any) -> Any:
    from podium.config import TableSource

    with sqlite3.connect(path) as connection:
        frame.to_sql(name, connection, index=False, if_exists="replace")
    return TableSource(uri=f"sqlite:///{path}", table=name, in_database=True, **extra)


def test_drift_in_the_database_gives_the_pandas_verdicts(tmp_path: Any) -> None:
    from podium import data, drift
    from podium.engine import sql
    from podium.sample import churn_tables

    reference, _ = churn_tables(train_rows=1500, eval_rows=10)
    shifted, _ = churn_tables(train_rows=1800, eval_rows=10, seed=11)
    shifted["monthly_charges"] = shifted["monthly_charges"] * 1.4  # drifted
    shifted.loc[shifted.index[:400], "plan"] = "weekly"  # a category never seen
    db = tmp_path / "w.db"
    base = sql.prepare(
        sql.read(_sqlite_source(db, reference, "ref"), label="data.train"),
        target="churned",
        task="classification",
        features=None,
        exclude=["customer_id"],
    )
    profile = sql.profile(base)
    source = _sqlite_source(db, shifted, "new")
    in_database = sql.compare(
        profile,
        sql.prepare(
            sql.read(source, label="data.train"),
            target="churned",
            task="classification",
            features=None,
            exclude=[],
            expected_types=base.feature_types,
        ),
    )
    table = data.read_table(source, label="data.train")
    prepared = data.prepare(
        table, target="churned", task="classification", features=None, exclude=["customer_id"]
    )
    in_pandas = drift.compare(profile, prepared.features, prepared.feature_types)
    assert [f.feature for f in in_database] == [f.feature for f in in_pandas]
    for mine, theirs in zip(in_database, in_pandas, strict=True):
        assert mine.drifted == theirs.drifted, mine.feature
        assert mine.psi == pytest.approx(theirs.psi, abs=1e-12), mine.feature
        assert mine.p_value == pytest.approx(theirs.p_value, abs=1e-12), mine.feature
    drifted = {f.feature for f in in_database if f.drifted}
    assert {"monthly_charges", "plan"} <= drifted


def test_fingerprint_streams_and_ignores_row_order(tmp_path: Any, monkeypatch: Any) -> None:
    from podium.engine import sql
    from podium.sample import churn_tables

    monkeypatch.setattr(sql, "CHUNK_ROWS", 97)  # many chunks, some with no NULL in 'age'
    frame, _ = churn_tables(train_rows=1000, eval_rows=10)
    db = tmp_path / "w.db"
    first = sql.read(_sqlite_source(db, frame, "a"), label="data.train")
    shuffled = frame.sample(frac=1.0, random_state=3)
    second = sql.read(_sqlite_source(db, shuffled, "b"), label="data.train")
    changed = frame.copy()
    changed.loc[5, "monthly_charges"] += 0.01
    third = sql.read(_sqlite_source(db, changed, "c"), label="data.train")
    assert first.rows == second.rows == 1000
    assert first.sha256 == second.sha256
    assert third.sha256 != first.sha256
    assert first.numeric["age"] and not first.numeric["plan"]
    # the training sample: at most `rows`, seeded by content, the same in any row order
    one = sql.training_rows(first, rows=300)
    two = sql.training_rows(second, rows=300)
    assert len(one) == 300
    key = ["customer_id"]
    assert (
        one.sort_values(key)
        .reset_index(drop=True)
        .equals(two.sort_values(key).reset_index(drop=True))
    )


def test_an_in_database_table_larger_than_train_sample_trains_on_a_sample(
    project: Project,
) -> None:
    _to_sqlite(project)
    _point(project, in_database=True, suite=False, train_sample=500)
    result = project.cli("train")
    assert result.code == 0, result.err
    training = state_json(project, "train.json")
    assert training["train_sample"] == 500
    assert training["train"]["rows"] == 1200  # counted in the database: every row


@pytest.mark.parametrize(
    ("train", "expected"),
    [
        ({"table": "no_such_table"}, "no such table 'no_such_table' (data.train)"),
        ({"sql": "select nope from churn_train"}, "no such column: nope (data.train)"),
        ({"sql": "select tenure_months, churned from churn_train"}, "missing column(s)"),
    ],
)
def test_bad_in_database_input_is_exit_2_with_one_line(
    project: Project, train: dict[str, str], expected: str
) -> None:
    _to_sqlite(project)
    _point(project, in_database=True, suite=False)
    document = project.config()
    document["data"]["train"] = {"uri": DB, "in_database": True, **train}
    document["data"]["features"] = ["tenure_months", "plan"]
    project.write_config(document)
    result = project.cli("validate")
    assert result.code == 2, result.err
    assert expected in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    _forget()


def test_evaluation_streams_in_chunks_and_keeps_label_metrics_exact(
    project: Project, monkeypatch: Any
) -> None:
    from podium.engine import sql, sql_evaluate

    _to_sqlite(project)
    _point(project, in_database=True, suite=False)
    assert project.cli("run").code == 0  # v1, the champion
    assert project.cli("train").code == 0  # v2, the challenger
    monkeypatch.setattr(sql, "CHUNK_ROWS", 64)  # ten chunks of eval rows
    monkeypatch.setattr(sql_evaluate, "SAMPLE_ROWS", 250)
    _forget()
    streamed = project.cli("evaluate")
    assert streamed.code in (0, 1), streamed.err
    in_database = state_json(project, "evaluation.json")
    _forget()
    _point(project, in_database=False, suite=False)
    whole = project.cli("evaluate")
    assert whole.code in (0, 1), whole.err
    in_pandas = state_json(project, "evaluation.json")
    for role in ("challenger", "champion"):
        mine, theirs = in_database[role]["metrics"], in_pandas[role]["metrics"]
        for metric in ("accuracy", "f1", "precision", "recall"):
            assert mine[metric] == theirs[metric], (role, metric)
        assert mine["log_loss"] == pytest.approx(theirs["log_loss"], rel=1e-12)
        assert mine["roc_auc"] == pytest.approx(theirs["roc_auc"], abs=1e-3)
    computed = in_database["computed"]
    assert computed["rows"] == 600
    assert computed["sample_rows"] == 250  # the bootstrap and importance: the sample
    assert in_database["significance"]["rows"] == 250
    assert "computed" not in in_pandas or in_pandas["computed"] is None


def test_streamed_regression_metrics_equal_sklearns(tmp_path: Any, monkeypatch: Any) -> None:
    import numpy as np
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    from podium.engine import sql, sql_evaluate

    monkeypatch.setattr(sql, "CHUNK_ROWS", 37)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=500), "z": rng.normal(size=500)})
    frame["y"] = 3 * frame["x"] - frame["z"] + rng.normal(size=500) + 100
    model = LinearRegression().fit(frame[["x"]], frame["y"])  # z left out: real residuals
    table = sql.read(_sqlite_source(tmp_path / "r.db", frame, "r"), label="data.eval")
    tally = sql_evaluate._Tally(version=None, types={"x": "numeric"}, model=model)  # type: ignore[arg-type]
    spread = sql_evaluate.Spread()
    for chunk in sql.chunks(table):
        y = chunk["y"].astype(float)
        spread.add(y.to_numpy())
        sql_evaluate._fold(tally, chunk, y, "regression")
    found = sql_evaluate._metrics(tally, "regression", spread)
    predicted = model.predict(frame[["x"]])
    assert found["rmse"] == pytest.approx(
        mean_squared_error(frame["y"], predicted) ** 0.5, rel=1e-9
    )
    assert found["mae"] == pytest.approx(mean_absolute_error(frame["y"], predicted), rel=1e-9)
    assert found["r2"] == pytest.approx(r2_score(frame["y"], predicted), rel=1e-9)


def test_in_database_is_for_sql_sources_only() -> None:
    from pydantic import ValidationError

    from podium.config import TableSource

    with pytest.raises(ValidationError, match="'in_database' is for engine: sql"):
        TableSource(engine="spark", table="lake.churn", in_database=True)
    assert not TableSource(uri="sqlite:///w.db", table="t").in_database  # read whole: default
