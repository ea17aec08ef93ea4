"""The Spark engine (`engine: spark` sources): the tables stay in Spark; counts,
fingerprints, checks, expectations and the drift profile are Spark aggregates, and only
a seeded, class-stratified sample of `data.train_sample` rows reaches the driver to fit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.engine import spark
from podium.engine.base import prepare_options, rows_to_fit
from podium.errors import DataError

if TYPE_CHECKING:
    from podium import data
    from podium.config import Config
    from podium.drift import FeatureDrift
    from podium.engine.base import Engine
    from podium.expectations import Report, Suite


class SparkEngine:
    name = "spark"
    where = " in Spark"
    in_memory = False

    def read(self, config: Config) -> tuple[spark.SparkTable, spark.SparkTable]:
        session = spark.session(config.spark)
        spec = config.data
        train = spark.read(config.resolve(spec.train), label="data.train", spark=session)
        evaluation = spark.read(config.resolve(spec.eval), label="data.eval", spark=session)
        return train, evaluation

    def prepare(
        self, config: Config, table: spark.SparkTable, expected_types: dict[str, str] | None
    ) -> spark.SparkDataset:
        return spark.prepare(table, **prepare_options(config, expected_types))

    def class_count(self, prepared: spark.SparkDataset) -> int:
        return len(prepared.classes)

    def check_labels(
        self,
        config: Config,
        train: spark.SparkDataset,
        evaluation: spark.SparkDataset,
        table: spark.SparkTable,
    ) -> None:
        """`data.check_labels`'s message from the class counts, labels as the Python values
        Spark returns."""
        from pyspark.sql import functions as F

        unseen = sorted(set(evaluation.classes) - set(train.classes))
        if not unseen:
            return
        label = F.col(spark.TARGET)
        found = (
            evaluation.frame.where(label.cast("string").isin(unseen))
            .groupBy(label.alias("label"))
            .count()
            .collect()
        )
        values = sorted((r["label"] for r in found), key=str)
        rows = sum(int(r["count"]) for r in found)
        raise DataError(
            f"{table.path}: target '{config.data.target}' has label(s) "
            f"{', '.join(repr(value) for value in values[:5])} ({rows:,} rows) that the "
            "training data does not have, so no model can predict them; add such rows to "
            "data.train or drop them from data.eval"
        )

    def expect(self, suite: Suite, train: spark.SparkTable, evaluation: spark.SparkTable) -> Report:
        from podium.engine import spark_expectations

        return spark_expectations.run(suite, {"train": train.frame, "eval": evaluation.frame})

    def drift(
        self, config: Config, profile: dict[str, Any], train: spark.SparkDataset
    ) -> list[FeatureDrift]:
        settings = config.drift
        return spark.compare(
            profile, train, psi_threshold=settings.psi_threshold, p_value=settings.p_value
        )

    def check_slices(self, config: Config, evaluation: spark.SparkTable) -> None:
        if config.raw.slices:
            from podium.engine import spark_slices

            spark_slices.plan(config, evaluation.frame)

    def training_rows(
        self, config: Config, table: spark.SparkTable, prepared: spark.SparkDataset
    ) -> tuple[data.Dataset, dict[str, Any] | None]:
        spec = config.data
        frame = spark.training_sample(prepared, rows=spec.train_sample, task=config.model.task)
        frame = frame.rename(columns={spark.TARGET: spec.target})
        rows = rows_to_fit(config, table, frame, prepared.feature_types)
        return rows, spark.profile(prepared)


ENGINE: Engine[spark.SparkTable, spark.SparkDataset] = (
    SparkEngine()
)  # mypy checks it meets the interface
