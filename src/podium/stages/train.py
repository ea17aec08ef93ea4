"""`podium train`: fit the challenger, log it to MLflow, register it as a candidate."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import __version__, card, data, drift, gha, modeling, raw_model, resources, warmup
from podium.clock import now_iso
from podium.config import Config
from podium.engine import pick
from podium.errors import DataError
from podium.modeling import on_training_data
from podium.registry import Registry, Version, tags
from podium.registry.git_branch import change_message
from podium.results import DataSummary, Training
from podium.stages import (
    artifact_root,
    fitting_modules,
    open_registry,
    train_command,
    warm_up_registry,
)

if TYPE_CHECKING:
    pass


class EarlyProfile:
    """The training data's drift profile, begun by `podium run` as soon as validate has
    prepared the training rows: on a second thread while validate opens the registry and
    measures drift (numpy beside MLflow's Python). Train takes it instead of profiling
    the same rows again — the same function of the same rows, so the same profile."""

    def __init__(self) -> None:
        self._begun: tuple[tuple[Any, ...], Callable[[], dict[str, Any]]] | None = None

    def begin(self, table: data.Table, train_set: data.Dataset) -> None:
        """Start profiling `train_set`, the prepared rows of `table` (a daemon thread: a run
        whose data fail validation exits without waiting for it; an error is raised in
        train, as if profiled there)."""
        profiling = data.beside(
            lambda: drift.profile(train_set.features, train_set.feature_types),
            name="podium-profile-early",
        )
        self._begun = (_profiled(table, train_set), profiling)

    def take(self, table: data.Table, train_set: data.Dataset) -> dict[str, Any] | None:
        """The profile begun on these very rows, if one was."""
        if self._begun is None or self._begun[0] != _profiled(table, train_set):
            return None
        return self._begun[1]()


def _profiled(table: data.Table, train_set: data.Dataset) -> tuple[Any, ...]:
    """What a profile is a function of: the file's content and the rows prepared from it."""
    return (
        str(table.path),
        table.sha256,
        len(train_set.target),
        tuple(train_set.feature_types.items()),
    )


def train_inputs(config: Config) -> tuple[Any, Any, data.Dataset, dict[str, Any] | None]:
    """What `podium train` needs from the project's engine (`podium.engine.pick`): the
    both tables (counted, fingerprinted), the rows to fit on — every row, or for Spark
    and in-database SQL a seeded sample of about `data.train_sample` rows — and the drift
    profile of all training rows when the engine makes it. Bad evaluation data, labels or
    `slices:` are bad input now, not after a long fit."""
    engine = pick(config)
    spec = config.data
    if engine.in_memory:
        warm_up_registry(config, also=fitting_modules(config))
    try:
        train_table, eval_table = engine.read(config)
    finally:  # also on bad input: an in-process caller's next import must not race it
        warmup.join()  # before anything else imports: no import may race MLflow's (podium.warmup)
    data.check_excluded(spec.exclude, train_table, eval_table)
    prepared = engine.prepare(config, train_table, None)
    eval_set = engine.prepare(config, eval_table, prepared.feature_types)
    engine.check_slices(config, eval_table)
    if config.model.task == "classification":
        if engine.class_count(prepared) < 2:
            raise DataError(
                f"{train_table.path}: target '{spec.target}' has a single class; "
                "a classifier needs at least two"
            )
        engine.check_labels(config, prepared, eval_set, eval_table)
    train_set, profile = engine.training_rows(config, train_table, prepared)
    return train_table, eval_table, train_set, profile


def train(
    *,
    config: Config,
    on_fitted: Callable[[Any, dict[str, str]], None] | None = None,
    profiled: EarlyProfile | None = None,
    retrain: bool = False,
) -> Training:
    """Fit on data.train, log the run and register a new model version.

    `on_fitted(model, feature_types)`: called once an in-process fit has succeeded and the
    model has scored its training rows, before it is logged (`podium run` begins the
    challenger's importance there).
    `profiled`: the training data's profile begun during validate (`podium run`).
    `retrain`: fit and register even when a version of this model was trained on the same
    data, config and clean commit (otherwise that version is the challenger again).
    """
    task = config.model.task
    train_table, eval_table, train_set, profile = train_inputs(config)
    registry = open_registry(config, writes=True)
    provenance = gha.provenance(config.root)
    fingerprints = {
        tags.TRAIN_SHA256: train_table.sha256,
        tags.EVAL_SHA256: eval_table.sha256,
        tags.TRAIN_ROWS: str(train_table.rows),
        tags.EVAL_ROWS: str(eval_table.rows),
        tags.CONFIG_SHA256: config_sha256(config),
    }
    if not retrain:  # the same data, config and commit again: that version, not a copy of it
        same = identical_version(registry, fingerprints, provenance)
        if same is not None:
            return _reused(config, registry, same, train_table, eval_table, train_set, provenance)
    source = config.model.source
    fitted = None
    if config.model.command is None:  # fit before the run exists: a bad param changes nothing
        estimator = modeling.build(config, train_set.feature_types)
        # Around the whole training call, whichever way the model is built: resource use
        # and cost are recorded per version (a command's CPU and memory count too).
        with resources.measure() as used:
            fitted = modeling.fit(
                estimator,
                train_set.features,
                train_set.target,
                source=source,
                path=train_table.path,
            )
        train_metrics = on_training_data(fitted, train_set, task, source=source)
        # After the training rows are scored: a ranking thread beside that multi-threaded
        # scoring would make its OpenMP threads wait for each other on two cores, and at
        # 1M rows the ranking is done long before evaluate needs it anyway.
        if on_fitted is not None:
            on_fitted(fitted, train_set.feature_types)
    root = artifact_root(config)
    params: dict[str, object] = {
        "podium.estimator": source,
        "podium.task": task,
        "podium.features": len(train_set.feature_types),
        "podium.train_rows": len(train_set.target),
    }
    if config.model.estimator is not None:
        params.update({f"estimator.{k}": v for k, v in config.model.estimator.params.items()})
    provenance_tags = {f"{tags.PROVENANCE_PREFIX}{k}": v for k, v in provenance.items()}
    version_tags = {
        tags.CANDIDATE: "true",
        tags.TASK: task,
        tags.FEATURES: tags.feature_types_tag(train_set.feature_types),
        tags.PODIUM_VERSION: __version__,
        **fingerprints,
        **provenance_tags,
    }
    version_tags.update(card.training_tags(config))  # purpose, target, model kind
    classes = sorted(train_set.target.unique().tolist()) if task == "classification" else None
    if classes is not None:
        version_tags[tags.CLASSES] = tags.classes_tag(classes)
        positive = config.model.positive_class
        if positive is not None:
            if positive not in classes:
                raise DataError(
                    f"{config.path}: model.positive_class {positive!r} is not a label of "
                    f"'{config.data.target}' in the training data ({', '.join(map(repr, classes[:5]))})"
                )
            version_tags[tags.POSITIVE] = json.dumps(positive)
    if provenance.get("git_commit"):
        version_tags["mlflow.source.git.commit"] = provenance["git_commit"]
    run_tags = {
        **fingerprints,
        **provenance_tags,
        "mlflow.runName": f"train {'command' if fitted is None else source.split('.')[-1]}",
    }
    early_profile = None  # profiled from a file's rows during `podium run`'s validate
    if profiled is not None and isinstance(train_table, data.Table):
        early_profile = profiled.take(train_table, train_set)
    artifacts = {
        "podium/features.json": train_set.feature_types,
        "podium/data.json": {"train": train_table.describe(), "eval": eval_table.describe()},
        # what `podium validate` needs for drift later, without the raw training data
        drift.PROFILE_ARTIFACT: profile
        or early_profile
        or drift.profile(train_set.features, train_set.feature_types),
    }

    def register(
        store: Registry,
    ) -> tuple[str, str, Version, dict[str, float], resources.Usage]:
        # On a branch-kept store this runs again on the new tip after a lost push race,
        # except for a model.command, whose run and model are carried over (`carry`).
        experiment_id = store.experiment_id(
            config.experiment_name, root if isinstance(root, Path) else None
        )
        if fitted is None:
            run_id, version, metrics, usage = train_command.train(
                config,
                store,
                experiment_id=experiment_id,
                tables=(train_table, eval_table),
                train_set=train_set,
                classes=classes,
                params=params,
                run_tags=run_tags,
                version_tags=version_tags,
                artifacts=artifacts,
            )
            return experiment_id, run_id, version, metrics, usage
        # Logged behind RawRows, with rows as the training file reads (issue 31): the
        # registered model takes raw rows, whatever the ints, dates and text in them.
        raw = train_table.frame if isinstance(train_table, data.Table) else train_set.features
        run_id, version = store.log_candidate(
            experiment_id=experiment_id,
            model=raw_model.wrap(fitted, train_set.feature_types),
            example=raw.loc[train_set.features.index[:5], list(train_set.feature_types)],
            params=params,
            metrics={**train_metrics, **resources.usage_metrics(used)},
            run_tags=run_tags,
            version_tags=version_tags,
            artifacts=artifacts,
            requirements=modeling.requirements(fitted),
        )
        return experiment_id, run_id, version, train_metrics, used

    def carry(
        store: Registry,
        lost: Registry,
        done: tuple[str, str, Version, dict[str, float], resources.Usage],
    ) -> tuple[str, str, Version, dict[str, float], resources.Usage]:
        # A registration that lost the branch's push race, carried onto the new tip: the
        # command's run and model are copied from the lost attempt, never trained again.
        from podium.registry.export import carry as copy_version

        version = copy_version(lost, store, done[2])
        experiment_id = store.experiment_id(
            config.experiment_name, root if isinstance(root, Path) else None
        )
        return experiment_id, version.run_id or done[1], version, done[3], done[4]

    experiment_id, run_id, version, train_metrics, used = registry.change(
        register,
        lambda done: change_message(
            f"register {config.model.name} v{done[2].version} ({source})",
            commit=provenance.get("git_commit"),
            run_url=provenance.get("workflow_run"),
        ),
        carry if fitted is None else None,  # a fit in-process is cheap to log again
    )
    fit_seconds = used.wall_seconds
    outcome = Training(
        model_name=config.model.name,
        version=version.version,
        run_id=run_id,
        experiment_id=experiment_id,
        tracking_uri=config.registry_label,  # the branch, wherever the copy is
        task=task,
        estimator=source,
        feature_types=train_set.feature_types,
        train=DataSummary.model_validate(train_table.describe()),
        eval=DataSummary.model_validate(eval_table.describe()),
        train_metrics={name: value for name, value in train_metrics.items()},
        fit_seconds=fit_seconds,
        train_sample=len(train_set.target) if profile is not None else None,
        fit_cpu_seconds=used.cpu_seconds,
        fit_peak_memory_mb=used.peak_memory_mb,
        provenance=provenance,
        trained_at=now_iso(),
    )
    outcome.save(config.state_dir)
    gha.set_output("model-version", version.version)
    gha.set_output("run-id", run_id)
    return outcome


def config_sha256(config: Config) -> str:
    """sha256 of podium.yaml as resolved: every key with its defaults, in a fixed order
    (a reformatted file or a comment changes nothing; an omitted default set to its own
    value neither)."""
    resolved = json.dumps(config.raw.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(resolved.encode()).hexdigest()


# A version's tag → the value it must have for the version to be this training again.
_SAME_AS_NOW = (tags.TRAIN_SHA256, tags.EVAL_SHA256, tags.CONFIG_SHA256)


def identical_version(
    registry: Registry, fingerprints: dict[str, str], provenance: dict[str, str]
) -> Version | None:
    """The newest version trained on these very data files and resolved config, from this
    same commit with a clean working tree — when the tree is clean now too. None otherwise
    (uncommitted changes may be anything, so a dirty tree always trains)."""
    commit = provenance.get("git_commit")
    if not commit or provenance.get("dirty") != "false":
        return None
    wanted = {key: fingerprints[key] for key in _SAME_AS_NOW}
    wanted[f"{tags.PROVENANCE_PREFIX}git_commit"] = commit
    wanted[tags.DIRTY] = "false"
    for version in reversed(registry.versions()):
        if tags.PRUNED in version.tags or not version.run_id:
            continue  # retention removed its files: it could not be scored again
        if all(version.tags.get(key) == value for key, value in wanted.items()):
            return version
    return None


def _reused(
    config: Config,
    registry: Registry,
    version: Version,
    train_table: Any,
    eval_table: Any,
    train_set: data.Dataset,
    provenance: dict[str, str],
) -> Training:
    """`.podium/train.json` for an identical earlier version, the challenger again."""
    assert version.run_id is not None  # identical_version skips a version without a run
    logged = registry.run_metrics(version.run_id)
    train_metrics: dict[str, float | None] = {
        k: v for k, v in logged.items() if k.startswith("train_")
    }
    outcome = Training(
        model_name=config.model.name,
        version=version.version,
        run_id=version.run_id,
        experiment_id=registry.run_experiment(version.run_id),
        tracking_uri=config.registry_label,
        task=config.model.task,
        estimator=config.model.source,
        feature_types=tags.read_feature_types(version.tags) or train_set.feature_types,
        train=DataSummary.model_validate(train_table.describe()),
        eval=DataSummary.model_validate(eval_table.describe()),
        train_metrics=train_metrics,
        fit_seconds=0.0,
        provenance=provenance,  # this run's: the same commit, clean, as the version's
        trained_at=now_iso(),
        identical_to=version.version,
    )
    outcome.save(config.state_dir)
    gha.set_output("model-version", version.version)
    gha.set_output("run-id", version.run_id)
    return outcome
