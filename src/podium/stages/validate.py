"""`podium validate`: is the data still valid, and what changed in it?

The data loads, has the target and what the champion needs; it meets the project's
Great Expectations suite (`data.expectations`), train and eval alike; and the new
training data is compared with the champion's, as recorded when the champion was
trained (no access to the old raw data needed). Everything lands in
`.podium/validation.json`; a failed check or drift gate is a result with `passed=False`
(the CLI makes it exit 1 after printing it).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from podium import data, gha, warmup
from podium.config import Config
from podium.engine import pick
from podium.registry.tags import read_feature_types
from podium.results import DataCheck, DataSummary, Drift, Expectations, Validation
from podium.stages import DRIFT_MODULES, open_registry, store_missing, warm_up_registry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from podium.drift import FeatureDrift
    from podium.expectations import Report
    from podium.registry import Registry, Version


def _progress(message: str) -> None:
    """Progress for long work, only when a person watches (a terminal), never in logs."""
    if sys.stderr.isatty():
        print(f"  … {message}", file=sys.stderr, flush=True)


def expectations_check(report: Report) -> DataCheck:
    """The data check a suite's report makes: passed count, or the first failures in words."""
    from podium import expectations

    failures = [r for r in report.results if not r["success"]]
    detail = f"{report.evaluated - report.failed}/{report.evaluated} passed on train and eval"
    if failures:
        shown = "; ".join(expectations.describe(r) for r in failures[:3])
        more = f" (+{len(failures) - 3} more)" if len(failures) > 3 else ""
        detail = f"{report.failed} of {report.evaluated} failed: {shown}{more}"
    return DataCheck(name="expectations", passed=report.passed, detail=detail)


def input_checks(
    config: Config,
    rows: tuple[int, int],
    features: int,
    dropped: tuple[int, int],
    classes: int,
) -> tuple[list[DataCheck], list[str]]:
    """The checks and notes every engine reports on the prepared tables: the rows of train
    and eval, the features, unlabelled rows skipped and (classification) the class count."""
    checks = [
        DataCheck(
            name="train data",
            passed=True,
            detail=f"{rows[0]:,} rows, {features} features, target '{config.data.target}'",
        ),
        DataCheck(
            name="eval data",
            passed=True,
            detail=f"{rows[1]:,} rows with every training feature",
        ),
    ]
    notes = [
        f"{skipped} {label} rows have no target and are skipped"
        for label, skipped in zip(("train", "eval"), dropped, strict=True)
        if skipped
    ]
    if config.model.task == "classification":
        checks.append(
            DataCheck(
                name="target classes",
                passed=classes >= 2,
                detail=f"{classes} classes in the training data"
                + ("" if classes >= 2 else "; a classifier needs at least 2"),
            )
        )
    return checks, notes


def validate(
    *,
    config: Config,
    use_registry: bool = True,
    on_prepared: Callable[[data.Table, data.Dataset], None] | None = None,
    then_import: tuple[str, ...] = (),
) -> Validation:
    """Check train/eval data and write `.podium/validation.json`; `passed` says if it is fit.

    `on_prepared(table, train_set)`: called with the training rows as soon as they are
    prepared from a file (`podium run` begins their drift profile there).
    `then_import`: modules the caller imports next (`podium run`: training's), imported
    beside the reading with MLflow's.
    """
    engine = pick(config)  # pandas, Spark or SQL: the same checks, wherever they run
    spec = config.data
    suite = None
    if spec.expectations:  # a broken suite is exit 2 before any data is read
        from podium import expectations

        suite = expectations.load_suite(config.resolve(spec.expectations))
    if use_registry and engine.in_memory:
        drift_modules = DRIFT_MODULES if config.drift.enabled else ()
        warm_up_registry(config, also=drift_modules + then_import)
    try:
        _progress(f"reading data.train ({spec.train}) and data.eval ({spec.eval}){engine.where}")
        train_table, eval_table = engine.read(config)
    finally:  # also on bad input: an in-process caller's next import must not race it
        warmup.join()  # before anything else imports: no import may race MLflow's (podium.warmup)
    if suite is not None:
        for label, table in (("train", train_table), ("eval", eval_table)):
            expectations.check_columns(suite, table.columns, dataset=label, source=str(table.path))
    data.check_excluded(spec.exclude, train_table, eval_table)
    engine.check_slices(config, eval_table)  # a bad `slices:` is bad input before training
    train_set = engine.prepare(config, train_table, None)
    if on_prepared is not None and engine.in_memory:
        on_prepared(train_table, train_set)
    eval_set = engine.prepare(config, eval_table, train_set.feature_types)
    classes = engine.class_count(train_set) if config.model.task == "classification" else 0
    checks, notes = input_checks(
        config,
        (train_table.rows, eval_table.rows),
        len(train_set.feature_types),
        (train_set.dropped_unlabelled, eval_set.dropped_unlabelled),
        classes,
    )
    if classes >= 2:  # else the failed classes check says what to fix first
        engine.check_labels(config, train_set, eval_set, eval_table)

    expectation_report = None
    if suite is not None:
        count = len(suite.expectations)
        _progress(f"expectations: {count} on train ({train_table.rows:,} rows) and eval")
        started = time.perf_counter()
        report = engine.expect(suite, train_table, eval_table)
        expectation_report = Expectations.model_validate(report.to_dict())
        checks.append(expectations_check(report))
        _progress(f"expectations done in {time.perf_counter() - started:.1f}s")

    champion_version = None
    drift_result = None
    if use_registry:
        # A local store not created yet has no champion: opening it would only create it.
        registry = None if store_missing(config) else open_registry(config)
        champion = registry.champion() if registry is not None else None
        if registry is not None and champion is not None:
            champion_version = champion.version
            checks.append(
                champion_columns(
                    champion.tags, train_set.feature_types, champion.version, eval_table.columns
                )
            )
            if config.drift.enabled:
                drift_result = drift_check(
                    config,
                    registry,
                    champion,
                    train_set.feature_types,
                    lambda profile: engine.drift(config, profile, train_set),
                    checks,
                    notes,
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


def drift_check(
    config: Config,
    registry: Registry,
    champion: Version,
    feature_types: dict[str, str],
    measure: Callable[[dict[str, Any]], list[FeatureDrift]],
    checks: list[DataCheck],
    notes: list[str],
) -> Drift | None:
    """Drift measured by `measure` (pandas or an engine) against the champion's profile,
    judged, with its check and notes appended."""
    from podium import drift

    profile = None
    if champion.run_id:
        profile = registry.run_json(champion.run_id, drift.PROFILE_ARTIFACT)
    if profile is None:
        notes.append(
            f"drift skipped: champion v{champion.version} has no recorded data profile "
            f"({drift.PROFILE_ARTIFACT}; it was trained before podium recorded one)"
        )
        return None
    settings = config.drift
    _progress(f"drift: {len(feature_types)} features vs champion v{champion.version}")
    found = measure(profile)
    one_side, changed = drift.comparable(profile, feature_types)
    if one_side:
        notes.append(f"drift not measured for features only one side has: {', '.join(one_side)}")
    if changed:
        notes.append(f"drift not measured for features whose type changed: {', '.join(changed)}")
    verdict = drift.judge(
        found, max_drifted_share=settings.max_drifted_share, max_psi=settings.max_psi
    )
    drifted = verdict.drifted
    names = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in drifted[:5]) or "none"
    detail = f"{len(drifted)} of {len(found)} features drifted vs v{champion.version}: {names}"
    if verdict.too_many:
        bound = settings.max_drifted_share
        detail += f"; share {verdict.share:.0%} is above drift.max_drifted_share {bound}"
    worst = verdict.worst
    if worst is not None:
        detail += f"; {worst.feature} PSI {worst.psi:.2f} is above drift.max_psi {settings.max_psi}"
    checks.append(DataCheck(name="drift", passed=verdict.passed, detail=detail))
    return Drift.model_validate(
        {
            "reference_version": champion.version,
            "passed": verdict.passed,
            "drifted_share": verdict.share,
            "max_drifted_share": settings.max_drifted_share,
            "max_psi": settings.max_psi,
            "features": [f.to_dict() for f in found],
        }
    )


def champion_columns(
    tags: dict[str, str], types: dict[str, str], version: str, columns: Iterable[str] = ()
) -> DataCheck:
    """The new data must still carry every column the champion was trained on.

    `types`: the challenger's features; `columns`: every column of the evaluation data, where
    the champion is scored — a challenger may leave out a feature the champion uses.
    """
    needed = read_feature_types(tags) or {}
    present = set(types) | set(columns)
    if not needed:
        return DataCheck(
            name="champion columns",
            passed=True,
            detail=f"champion v{version} records no feature list",
        )
    missing = [c for c in needed if c not in present]
    changed = [c for c, kind in needed.items() if c in types and types[c] != kind]
    if missing:
        return DataCheck(
            name="champion columns",
            passed=False,
            detail=f"columns champion v{version} was trained on are missing: {', '.join(missing)}",
        )
    if changed:  # the challenger would learn another column than the champion's
        shown = ", ".join(f"'{c}' {needed[c]} → {types[c]}" for c in changed[:5])
        return DataCheck(
            name="champion columns",
            passed=False,
            detail=f"column type changed against champion v{version}'s training data: "
            f"{shown}; fix the data (a stray value?) or use data.coerce_numeric",
        )
    detail = f"all {len(needed)} columns champion v{version} uses are present"
    return DataCheck(name="champion columns", passed=True, detail=detail)
