"""The pandas engine: both tables read into this process (files, or SQL/Spark sources
read whole) and judged by `podium.data`, `podium.expectations` and `podium.drift`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium import data
from podium.engine.base import prepare_options

if TYPE_CHECKING:
    from podium.config import Config
    from podium.drift import FeatureDrift
    from podium.engine.base import Engine
    from podium.expectations import Report, Suite


class PandasEngine:
    name = "pandas"
    where = ""
    in_memory = True

    def read(self, config: Config) -> tuple[data.Table, data.Table]:
        spec = config.data
        return data.read_both(config.resolve(spec.train), config.resolve(spec.eval))

    def prepare(
        self, config: Config, table: data.Table, expected_types: dict[str, str] | None
    ) -> data.Dataset:
        options = prepare_options(config, expected_types)
        return data.prepare(table, **options, coerce=config.data.coerce_numeric)

    def class_count(self, prepared: data.Dataset) -> int:
        return int(prepared.target.nunique())

    def check_labels(
        self, config: Config, train: data.Dataset, evaluation: data.Dataset, table: data.Table
    ) -> None:
        data.check_labels(train, evaluation, target=config.data.target, path=table.path)

    def expect(self, suite: Suite, train: data.Table, evaluation: data.Table) -> Report:
        from podium import expectations

        return expectations.run(suite, {"train": train.frame, "eval": evaluation.frame})

    def drift(
        self, config: Config, profile: dict[str, Any], train: data.Dataset
    ) -> list[FeatureDrift]:
        from podium import drift

        return drift.compare(
            profile,
            train.features,
            train.feature_types,
            psi_threshold=config.drift.psi_threshold,
            p_value=config.drift.p_value,
        )

    def check_slices(self, config: Config, evaluation: data.Table) -> None:
        if config.raw.slices:
            from podium import slices

            slices.cells(evaluation.frame, config.raw.slices, where=str(config.path))

    def training_rows(
        self, config: Config, table: data.Table, prepared: data.Dataset
    ) -> tuple[data.Dataset, dict[str, Any] | None]:
        return prepared, None


ENGINE: Engine[data.Table, data.Dataset] = PandasEngine()  # mypy checks it meets the interface
