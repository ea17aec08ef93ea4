"""`podium predict`: batch scoring with the champion (or a named/live version)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from tests.conftest import Project


def test_predict_writes_labels_and_probabilities_beside_the_id_as_the_champion_scores(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project = champion_project
    source = project.root / "data" / "eval.csv"
    out = project.root / "out" / "scored.parquet"
    result = project.cli("predict", "--data", str(source), "--out", str(out), "--id", "customer_id")
    assert result.code == 0, result.err
    assert "scored 600 rows with v1 (@champion)" in result.out
    written = pd.read_parquet(out)
    assert list(written.columns) == ["customer_id", "prediction", "proba_0", "proba_1"]
    assert written["customer_id"].tolist() == pd.read_csv(source)["customer_id"].tolist()
    assert ((written["proba_0"] + written["proba_1"] - 1).abs() < 1e-12).all()

    from podium.config import load
    from podium.data import features_like, read_table
    from podium.registry import read_feature_types

    registry = registry_of(project)
    champion = registry.champion()
    table = read_table(source, label="x")
    features = features_like(table, read_feature_types(champion.tags), label="x")
    model = registry.load_model(champion)
    assert written["prediction"].tolist() == model.predict(features).tolist()
    assert load(project.config_path).model.task == "classification"

    as_csv = project.cli("predict", "--data", str(source), "--out", str(out.with_suffix(".csv")))
    assert as_csv.code == 0
    assert list(pd.read_csv(out.with_suffix(".csv")).columns) == [
        "prediction",
        "proba_0",
        "proba_1",
    ]


def test_predict_checks_the_schema_and_the_choice_first(champion_project: Project) -> None:
    project = champion_project
    frame = pd.read_csv(project.root / "data" / "eval.csv").drop(columns=["plan"])
    broken = project.root / "broken.csv"
    frame.to_csv(broken, index=False)
    out = project.root / "scored.csv"
    cases = {
        ("--data", str(broken), "--out", str(out)): "plan",
        ("--data", str(broken), "--out", str(project.root / "x.txt")): "write a .csv or .parquet",
        ("--data", str(broken), "--out", str(out), "--version", "9"): "has no version '9'",
        ("--data", str(broken), "--out", str(out), "--id", "nope"): "--id 'nope' is not a column",
        ("--data", str(broken), "--out", str(out), "--environment", "prod"): "not in deploy:",
    }
    for args, expected in cases.items():
        result = project.cli("predict", *args)
        assert result.code == 2, (args, result.err)
        assert expected in result.err and len(result.err.strip().splitlines()) == 1, args
    assert not out.exists()
