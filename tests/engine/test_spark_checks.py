"""The pandas path's input checks on Spark (engine/spark_engine.py): a typo in
data.exclude and an evaluation label unseen in training are exit 2 with the same
message, in validate and in train before the fit."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project
from tests.engine.projects import spark_copy
from tests.tools import JAVA, PYSPARK, requires

pytestmark = [pytest.mark.spark, requires(PYSPARK, JAVA)]


def _after_path(message: str) -> str:
    """The message without the source it names (a file on one path, Spark on the other)."""
    return message.strip().rsplit(": ", 1)[1]


def _unseen_label(project: Project) -> None:
    path = project.root / "data" / "eval.csv"
    frame = pd.read_csv(path)
    frame.loc[frame.index[:7], "churned"] = 2
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda p: p.update(data={**p.config()["data"], "exclude": ["customer_di"]}),
            "data.exclude lists 'customer_di', which is not a column of the training or "
            "evaluation data (did you mean 'customer_id'?)",
        ),
        (_unseen_label, "target 'churned' has label(s) 2 (7 rows) that the training data"),
    ],
    ids=["exclude-typo", "unseen-label"],
)
@pytest.mark.parametrize("command", ["validate", "train"])
def test_spark_refuses_what_pandas_refuses_with_the_same_line(
    project: Project, spark: Any, change: Any, fragment: str, command: str
) -> None:
    from podium.engine import spark as engine

    engine.forget()
    change(project)
    on_spark = spark_copy(project)
    expected, found = project.cli(command), on_spark.cli(command)
    assert found.code == expected.code == 2, found.err
    assert fragment in found.err
    assert len(found.err.strip().splitlines()) == 1, found.err
    assert _after_path(found.err) == _after_path(expected.err)
    assert "registered" not in found.out  # refused before the fit
