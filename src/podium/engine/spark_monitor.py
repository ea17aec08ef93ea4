"""`podium monitor` on an `engine: spark` production source: measured inside Spark.

The production table stays in Spark: its feature columns are checked and normalised as
`data.features_like` does, drift against the champion's profile is `spark.compare`
(engine aggregates), and the champion's live metrics come from scoring it in the
engine with evaluate's pandas UDF and aggregate metrics (`spark_evaluate`): label
metrics and log loss exact, ROC AUC from a histogram within the bound the notes state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium.engine import aggregates, spark
from podium.engine.base import prepare_options
from podium.errors import DataError, closest

if TYPE_CHECKING:
    from podium.config import Config, TableSource
    from podium.drift import FeatureDrift
    from podium.registry import Version


@dataclass(frozen=True)
class Production:
    """The production table in Spark: all rows' features, and the labelled rows."""

    table: spark.SparkTable
    features: spark.SparkDataset  # every row's normalised features (no target)
    labelled: spark.SparkDataset | None  # rows with an outcome, when the data has any

    @property
    def labelled_rows(self) -> int:
        return self.labelled.rows if self.labelled is not None else 0


def read(config: Config, source: TableSource, *, label: str, types: dict[str, str]) -> Production:
    """The production source as a Spark table, checked as the pandas path checks it."""
    from pyspark.sql import functions as F

    session = spark.session(config.spark)
    table = spark.read(source, label=label, spark=session)
    frame = table.frame
    missing = [c for c in types if c not in frame.columns]
    if missing:
        hint = closest(missing[0], [str(c) for c in frame.columns])
        did_you = f" (did you mean '{hint}'?)" if hint else ""
        raise DataError(
            f"{table.path}: missing column(s) {', '.join(repr(c) for c in missing)}"
            f"{did_you} ({label}); the champion was trained on them — export them with the "
            "production data"
        )
    kinds = {c: str(frame.schema[c].dataType.simpleString()) for c in types}
    columns = [spark.normalised(F.col(f"`{c}`"), kinds[c], types[c]).alias(c) for c in types]
    features = spark.SparkDataset(frame.select(*columns), dict(types), table.rows, 0)
    target = config.data.target
    labelled = None
    if target in frame.columns:
        outcomes = frame.agg(F.count(F.col(f"`{target}`")).alias("n")).first()
        if outcomes is not None and int(outcomes["n"]):  # bad outcomes are bad input
            labelled = spark.prepare(table, **prepare_options(config, types))
    return Production(table, features, labelled)


def compare(
    production: Production, profile: dict[str, Any], *, psi_threshold: float, p_value: float
) -> list[FeatureDrift]:
    """Drift of every production row's features against the champion's profile."""
    return spark.compare(profile, production.features, psi_threshold=psi_threshold, p_value=p_value)


def live_metrics(
    config: Config, production: Production, champion: Version, model: Any
) -> tuple[dict[str, float], str]:
    """The champion's metrics on the labelled production rows, from engine aggregates,
    and a note on how they were computed (or, with no metrics, why it could not be
    scored)."""
    from podium.engine import spark_evaluate

    assert production.labelled is not None and production.labelled.labelled is not None
    task = config.model.task
    classes = getattr(model, "classes_", None)
    candidate = spark_evaluate.Candidate(
        champion,
        dataset=production.labelled,
        model=model,
        classes=list(classes) if classes is not None else None,
    )
    session = spark.session(config.spark)
    rows = production.table.frame.where(production.labelled.labelled)
    scored = spark_evaluate.score_rows(session, rows, [candidate], task)
    [(metrics, error)] = spark_evaluate.measure_scored(scored, [candidate], task)
    if error is not None:
        return {}, f"champion v{champion.version} could not be scored in Spark: {error}"
    bound = metrics.pop(aggregates.AUC_BOUND, None)
    said = f"live metrics computed in spark over {production.labelled_rows:,} labelled rows"
    if bound is not None:
        said += (
            f" (ROC AUC from a {aggregates.AUC_BINS:,}-bin histogram, within "
            f"±{bound:.2e}; the rest exact)"
        )
    return metrics, said
