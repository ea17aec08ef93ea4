"""The pandas path's input checks on Spark tables: the same conditions, the same messages.

`data.check_excluded` and `data.check_labels` judge pandas tables; these judge
`SparkTable`s and `SparkDataset`s with a column list and one small aggregate, so a typo
in `data.exclude` or a class the model never saw is exit 2 on either path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.engine import spark
from podium.errors import DataError

if TYPE_CHECKING:
    from podium.engine.spark import SparkDataset

MAX_SHOWN = 5  # unseen labels named in the message (as the pandas path)


def check_labels(train: SparkDataset, evaluation: SparkDataset, *, target: str, path: str) -> None:
    """Every class in the evaluation data is one the classifier can learn from data.train
    (`data.check_labels`'s message, labels as the Python values Spark returns)."""
    from pyspark.sql import functions as F

    unseen_text = sorted(set(evaluation.classes) - set(train.classes))
    if not unseen_text:
        return
    label = F.col(spark.TARGET)
    found = (
        evaluation.frame.where(label.cast("string").isin(unseen_text))
        .groupBy(label.alias("label"))
        .count()
        .collect()
    )
    values = sorted((r["label"] for r in found), key=str)
    rows = sum(int(r["count"]) for r in found)
    shown = ", ".join(repr(value) for value in values[:MAX_SHOWN])
    raise DataError(
        f"{path}: target '{target}' has label(s) {shown} ({rows:,} rows) that the training "
        "data does not have, so no model can predict them; add such rows to data.train "
        "or drop them from data.eval"
    )
