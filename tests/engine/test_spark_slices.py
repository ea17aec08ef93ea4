"""`slices:` on Spark (engine/spark_slices.py): the same slices, rows, metrics and gate
verdicts as the pandas path on the same small table, and bad slices exit 2 alike."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Project, state_json
from tests.engine.projects import spark_copy
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]

SLICES: list[Any] = [
    "region",
    {"column": "age", "bins": [18, 40, 60, 81]},  # age has missing values: a (missing) bin
    ["region", {"column": "tenure_months", "bins": [0, 12, 24, 73]}],
    "payment",  # text with missing values
]
GATES = [
    {
        "metric": "f1",
        "min_delta": -0.5,
        "significant": True,
        "per_slice": {"min_delta": -0.02},
        "max_slice_gap": 0.3,
    },
    {"metric": "roc_auc", "min": 0.5, "per_slice": {"min": 0.75}},
]
LABEL_METRICS = ("accuracy", "f1", "precision", "recall")


def _bound(computed: str) -> float:
    found = re.search(r"within ±([0-9.e+-]+)", computed)
    assert found, computed
    return float(found.group(1))


def test_spark_slices_agree_with_the_pandas_path(project: Project, spark: Any) -> None:
    from podium.engine import spark as engine

    engine.forget()
    project.update(slices=SLICES)
    project.set_estimator("sklearn.tree.DecisionTreeClassifier", max_depth=3, random_state=0)
    on_spark = spark_copy(project)
    for each in (project, on_spark):  # a tree champion, then a logistic challenger
        first = each.cli("run")
        assert first.code == 0, first.err
        each.set_estimator("sklearn.linear_model.LogisticRegression", max_iter=1000)
        each.update(gates=GATES)
    engine.forget()
    pandas_run, spark_run = project.cli("run"), on_spark.cli("run")
    assert "Traceback" not in spark_run.err
    assert spark_run.code == pandas_run.code
    expected, found = (state_json(p, "evaluation.json")["slices"] for p in (project, on_spark))

    assert found["slicings"] == expected["slicings"]
    assert found["passed"] == expected["passed"]
    numbers = re.compile(r"\d+\.\d+")  # an AUC in a reason differs within its bound
    assert [numbers.sub("#", f) for f in found["failures"]] == [
        numbers.sub("#", f) for f in expected["failures"]
    ]
    bound = _bound(found["computed"])
    assert 0 < bound < 0.01
    rows = sum(s["rows"] for s in found["slices"] if s["slicing"] == "region")
    assert f"sample of {rows:,} evaluation rows" in found["computed"]
    theirs = {(s["slicing"], s["slice"]): s for s in expected["slices"]}
    mine = {(s["slicing"], s["slice"]): s for s in found["slices"]}
    assert list(mine) == list(theirs)  # the same slices, labels and order (worst first)
    assert ("region × tenure_months", "region=east, tenure_months=[24, 73]") in mine
    assert ("age", "age=(missing)") in mine and ("payment", "payment=(missing)") in mine
    for key, slice_ in mine.items():
        other = theirs[key]
        assert slice_["rows"] == other["rows"], key
        assert slice_["sample_rows"] == slice_["rows"]  # the sample holds every row here
        assert other["sample_rows"] is None
        assert slice_["passed"] == other["passed"], key
        for side in ("challenger", "champion"):
            for metric in LABEL_METRICS:
                assert slice_[side][metric] == pytest.approx(
                    other[side][metric], rel=1e-12, abs=1e-12
                ), (key, side, metric)
            if other[side]["log_loss"] is not None:
                assert slice_[side]["log_loss"] == pytest.approx(
                    other[side]["log_loss"], rel=1e-6
                ), (key, side)
            if other[side]["roc_auc"] is None:
                assert slice_[side]["roc_auc"] is None, key
            else:
                assert abs(slice_[side]["roc_auc"] - other[side]["roc_auc"]) <= bound + 1e-12
        if other["intervals"]:
            assert set(slice_["intervals"]) == set(other["intervals"]), key
    assert [g["passed"] for g in found["gaps"]] == [g["passed"] for g in expected["gaps"]]
    assert [g["gap"] for g in found["gaps"]] == pytest.approx([g["gap"] for g in expected["gaps"]])
    report = (on_spark.state / "report.md").read_text()
    assert "bootstrap intervals come from the seeded sample" in report


@pytest.mark.parametrize(
    ("slices", "fragment"),
    [
        (["regoin"], "column 'regoin' is not in the evaluation data (did you mean 'region'?)"),
        ([{"column": "age", "bins": [30, 60]}], "fall outside the bins [30, 60]"),
        ([{"column": "plan", "bins": [0, 1]}], "has non-numeric values (e.g. "),
    ],
    ids=["missing-column", "outside-bins", "non-numeric-bins"],
)
def test_bad_slices_on_spark_are_exit_2_with_the_pandas_message(
    project: Project, spark: Any, slices: list[Any], fragment: str
) -> None:
    from podium.engine import spark as engine

    engine.forget()
    project.update(slices=slices)
    on_spark = spark_copy(project)
    expected, found = project.cli("train"), on_spark.cli("train")
    assert found.code == expected.code == 2, found.err
    assert fragment in found.err
    assert len(found.err.strip().splitlines()) == 1, found.err
    assert found.err.replace(str(on_spark.root), "") == expected.err.replace(str(project.root), "")
