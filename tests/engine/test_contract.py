"""One contract for every engine (docs/architecture.md): pandas, Spark and SQL (sqlite,
`in_database: true`) implement `podium.engine.base.Engine`, and on the same tables every
operation gives the same answer — the tables' counts and columns, the prepared feature
types and unlabelled rows, the classes, the labels check, the expectations report, drift
against one recorded profile, the rows to fit on and the drift profile of all training
rows. `pick` chooses each from the config alone."""

from __future__ import annotations

import sqlite3
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project

ENGINES = ["pandas", "spark", "sql"]


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    from podium.sample import churn_tables

    train, evaluation = churn_tables(train_rows=900, eval_rows=400)
    evaluation["monthly_charges"] = evaluation["monthly_charges"] * 1.3  # something to drift
    train.loc[train.index[:7], "churned"] = None  # unlabelled rows are skipped everywhere
    return train, evaluation


def _point(project: Project, name: str, tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Point data.train and data.eval at the same two tables, as engine `name` reads them."""
    document = project.config()
    data_dir = project.root / "data"
    for side, frame in zip(("train", "eval"), tables, strict=True):
        if name == "spark":
            frame.to_parquet(data_dir / f"{side}.parquet", index=False)
            document["data"][side] = {"engine": "spark", "path": f"data/{side}.parquet"}
        elif name == "sql":
            with sqlite3.connect(data_dir / "w.db") as connection:
                frame.to_sql(f"churn_{side}", connection, index=False, if_exists="replace")
            uri = f"sqlite:///{data_dir / 'w.db'}"
            document["data"][side] = {"uri": uri, "table": f"churn_{side}", "in_database": True}
        else:
            frame.to_csv(data_dir / f"{side}.csv", index=False)
    project.write_config(document)


@pytest.fixture(scope="module")
def answers(
    tmp_path_factory: pytest.TempPathFactory,
    tables: tuple[pd.DataFrame, pd.DataFrame],
    spark: Any,
) -> dict[str, dict[str, Any]]:
    """Every engine's answer to every operation, on the same tables."""
    from podium import config as config_module
    from podium import drift, expectations, suggestions
    from podium.engine import pick
    from podium.stages.suggest import rules
    from tests.conftest import write_sample_project

    train, evaluation = tables
    suite_items = rules([train, evaluation], target="churned", task="classification")
    suite_items.append(
        suggestions.expectation(
            "expect_column_values_to_be_between", column="tenure_months", max_value=30
        )
    )  # one that fails, with counts to agree on
    found: dict[str, dict[str, Any]] = {}
    reference: dict[str, Any] | None = None
    for name in ENGINES:
        root = tmp_path_factory.mktemp(name)
        project = write_sample_project(root / "project", tables)
        _point(project, name, tables)
        (project.root / "suite.json").write_text(
            expectations.render_suite("churn", suite_items, notes="contract")
        )
        document = project.config()
        document["data"]["expectations"] = "suite.json"
        project.write_config(document)
        config = config_module.load(project.config_path)
        engine = pick(config)
        train_table, eval_table = engine.read(config)
        train_set = engine.prepare(config, train_table, None)
        eval_set = engine.prepare(config, eval_table, train_set.feature_types)
        engine.check_labels(config, train_set, eval_set, eval_table)
        suite = expectations.load_suite(config.resolve("suite.json"))
        report = engine.expect(suite, train_table, eval_table)
        fit_rows, profile = engine.training_rows(config, train_table, train_set)
        if profile is None:
            profile = drift.profile(fit_rows.features, fit_rows.feature_types)
        if reference is None:
            reference = profile  # every engine measures against pandas' recorded profile
        found[name] = {
            "engine": engine.name,
            "tables": [(t.rows, t.columns) for t in (train_table, eval_table)],
            "feature_types": [train_set.feature_types, eval_set.feature_types],
            "unlabelled": [train_set.dropped_unlabelled, eval_set.dropped_unlabelled],
            "classes": engine.class_count(train_set),
            "expectations": [
                (r["dataset"], r["expectation"], r["column"], r["success"]) for r in report.results
            ],
            "failed": [r["observed"] for r in report.results if not r["success"]],
            "drift": engine.drift(config, reference, eval_set),
            "fit_rows": (len(fit_rows.features), fit_rows.feature_types),
            "profile": profile,
        }
    return found


@pytest.mark.parametrize("name", ENGINES)
def test_pick_chooses_the_engine_from_the_config(
    answers: dict[str, dict[str, Any]], name: str
) -> None:
    assert answers[name]["engine"] == name


@pytest.mark.parametrize("name", ["spark", "sql"])
@pytest.mark.parametrize(
    "operation",
    ["tables", "feature_types", "unlabelled", "classes", "expectations", "failed", "fit_rows"],
)
def test_every_engine_answers_as_pandas(
    answers: dict[str, dict[str, Any]], name: str, operation: str
) -> None:
    assert answers[name][operation] == answers["pandas"][operation]


@pytest.mark.parametrize("name", ["spark", "sql"])
def test_drift_against_one_profile_is_the_same_on_every_engine(
    answers: dict[str, dict[str, Any]], name: str
) -> None:
    mine, theirs = answers[name]["drift"], answers["pandas"]["drift"]
    assert [f.feature for f in mine] == [f.feature for f in theirs]
    for one, other in zip(mine, theirs, strict=True):
        assert one.drifted == other.drifted, one.feature
        assert one.psi == pytest.approx(other.psi, abs=1e-9), one.feature
    assert any(f.drifted for f in mine)  # the shifted monthly_charges is seen everywhere


@pytest.mark.parametrize("name", ["spark", "sql"])
def test_the_profile_of_all_training_rows_is_the_same_on_every_engine(
    answers: dict[str, dict[str, Any]], name: str
) -> None:
    """The same features, missing and category counts; the numeric bins' counts exact in
    the database, and on Spark within the rank error of its approximate quantile edges
    (`spark.QUANTILE_ERROR`, docs/data.md)."""
    from podium.engine import spark

    mine, theirs = answers[name]["profile"], answers["pandas"]["profile"]
    assert mine["rows"] == theirs["rows"]
    assert mine["features"].keys() == theirs["features"].keys()
    slack = 0 if name == "sql" else 2 * spark.QUANTILE_ERROR * theirs["rows"] + 1
    for feature, recorded in theirs["features"].items():
        other = mine["features"][feature]
        assert other["kind"] == recorded["kind"], feature
        assert other["missing"] == recorded["missing"], feature
        if recorded["kind"] == "numeric":
            assert sum(other["counts"]) == sum(recorded["counts"]), feature
            assert other["counts"] == pytest.approx(recorded["counts"], abs=slack), feature
        else:
            assert other["counts"] == recorded["counts"], feature


def test_the_check_is_real(answers: dict[str, dict[str, Any]]) -> None:
    """The suite has a failing expectation and the tables unlabelled rows: the answers
    compared above are not all empty or all passing."""
    pandas = answers["pandas"]
    assert any(not success for *_, success in pandas["expectations"])
    assert pandas["failed"]
    assert pandas["unlabelled"][0] == 7
    assert pandas["classes"] == 2
