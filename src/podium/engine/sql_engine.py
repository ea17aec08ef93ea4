"""The SQL engine (a SQL source with `in_database: true`): that table is counted,
fingerprinted, checked, validated and profiled by queries in its database, and only a
seeded sample of `data.train_sample` rows is read to fit. A side that is a file (or a
SQL source read whole) is read into pandas and judged by the pandas engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium import data
from podium.engine import sql
from podium.engine.base import prepare_options, rows_to_fit
from podium.engine.pandas_engine import ENGINE as PANDAS

if TYPE_CHECKING:
    from pathlib import Path

    from podium.config import Config, TableSource
    from podium.drift import FeatureDrift
    from podium.engine.base import Engine
    from podium.expectations import Report, Suite

Side = sql.SqlTable | data.Table


@dataclass(frozen=True)
class Prepared:
    """A prepared side, in the database (`dataset` a SqlDataset) or in pandas."""

    feature_types: dict[str, str]
    dropped_unlabelled: int
    classes: dict[str, int]  # label (as text) -> rows
    dataset: sql.SqlDataset | data.Dataset
    table: Side


def _read(source: Path | TableSource, label: str) -> Side:
    if getattr(source, "in_database", False):
        return sql.read(source, label=label)  # type: ignore[arg-type]
    return data.read_table(source, label=label)


class SqlEngine:
    name = "sql"
    where = " (in-database SQL: counted in the database)"
    in_memory = False

    def read(self, config: Config) -> tuple[Side, Side]:
        spec = config.data
        train = _read(config.resolve(spec.train), "data.train")
        return train, _read(config.resolve(spec.eval), "data.eval")

    def prepare(
        self, config: Config, table: Side, expected_types: dict[str, str] | None
    ) -> Prepared:
        if isinstance(table, data.Table):
            prepared = PANDAS.prepare(config, table, expected_types)
            classes: dict[str, int] = {}
            if config.model.task != "regression":
                counts = prepared.target.value_counts()
                classes = {str(k): int(v) for k, v in counts.items()}
            return Prepared(
                prepared.feature_types, prepared.dropped_unlabelled, classes, prepared, table
            )
        found = sql.prepare(table, **prepare_options(config, expected_types))
        return Prepared(found.feature_types, found.dropped_unlabelled, found.classes, found, table)

    def class_count(self, prepared: Prepared) -> int:
        return len(prepared.classes)

    def check_labels(
        self, config: Config, train: Prepared, evaluation: Prepared, table: Side
    ) -> None:
        if isinstance(train.dataset, data.Dataset) and isinstance(evaluation.dataset, data.Dataset):
            assert isinstance(table, data.Table)
            PANDAS.check_labels(config, train.dataset, evaluation.dataset, table)
            return
        sql.check_labels(train, evaluation, target=config.data.target)

    def expect(self, suite: Suite, train: Side, evaluation: Side) -> Report:
        from podium import expectations

        report = expectations.Report(suite=str(suite.path))
        for label, table in (("train", train), ("eval", evaluation)):
            if isinstance(table, sql.SqlTable):
                part = expectations.run_sql(suite, {label: table.source}, {label: table.dtypes})
            else:
                part = expectations.run(suite, {label: table.frame})
            report.results.extend(part.results)
        return report

    def drift(self, config: Config, profile: dict[str, Any], train: Prepared) -> list[FeatureDrift]:
        dataset = train.dataset
        if isinstance(dataset, data.Dataset):
            return PANDAS.drift(config, profile, dataset)
        settings = config.drift
        return sql.compare(
            profile, dataset, psi_threshold=settings.psi_threshold, p_value=settings.p_value
        )

    def check_slices(self, config: Config, evaluation: Side) -> None:
        """Nothing before the fit: evaluate reads a sliced SQL eval source whole."""

    def training_rows(
        self, config: Config, table: Side, prepared: Prepared
    ) -> tuple[data.Dataset, dict[str, Any] | None]:
        dataset = prepared.dataset
        if isinstance(dataset, data.Dataset):
            return dataset, None
        assert isinstance(table, sql.SqlTable)
        frame = sql.training_rows(table, rows=config.data.train_sample)
        return rows_to_fit(config, table, frame, prepared.feature_types), sql.profile(dataset)


ENGINE: Engine[Side, Prepared] = SqlEngine()  # mypy checks it meets the interface
