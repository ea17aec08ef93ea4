"""Copy a registered model from one MLflow store to another (`podium registry export`).

Every model version moves with its training run (params, metric history, tags, run
artifacts), its model files as logged (MLmodel with the signature, input example,
requirements), its tags, the aliases and podium's audit trail. It is how a team leaves a
branch-kept registry for a tracking server, so it must be safe to run twice: a copied
version carries `podium.source_version`, a copied run `podium.source_run_id`, and what
is already there is not copied again. Versions are copied oldest first; version numbers
inside the audit trail are mapped to the target's numbers.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import InputError
from podium.registry import tags
from podium.registry.mlflow_store import LoggedModel, Registry
from podium.registry.store import Version

SOURCE_VERSION = tags.SOURCE_VERSION
SOURCE_RUN = tags.SOURCE_RUN
_BATCH = 100  # MLflow accepts at most 100 params (1000 metrics) per log_batch


@dataclass
class Exported:
    """What an export did: source version → target version, and what it copied."""

    target: str
    versions: dict[str, str] = field(default_factory=dict)
    copied: list[str] = field(default_factory=list)  # source versions copied by this run
    aliases: dict[str, str] = field(default_factory=dict)  # alias → target version
    events: int = 0  # audit-trail events on the target


def export(source: Registry, target_uri: str) -> Exported:
    """Copy `source`'s registered model into the MLflow store at `target_uri`."""
    import os

    # MLflow prints "View run … at: <url>" to stdout when a run on a server ends.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    target = Registry(target_uri, source.name)
    target.check_reachable()
    done = Exported(target=target_uri)
    model = source.registered_model(source.name, "reading the registered model")
    if model is None:
        raise InputError(
            f"model '{source.name}' is not in {source.tracking_uri}: nothing to export "
            "(train and register a version first)"
        )
    if target.registered_model(source.name, "reading the target's model") is None:
        target.create_model(
            source.name,
            "creating the model on the target",
            description="Managed by podium: champion = @champion alias.",
        )
    already: dict[str, str] = {}
    foreign = []
    for version in target.versions():
        origin = version.tags.get(SOURCE_VERSION)
        if origin is None:
            foreign.append(version.version)
        else:
            already[origin] = version.version
    if foreign:
        raise InputError(
            f"MLflow at {target_uri} already has model '{source.name}' with versions podium "
            f"did not export (v{', v'.join(foreign)}); export to a server without that model, "
            "or rename it there"
        )
    experiments: dict[str, str] = {}
    for version in source.versions():
        if version.version in already:
            done.versions[version.version] = already[version.version]
            continue
        run_id = _copy_run(source, target, version.run_id, experiments) if version.run_id else None
        done.versions[version.version] = _copy_version(source, target, version, run_id)
        done.copied.append(version.version)
    for alias, number in _aliases(source).items():
        if number in done.versions:
            target.call(
                f"setting @{alias}",
                functools.partial(
                    target.client.set_registered_model_alias,
                    source.name,
                    alias,
                    done.versions[number],
                ),
            )
            done.aliases[alias] = done.versions[number]
    for key, value in model.tags.items():
        if key.startswith(tags.AUDIT_PREFIX):
            value = _mapped_event(value, done.versions)
            done.events += 1
        target.set_model_tag(key, value, "copying the registered model's tags")
    return done


def _aliases(registry: Registry) -> dict[str, str]:
    found = registry.call(
        "reading the aliases", lambda: registry.client.get_registered_model(registry.name)
    )
    return {str(k): str(v) for k, v in dict(found.aliases or {}).items()}


def _mapped_event(value: str, versions: dict[str, str]) -> str:
    """An audit event with its version numbers as they are on the target."""
    try:
        event = json.loads(value)
    except ValueError:
        return value
    if not isinstance(event, dict):
        return value
    for key in ("version", "previous"):
        if isinstance(event.get(key), str) and event[key] in versions:
            event[key] = versions[event[key]]
    return json.dumps(event)


def _experiment(
    source: Registry, target: Registry, experiment_id: str, cache: dict[str, str]
) -> str:
    if experiment_id in cache:
        return cache[experiment_id]
    found = source.call(
        "reading the experiment", lambda: source.client.get_experiment(experiment_id)
    )
    cache[experiment_id] = target.experiment_id(found.name, _artifact_root(target.tracking_uri))
    return cache[experiment_id]


def _artifact_root(uri: str) -> Path | None:
    """A sqlite target keeps artifacts beside its file (as podium's own store does), never
    in MLflow's default `./mlruns` of whatever folder export runs in; a server decides."""
    if not uri.startswith("sqlite:///") or "?" in uri:
        return None
    return Path(uri.removeprefix("sqlite:///")).resolve().parent / "artifacts"


def carry(source: Registry, target: Registry, version: Version) -> Version:
    """Make `version` of `source` (its run, its files, its tags) again on `target`, as if
    made there: a registration re-applied on another copy of the store (the branch's new
    tip after a lost push race) without running the training again."""
    if target.registered_model(target.name, "reading the registered model") is None:
        target.create_model(
            target.name,
            "registering the model",
            description="Managed by podium: champion = @champion alias.",
        )
    run_id = _copy_run(source, target, version.run_id, {}, marks=False) if version.run_id else None
    number = _copy_version(source, target, version, run_id, marks=False)
    return target.get_version(number)


def _copy_run(
    source: Registry,
    target: Registry,
    run_id: str,
    experiments: dict[str, str],
    *,
    marks: bool = True,
) -> str:
    """The run on the target (copied now, or by an earlier export). Without `marks`: a
    plain copy, not tagged with where it came from."""
    run = source.call(f"reading run {run_id}", lambda: source.client.get_run(run_id))
    experiment_id = _experiment(source, target, run.info.experiment_id, experiments)
    existing = (
        target.call(
            "looking for the copied run",
            lambda: target.client.search_runs(
                [experiment_id], filter_string=f"tags.`{SOURCE_RUN}` = '{run_id}'", max_results=1
            ),
        )
        if marks
        else []
    )
    if existing:
        return str(existing[0].info.run_id)
    copied = target.call(
        "creating the run",
        lambda: target.client.create_run(
            experiment_id,
            start_time=run.info.start_time,
            tags={**run.data.tags, **({SOURCE_RUN: run_id} if marks else {})},
            run_name=run.info.run_name,
        ),
    )
    new_id = str(copied.info.run_id)
    copy_run_data(source, target, run_id, new_id)
    target.call(
        "finishing the run",
        lambda: target.client.set_terminated(
            new_id, status=run.info.status, end_time=run.info.end_time
        ),
    )
    return new_id


def copy_run_data(source: Registry, target: Registry, run_id: str, new_id: str) -> None:
    """Copy a run's params, metric history and artifacts into an existing run of `target`."""
    from mlflow.entities import Metric, Param

    run = source.call(f"reading run {run_id}", lambda: source.client.get_run(run_id))
    params = [Param(k, v) for k, v in run.data.params.items()]
    for start in range(0, len(params), _BATCH):
        chunk = params[start : start + _BATCH]
        target.call(
            "copying params", functools.partial(target.client.log_batch, new_id, params=chunk)
        )
    metrics: list[Metric] = []
    for key in run.data.metrics:
        history = source.call(
            "reading metrics", functools.partial(source.client.get_metric_history, run_id, key)
        )
        metrics += [Metric(m.key, m.value, m.timestamp, m.step) for m in history]
    for start in range(0, len(metrics), _BATCH):
        part = metrics[start : start + _BATCH]
        target.call(
            "copying metrics", functools.partial(target.client.log_batch, new_id, metrics=part)
        )
    with tempfile.TemporaryDirectory(prefix="podium-export-") as scratch:
        local = source.call(
            "downloading run artifacts",
            lambda: source.client.download_artifacts(run_id, "", scratch),
        )
        if any(Path(local).iterdir()):
            target.call(
                "uploading run artifacts", lambda: target.client.log_artifacts(new_id, local)
            )


def _copy_version(
    source: Registry, target: Registry, version: Version, run_id: str | None, *, marks: bool = True
) -> str:
    """Copy one model version (its files as logged) and return its number on the target."""
    source.verified_files(version)  # a tampered version is not spread further
    logged: Any = None
    if version.source.startswith("models:/m-"):
        model_id = version.source.removeprefix("models:/")
        logged = source.find(
            "reading the logged model", lambda: source.client.get_logged_model(model_id)
        )
    experiment_id = (
        target.call("reading the run", lambda: target.client.get_run(run_id)).info.experiment_id
        if run_id
        else target.experiment_id(f"podium/{source.name}", None)
    )
    model = copy_model(
        source,
        target,
        files=logged.artifact_location if logged is not None else version.source,
        logged=logged,
        experiment_id=experiment_id,
        run_id=run_id,
        what=f"version {version.version}",
    )
    # The copy's MLmodel names the target's run and model: its files are recorded anew.
    copied_tags = {k: v for k, v in version.tags.items() if k != tags.MODEL_SHA256}
    if run_id is not None:
        copied_tags[tags.MODEL_SHA256] = target.record_digests(run_id, model.uri)
    created = target.call(
        f"registering version {version.version}",
        lambda: target.client.create_model_version(
            source.name,
            source=model.uri,
            run_id=run_id,
            tags={**copied_tags, **({SOURCE_VERSION: version.version} if marks else {})},
            model_id=model.model_id,
        ),
    )
    return str(created.version)


def copy_logged(source: Registry, target: Registry, model: LoggedModel, run_id: str) -> LoggedModel:
    """A model logged in `source` (a training command's staging store) as a logged model of
    `run_id` in `target`, files and all; not registered."""
    logged = source.call(
        "reading the logged model", lambda: source.client.get_logged_model(model.model_id)
    )
    experiment_id = target.call(
        "reading the run", lambda: target.client.get_run(run_id)
    ).info.experiment_id
    return copy_model(
        source,
        target,
        files=logged.artifact_location,
        logged=logged,
        experiment_id=experiment_id,
        run_id=run_id,
        what=f"model '{model.name}'",
    )


def copy_model(
    source: Registry,
    target: Registry,
    *,
    files: str,
    logged: Any,
    experiment_id: str,
    run_id: str | None,
    what: str,
) -> LoggedModel:
    """Upload the model files at `files` (in `source`) as a new logged model of `target`.

    `files` is the logged model's own location: `models:/…` would resolve against whichever
    store MLflow's fluent API points at (the target, once it is opened)."""
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="podium-export-") as scratch:
        local = source.call(
            f"downloading {what}",
            lambda: mlflow.artifacts.download_artifacts(
                artifact_uri=files, dst_path=scratch, tracking_uri=source.tracking_uri
            ),
        )
        model = target.call(
            "creating the logged model",
            lambda: target.client.create_logged_model(
                experiment_id,
                name=logged.name if logged is not None else "model",
                source_run_id=run_id,
                tags=dict(logged.tags) if logged is not None else None,
                model_type=logged.model_type if logged is not None else None,
            ),
        )
        _point_mlmodel(Path(local), model.model_id, run_id)
        target.call(
            f"uploading {what}",
            lambda: target.client.log_model_artifacts(model.model_id, local),
        )
    target.call(
        "finishing the logged model",
        lambda: target.client.finalize_logged_model(model.model_id, "READY"),
    )
    return LoggedModel(str(model.model_id), f"models:/{model.model_id}", str(model.name))


def _point_mlmodel(folder: Path, model_id: str, run_id: str | None) -> None:
    """The copied MLmodel names the target's logged model and run, not the source's
    (MLflow looks the logged model up by the id written in that file)."""
    from mlflow.models import Model

    if not (folder / "MLmodel").is_file():
        return
    described = Model.load(str(folder / "MLmodel"))
    described.model_id = model_id
    described.run_id = run_id
    described.save(str(folder / "MLmodel"))
