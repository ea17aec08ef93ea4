"""The stages' work on an `engine: spark` project: validate, and train's inputs.

Each mirrors its pandas stage check for check and writes the same result file; the
difference is only where the work runs. Evaluation is `podium.engine.spark_evaluate`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from podium import gha
from podium.engine import spark, spark_checks
from podium.results import DataSummary, Expectations, Validation

if TYPE_CHECKING:
    from podium.config import Config


def tables(config: Config) -> tuple[spark.SparkTable, spark.SparkTable]:
    """data.train and data.eval as Spark tables (either side may be a file or SQL)."""
    session = spark.session(config.spark)
    spec = config.data
    train = spark.read(config.resolve(spec.train), label="data.train", spark=session)
    evaluation = spark.read(config.resolve(spec.eval), label="data.eval", spark=session)
    return train, evaluation


def prepare_both(
    config: Config, train: spark.SparkTable, evaluation: spark.SparkTable
) -> tuple[spark.SparkDataset, spark.SparkDataset]:
    """Both tables' features and target; the eval data conforms to the training types."""
    spec = config.data
    task = config.model.task
    train_set = spark.prepare(
        train, target=spec.target, task=task, features=spec.features, exclude=spec.exclude
    )
    eval_set = spark.prepare(
        evaluation,
        target=spec.target,
        task=task,
        features=None,
        exclude=[],
        expected_types=train_set.feature_types,
    )
    return train_set, eval_set


def validate(*, config: Config, use_registry: bool = True) -> Validation:
    """`podium validate` on Spark: `stages.validate.validate`'s checks, run in the engine."""
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
    _progress("reading data.train and data.eval in Spark")
    train_table, eval_table = tables(config)
    if suite is not None:
        for label, table in (("train", train_table), ("eval", eval_table)):
            expectations.check_columns(suite, table.columns, dataset=label, source=table.path)
    spark_checks.check_excluded(spec.exclude, train_table, eval_table)
    train_set, eval_set = prepare_both(config, train_table, eval_table)
    classes = len(train_set.classes) if config.model.task == "classification" else 0
    checks, notes = input_checks(
        config,
        (train_table.rows, eval_table.rows),
        len(train_set.feature_types),
        (train_set.dropped_unlabelled, eval_set.dropped_unlabelled),
        classes,
    )
    if classes >= 2:  # else the failed classes check says what to fix first
        spark_checks.check_labels(train_set, eval_set, target=spec.target, path=eval_table.path)

    expectation_report = None
    if suite is not None:
        from podium.engine import spark_expectations

        _progress(f"expectations: {len(suite.expectations)} on train and eval, in Spark")
        started = time.perf_counter()
        report = spark_expectations.run(
            suite, {"train": train_table.frame, "eval": eval_table.frame}
        )
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
                _champion_columns(
                    champion.tags,
                    train_set.feature_types,
                    champion.version,
                    eval_table.frame.columns,
                )
            )
            if config.drift.enabled:
                settings = config.drift

                def measure(profile: dict[str, Any]) -> list[Any]:
                    return spark.compare(
                        profile,
                        train_set,
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
        train=DataSummary.model_validate(train_table.describe()),
        eval=DataSummary.model_validate(eval_table.describe()),
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
) -> tuple[spark.SparkTable, spark.SparkTable, Any, dict[str, Any]]:
    """What `podium train` needs from Spark: both tables (counted, fingerprinted), the
    training rows as a `data.Dataset` — a seeded sample stratified by class of at most
    about `data.train_sample` rows — and the drift profile of *all* training rows."""
    from podium import data
    from podium.errors import DataError

    spec = config.data
    task = config.model.task
    train_table, eval_table = tables(config)
    spark_checks.check_excluded(spec.exclude, train_table, eval_table)
    train_set, eval_set = prepare_both(config, train_table, eval_table)  # eval checked now
    if config.raw.slices:  # bad `slices:` is bad input now, not after a long fit
        from podium.engine import spark_slices

        spark_slices.plan(config, eval_table.frame)
    if task == "classification" and len(train_set.classes) < 2:
        raise DataError(
            f"{train_table.path}: target '{spec.target}' has a single class; "
            "a classifier needs at least two"
        )
    if task == "classification":  # before the fit, not after it
        spark_checks.check_labels(train_set, eval_set, target=spec.target, path=eval_table.path)
    frame = spark.training_sample(train_set, rows=spec.train_sample, task=task)
    frame = frame.rename(columns={spark.TARGET: spec.target})
    sampled = data.Table(path=train_table.path, frame=frame, sha256=train_table.sha256)
    dataset = data.prepare(
        sampled,
        target=spec.target,
        task=task,
        features=None,
        exclude=[],
        expected_types=train_set.feature_types,
    )
    return train_table, eval_table, dataset, spark.profile(train_set)
