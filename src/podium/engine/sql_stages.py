"""The stages' work on a project with an `in_database: true` SQL source: validate, and
train's inputs.

Each mirrors its pandas stage check for check and writes the same result file; the
difference is where the work runs. A side that is a file (or a SQL source read whole)
is read into pandas and judged by the pandas code, as without this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium import data, gha
from podium.engine import sql
from podium.results import DataSummary, Expectations, Validation

if TYPE_CHECKING:
    from pathlib import Path

    from podium.config import Config, TableSource


@dataclass(frozen=True)
class _Side:
    """One of data.train / data.eval: in the database (`table` a SqlTable) or in pandas."""

    table: sql.SqlTable | data.Table

    @property
    def in_database(self) -> bool:
        return isinstance(self.table, sql.SqlTable)

    @property
    def columns(self) -> list[str]:
        table = self.table
        return table.columns if isinstance(table, sql.SqlTable) else list(table.frame.columns)


@dataclass(frozen=True)
class _Prepared:
    """What validate needs of a prepared side, from either path."""

    feature_types: dict[str, str]
    dropped_unlabelled: int
    classes: dict[str, int]
    dataset: sql.SqlDataset | data.Dataset
    table: Any


def _read(source: Path | TableSource, label: str) -> _Side:
    if getattr(source, "in_database", False):
        return _Side(sql.read(source, label=label))  # type: ignore[arg-type]
    return _Side(data.read_table(source, label=label))


def tables(config: Config) -> tuple[_Side, _Side]:
    """data.train and data.eval: counted and fingerprinted in the database, or read."""
    spec = config.data
    return _read(config.resolve(spec.train), "data.train"), _read(
        config.resolve(spec.eval), "data.eval"
    )


def _prepare(
    config: Config, side: _Side, expected_types: dict[str, str] | None = None
) -> _Prepared:
    spec = config.data
    task = config.model.task
    table = side.table
    features = None if expected_types is not None else spec.features
    exclude = [] if expected_types is not None else spec.exclude
    if isinstance(table, sql.SqlTable):
        found = sql.prepare(
            table,
            target=spec.target,
            task=task,
            features=features,
            exclude=exclude,
            expected_types=expected_types,
        )
        return _Prepared(found.feature_types, found.dropped_unlabelled, found.classes, found, table)
    prepared = data.prepare(
        table,
        target=spec.target,
        task=task,
        features=features,
        exclude=exclude,
        expected_types=expected_types,
    )
    classes: dict[str, int] = {}
    if task != "regression":
        counts = prepared.target.value_counts()
        classes = {str(k): int(v) for k, v in counts.items()}
    return _Prepared(prepared.feature_types, prepared.dropped_unlabelled, classes, prepared, table)


def prepare_both(config: Config, train: _Side, evaluation: _Side) -> tuple[_Prepared, _Prepared]:
    """Both sides' features and target; the eval data conforms to the training types."""
    if config.data.exclude:
        known = train.columns + evaluation.columns
        for name in config.data.exclude:
            if name not in known:
                from podium.errors import DataError, closest

                hint = closest(name, known)
                did_you = f" (did you mean '{hint}'?)" if hint else ""
                raise DataError(
                    f"{train.table.path}: data.exclude lists '{name}', which is not a column "
                    f"of the training or evaluation data{did_you}; fix data.exclude in "
                    "podium.yaml"
                )
    first = _prepare(config, train)
    second = _prepare(config, evaluation, first.feature_types)
    return first, second


def _check_labels(config: Config, train: _Prepared, evaluation: _Prepared) -> None:
    if len(train.classes) < 2:
        return  # the classes check says what to fix first
    if isinstance(train.dataset, data.Dataset) and isinstance(evaluation.dataset, data.Dataset):
        data.check_labels(
            train.dataset, evaluation.dataset, target=config.data.target, path=evaluation.table.path
        )
        return

    class _Named:
        classes = evaluation.classes
        table = evaluation.table

    sql.check_labels(train, _Named(), target=config.data.target)


def validate(*, config: Config, use_registry: bool = True) -> Validation:
    """`podium validate` with an in-database SQL source: `stages.validate.validate`'s
    checks, run by queries in the database for that source."""
    from podium.stages import open_registry, store_missing
    from podium.stages.validate import (
        _champion_columns,
        _progress,
        drift_check,
        expectations_check,
        input_checks,
    )

    spec = config.data
    suite = None
    if spec.expectations:  # a broken suite is exit 2 before any data is read
        from podium import expectations

        suite = expectations.load_suite(config.resolve(spec.expectations))
    _progress("reading data.train and data.eval (in-database SQL: counted in the database)")
    train, evaluation = tables(config)
    if suite is not None:
        for label, side in (("train", train), ("eval", evaluation)):
            expectations.check_columns(
                suite, side.columns, dataset=label, source=str(side.table.path)
            )
    train_set, eval_set = prepare_both(config, train, evaluation)
    checks, notes = input_checks(
        config,
        (train.table.rows, evaluation.table.rows),
        len(train_set.feature_types),
        (train_set.dropped_unlabelled, eval_set.dropped_unlabelled),
        len(train_set.classes) if config.model.task == "classification" else 0,
    )
    if config.model.task == "classification":
        _check_labels(config, train_set, eval_set)

    expectation_report = None
    if suite is not None:
        from podium import expectations

        _progress(f"expectations: {len(suite.expectations)} on train and eval")
        started = time.perf_counter()
        report = expectations.Report(suite=str(suite.path))
        for label, side in (("train", train), ("eval", evaluation)):
            table = side.table
            if isinstance(table, sql.SqlTable):
                part = expectations.run_sql(suite, {label: table.source}, {label: table.dtypes})
            else:
                part = expectations.run(suite, {label: table.frame})
            report.results.extend(part.results)
        expectation_report = Expectations.model_validate(report.to_dict())
        checks.append(expectations_check(report))
        _progress(f"expectations done in {time.perf_counter() - started:.1f}s")

    champion_version = None
    drift_result = None
    if use_registry:
        registry = None if store_missing(config) else open_registry(config)
        champion = registry.champion() if registry is not None else None
        if registry is not None and champion is not None:
            champion_version = champion.version
            checks.append(
                _champion_columns(champion.tags, train_set.feature_types, champion.version)
            )
            if config.drift.enabled:
                settings = config.drift
                dataset = train_set.dataset

                def measure(profile: dict[str, Any]) -> list[Any]:
                    from podium import drift

                    if isinstance(dataset, sql.SqlDataset):
                        return sql.compare(
                            profile,
                            dataset,
                            psi_threshold=settings.psi_threshold,
                            p_value=settings.p_value,
                        )
                    return drift.compare(
                        profile,
                        dataset.features,
                        dataset.feature_types,
                        psi_threshold=settings.psi_threshold,
                        p_value=settings.p_value,
                    )

                drift_result = drift_check(
                    config, registry, champion, train_set.feature_types, measure, checks, notes
                )
        elif config.drift.enabled:
            notes.append("drift skipped: no champion yet to compare the training data with")

    passed = all(c.passed for c in checks)
    outcome = Validation(
        passed=passed,
        checks=checks,
        train=DataSummary.model_validate(train.table.describe()),
        eval=DataSummary.model_validate(evaluation.table.describe()),
        champion_version=champion_version,
        notes=notes,
        expectations=expectation_report,
        drift=drift_result,
    )
    outcome.save(config.state_dir)
    gha.set_output("passed", str(passed).lower())
    return outcome


def train_inputs(
    config: Config,
) -> tuple[Any, Any, data.Dataset, dict[str, Any] | None]:
    """What `podium train` needs with an in-database SQL source: both tables (counted,
    fingerprinted), the training rows as a `data.Dataset` — every row, or when the table
    has more than `data.train_sample` rows a seeded sample of that many — and, for an
    in-database training table, the drift profile of *all* its rows."""
    from podium.errors import DataError

    spec = config.data
    task = config.model.task
    train, evaluation = tables(config)
    train_set, eval_set = prepare_both(config, train, evaluation)  # eval checked now
    if task == "classification":
        if len(train_set.classes) < 2:
            raise DataError(
                f"{train.table.path}: target '{spec.target}' has a single class; "
                "a classifier needs at least two"
            )
        _check_labels(config, train_set, eval_set)
    table = train.table
    if not isinstance(table, sql.SqlTable):
        assert isinstance(train_set.dataset, data.Dataset)
        return table, evaluation.table, train_set.dataset, None
    assert isinstance(train_set.dataset, sql.SqlDataset)
    frame = sql.training_rows(table, rows=spec.train_sample)
    sampled = data.Table(path=table.path, frame=frame, sha256=table.sha256)
    dataset = data.prepare(
        sampled,
        target=spec.target,
        task=task,
        features=None,
        exclude=[],
        expected_types=train_set.feature_types,
    )
    return table, evaluation.table, dataset, sql.profile(train_set.dataset)
