"""The MLflow adapter: the only module that talks to MLflow.

`Registry` is one registered model in one MLflow store (a tracking server, or a local
sqlite file): its versions, the `champion` alias, tags, runs and artifacts, as small
operations that translate MLflow's failures into podium's errors. The promotion lock
(lock.py), the audit trail (audit.py) and the compare-and-set champion move
(champion.py) are built on these operations, outside this module.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from podium.errors import ConfigError, DataError, InputError, ServiceError
from podium.registry import env, integrity
from podium.registry.store import Busy, ModelEntry, Version
from podium.registry.tags import CHAMPION, MODEL_SHA256, TASK, read_classes, read_positive

if TYPE_CHECKING:
    from podium.registry.audit import Approval, Event

T = TypeVar("T")

NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST"})
# Asking for a version or an alias that is not there: some stores answer "invalid".
NO_SUCH_VERSION = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


@dataclass(frozen=True)
class LoggedModel:
    """A model logged in a run (any flavor), before it is registered."""

    model_id: str
    uri: str  # models:/m-…
    name: str


class Registry:
    """One registered model in one MLflow tracking/registry server."""

    def __init__(self, tracking_uri: str, model_name: str) -> None:
        env.quiet_mlflow()
        if tracking_uri.startswith("sqlite:///"):
            db = Path(tracking_uri.removeprefix("sqlite:///"))
            db.parent.mkdir(parents=True, exist_ok=True)
            if "?" not in tracking_uri and db.name != ":memory:":
                from podium.registry import sqlite_schema

                if (db.exists() or db.is_symlink()) and sqlite_schema.store_state(
                    db, str(db)
                ) == sqlite_schema.OLDER:
                    raise ConfigError(
                        f"{db} was written by an older MLflow; back it up, then upgrade it "
                        f"once with: mlflow db upgrade {tracking_uri}"
                    )
                sqlite_schema.create(db)  # a new store without MLflow's seconds of migrations
        from mlflow.tracking import MlflowClient

        self.tracking_uri = tracking_uri
        self.name = model_name
        self.activate()
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._checked = False
        self._downloaded: dict[str, Path] = {}  # model URI -> its files, fetched once

    def activate(self) -> None:
        """Point MLflow's fluent API (runs, log_model, load_model) at this store.

        mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI, which podium reads
        as the user's override: restore it, or every project opened later in the same
        process would silently use this one's registry.
        """
        import mlflow

        saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # -- error translation -------------------------------------------------------
    @contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """MLflow failures inside become podium's: ServiceError (exit 3), ConfigError (2)."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as exc:
            raise self._translate(what, exc) from None
        except OSError as exc:  # requests' ConnectionError is an OSError
            raise self._unreachable(what, str(exc)) from None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one MLflow call; turn transport failures into ServiceError (exit 3)."""
        with self.translated(what):
            return fn()

    def find(
        self, what: str, fn: Callable[[], T], *, none_when: Collection[str] = NOT_FOUND
    ) -> T | None:
        """Like `call`, but None when MLflow answers with one of the `none_when` error codes
        (by default: the thing does not exist)."""
        from mlflow.exceptions import MlflowException

        with self.translated(what):
            try:
                return fn()
            except MlflowException as exc:
                if _code(exc) in none_when:
                    return None
                raise

    def _translate(self, what: str, exc: Exception) -> Exception:
        error = self._classify(what, exc)
        if _transient(exc) and isinstance(error, ServiceError):
            return Busy(str(error))
        return error

    def _classify(self, what: str, exc: Exception) -> Exception:
        text = str(exc)
        code = _code(exc)
        # Match the HTTP status MLflow reports, not any "401" in the text (a port number…).
        denied = re.search(r"error code (401|403)\b", text) is not None
        if denied or code in {"UNAUTHENTICATED", "PERMISSION_DENIED"}:
            return ConfigError(
                f"MLflow at {self.tracking_uri} refused {what} (not authorised); set "
                "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
            )
        if "not in a valid JSON format" in text:  # a proxy, a login page, another service
            return ServiceError(
                f"MLflow at {self.tracking_uri}: {what} failed: the answer is not MLflow's "
                "REST API; check that MLFLOW_TRACKING_URI points at an MLflow tracking server"
            )
        transport = (
            "Max retries exceeded",
            "Connection refused",
            "Failed to establish",
            "API request to",
            "timed out",
            "Name or service not known",
        )
        if any(t in text for t in transport):
            return self._unreachable(what, text)
        return ServiceError(f"MLflow at {self.tracking_uri}: {what} failed: {_short(exc)}")

    def _unreachable(self, what: str, text: str) -> ServiceError:
        """One line: which server, what failed, why in a few words, what to check."""
        reasons = (
            ("Connection refused", "connection refused"),
            ("too many 5", "it kept answering with server errors"),
            ("too many 429", "it kept answering 429 Too Many Requests"),
            ("timed out", "no answer within MLFLOW_HTTP_REQUEST_TIMEOUT"),
            ("Name or service not known", "unknown host name"),
            ("Temporary failure in name resolution", "host name did not resolve"),
        )
        why = next((short for needle, short in reasons if needle in text), _short(text))
        return ServiceError(
            f"MLflow at {self.tracking_uri}: {what} failed after {env.http_max_retries()} "
            f"retries ({why}); check MLFLOW_TRACKING_URI and that the server is up"
        )

    def check_reachable(self) -> None:
        """Fail fast (exit 3) when the tracking server cannot be reached."""
        if self._checked:
            return
        self.call("connecting", lambda: self.client.search_experiments(max_results=1))
        self._checked = True

    # -- experiments and training --------------------------------------------------
    def experiment_id(self, name: str, artifact_root: Path | None) -> str:
        """Get or create the experiment; local stores keep artifacts next to the db."""
        existing = self.call(
            "reading the experiment", lambda: self.client.get_experiment_by_name(name)
        )
        if existing is not None:
            if existing.lifecycle_stage == "deleted":
                raise ConfigError(
                    f"MLflow experiment '{name}' is deleted; restore it or set "
                    "registry.experiment in podium.yaml to another name"
                )
            return str(existing.experiment_id)
        location = artifact_root.as_uri() if artifact_root is not None else None
        created = self.find(
            "creating the experiment",
            lambda: self.client.create_experiment(name, artifact_location=location),
            none_when={"RESOURCE_ALREADY_EXISTS"},  # lost a race: read the winner's
        )
        if created is not None:
            return str(created)
        found = self.client.get_experiment_by_name(name)
        assert found is not None
        return str(found.experiment_id)

    def log_candidate(
        self,
        *,
        experiment_id: str,
        model: Any,
        example: Any,
        params: dict[str, Any],
        metrics: dict[str, float],
        run_tags: dict[str, str],
        version_tags: dict[str, str],
        artifacts: dict[str, Any],
        requirements: Collection[str] = (),
    ) -> tuple[str, Version]:
        """Log one training run with its model and register it as a new version.

        `requirements`: pip requirements beyond scikit-learn (e.g. lightgbm==4.7.0 for a
        LightGBM estimator inside podium's pipeline).
        """
        import math

        import mlflow
        import sklearn
        from mlflow.models import infer_signature

        def log() -> tuple[str, Version]:
            with mlflow.start_run(experiment_id=experiment_id, tags=run_tags) as run:
                mlflow.log_params({k: _param(v) for k, v in params.items()})
                finite = {k: v for k, v in metrics.items() if not math.isnan(v)}
                if finite:
                    mlflow.log_metrics(finite)
                for name, payload in artifacts.items():
                    mlflow.log_dict(payload, name)
                signature = _any_values(infer_signature(example, model.predict(example)))
                with _without_silent_checks():
                    info = mlflow.sklearn.log_model(
                        model,
                        name="model",
                        signature=signature,
                        input_example=example,
                        serialization_format="cloudpickle",
                        # Given explicitly: inference would spend seconds in a subprocess.
                        pip_requirements=[
                            f"scikit-learn=={sklearn.__version__}",
                            "cloudpickle",
                            *requirements,
                        ],
                    )
                digest = self.record_digests(run.info.run_id, info.model_uri)
                mv = self.client.create_model_version(
                    self.name,
                    source=info.model_uri,
                    run_id=run.info.run_id,
                    tags={**version_tags, MODEL_SHA256: digest},
                    # A tracking server only accepts a `models:/m-…` source with its id.
                    model_id=info.model_id,
                )
                return run.info.run_id, _version(mv)

        self._ensure_registered_model()
        self.activate()
        return self.call("logging the training run", log)

    # -- a run opened for a training command (model.command) ---------------------------
    def open_run(self, *, experiment_id: str, tags: dict[str, str]) -> str:
        """Create a run for someone else's training code to resume; its id."""
        run = self.call(
            "opening the training run",
            lambda: self.client.create_run(experiment_id, tags=tags),
        )
        return str(run.info.run_id)

    def end_run(self, run_id: str, *, failed: bool) -> None:
        """Mark the run finished (or failed); a command may have ended it already."""
        status = "FAILED" if failed else "FINISHED"
        self.call("closing the training run", lambda: self.client.set_terminated(run_id, status))

    def logged_models(self, run_id: str, experiment_id: str) -> list[LoggedModel]:
        """Every model logged in the run (any flavor), oldest first."""
        found = self.call(
            "listing the run's models",
            lambda: self.client.search_logged_models(
                experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"
            ),
        )
        ordered = sorted(found, key=lambda m: m.creation_timestamp or 0)
        return [LoggedModel(str(m.model_id), str(m.model_uri), str(m.name)) for m in ordered]

    def record_run(
        self,
        run_id: str,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        artifacts: dict[str, Any],
    ) -> None:
        """Add podium's params, metrics and JSON artifacts to an existing run."""
        from mlflow.entities import Param

        batch = [Param(k, _param(v)) for k, v in params.items()]
        self.call("logging params", lambda: self.client.log_batch(run_id, params=batch))
        self.log_metrics(run_id, metrics)
        for name, payload in artifacts.items():
            self.log_json(run_id, payload, name)

    def register(self, model: LoggedModel, *, run_id: str, tags: dict[str, str]) -> Version:
        """Register a logged model as a new version of this model, tagged."""
        self._ensure_registered_model()
        digest = self.record_digests(run_id, model.uri)
        tagged = {**tags, MODEL_SHA256: digest}
        mv = self.call(
            "registering the model version",
            lambda: self.client.create_model_version(
                self.name, source=model.uri, run_id=run_id, tags=tagged, model_id=model.model_id
            ),
        )
        return _version(mv)

    def record_digests(self, run_id: str, uri: str) -> str:
        """sha256 of every file of the model at `uri`, logged on its run; the manifest's
        own digest, for the version's tag."""
        manifest = integrity.file_digests(self._model_files(uri))
        self.log_json(run_id, manifest, integrity.MANIFEST)
        return integrity.manifest_digest(manifest)

    def verified_files(self, version: Version) -> Path:
        """A version's model files on local disk, checked against the sha256 digests
        recorded when it was registered — call it before anything loads or ships them.
        IntegrityError (exit 2) naming the file and both digests when they differ; a
        version registered before podium recorded digests is returned with a warning."""
        local = self._model_files(version.uri)
        recorded = version.tags.get(MODEL_SHA256)
        if recorded is None:
            from podium import gha

            gha.warning(
                f"model v{version.version} of '{self.name}' has no recorded file digests "
                "(registered before podium recorded them); its files are not verified"
            )
            return local
        found = integrity.file_digests(local)
        if integrity.manifest_digest(found) == recorded:
            return local
        listed = self.run_json(version.run_id, integrity.MANIFEST) if version.run_id else None
        manifest = {str(k): str(v) for k, v in (listed or {}).items()}
        trusted = listed is not None and integrity.manifest_digest(manifest) == recorded
        raise integrity.IntegrityError(
            integrity.mismatch(
                f"v{version.version} of '{self.name}'", found, manifest if trusted else None
            )
        )

    def _ensure_registered_model(self) -> None:
        if self.registered_model(self.name, "reading the registered model") is None:
            # False: created meanwhile by someone else, which is just as good.
            self.create_model(
                self.name,
                "registering the model",
                description="Managed by podium: champion = @champion alias.",
            )

    # -- versions and the champion alias -----------------------------------------------
    def get_version(self, version: str) -> Version:
        """A model version by number; InputError (exit 2) naming it when unknown."""
        mv = self.find(
            f"reading version {version}",
            lambda: self.client.get_model_version(self.name, str(version)),
            none_when=NO_SUCH_VERSION,
        )
        if mv is None:
            known = ", ".join(v.version for v in self.versions()[-10:]) or "none"
            raise InputError(
                f"model '{self.name}' has no version '{version}' (known: {known}); "
                "pick one from `podium history` or the MLflow UI"
            )
        return _version(mv)

    def versions(self) -> list[Version]:
        """Every version of the model, oldest first; empty before the first registration."""
        found = self.find(
            "listing versions", lambda: self.client.search_model_versions(f"name='{self.name}'")
        )
        return sorted((_version(mv) for mv in found or []), key=lambda v: int(v.version))

    def champion(self) -> Version | None:
        """The version behind `@champion`, or None when there is none yet."""
        mv = self.find(
            "reading @champion",
            lambda: self.client.get_model_version_by_alias(self.name, CHAMPION),
            none_when=NO_SUCH_VERSION,
        )
        return None if mv is None else _version(mv)

    def set_champion(self, version: str) -> None:
        """Point `@champion` at `version` (no checks: see champion.move for the protocol)."""
        self.call(
            "moving @champion",
            lambda: self.client.set_registered_model_alias(self.name, CHAMPION, version),
        )

    def alias(self, alias: str) -> Version | None:
        """The version behind `@alias` (e.g. an environment's, `@staging`), or None."""
        mv = self.find(
            f"reading @{alias}",
            lambda: self.client.get_model_version_by_alias(self.name, alias),
            none_when=NO_SUCH_VERSION,
        )
        return None if mv is None else _version(mv)

    def set_alias(self, alias: str, version: str) -> None:
        """Point `@alias` at `version` (no checks: see deployments.move for the protocol)."""
        self.call(
            f"moving @{alias}",
            lambda: self.client.set_registered_model_alias(self.name, alias, version),
        )

    def set_version_tags(self, version: str, tags: dict[str, str]) -> None:
        """Tag a version, one tag at a time (MLflow has no batch of version tags).

        MlflowClient.set_model_version_tag reads the registered model before every tag, to
        refuse a prompt's name: the first tag goes through it, the others straight to the
        registry client it wraps — the same writes, one check (≈ 5 ms of CPU a tag on
        sqlite, a round trip on a server; `podium run` sets up to 12).
        """
        registry = getattr(self.client, "_get_registry_client", None)
        for done, (key, value) in enumerate(tags.items()):
            setter = registry().set_model_version_tag if done and registry else None
            self.call(
                "tagging the model version",
                functools.partial(
                    setter or self.client.set_model_version_tag, self.name, version, key, value
                ),
            )

    def load_model(self, version: Version) -> Any:
        """A version as a fitted scikit-learn-style estimator, whatever its flavor.

        The sklearn flavor loads as itself (its probabilities and decision function, as
        every version podium registered before any-framework support); any other flavor
        loads through MLflow pyfunc, its output read by `predictions`. A model whose
        signature rejects the data raises DataError naming the column and the type.
        """
        return self._load(
            self.verified_files(version),
            f"v{version.version}",
            task=version.tags.get(TASK, "classification"),
            classes=read_classes(version.tags),
            positive=read_positive(version.tags),
        )

    def load_logged(
        self, model: LoggedModel, *, task: str, classes: list[Any] | None, positive: Any = None
    ) -> Any:
        """A logged (not yet registered) model, loaded as `load_model` loads versions."""
        local = self._model_files(model.uri)
        label = f"{model.name} ({model.model_id})"
        return self._load(local, label, task=task, classes=classes, positive=positive)

    def model_files(self, version: Version) -> Path:
        """A version's MLflow model folder on local disk (downloaded once per process)."""
        return self._model_files(version.uri)

    def model_size_mb(self, version: Version) -> float:
        """The bytes of a version's model artifacts (every file), in MB."""
        local = self._model_files(version.uri)
        return sum(f.stat().st_size for f in local.rglob("*") if f.is_file()) / 1_000_000

    def _load(
        self, local: Path, label: str, *, task: str, classes: list[Any] | None, positive: Any = None
    ) -> Any:
        import mlflow
        from mlflow.models import Model

        from podium import predictions

        with self.translated(f"loading model {label}"):
            if "sklearn" in Model.load(str(local)).flavors:
                from podium.raw_model import unwrapped

                # podium scores prepared rows itself: the model inside the raw-rows step
                return unwrapped(mlflow.sklearn.load_model(str(local)))
            model = mlflow.pyfunc.load_model(str(local))
        return predictions.as_estimator(
            functools.partial(_predict_checked, model, label),
            task=task,
            classes=classes,
            positive=positive,
        )

    def _model_files(self, uri: str) -> Path:
        """A model's artifacts on local disk, downloaded once per process."""
        import atexit
        import shutil
        import tempfile

        import mlflow

        if uri not in self._downloaded:
            self.activate()
            target = tempfile.mkdtemp(prefix="podium-model-")
            atexit.register(shutil.rmtree, target, ignore_errors=True)
            local = self.call(
                f"downloading {uri}",
                lambda: mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=target),
            )
            self._downloaded[uri] = Path(local)
        return self._downloaded[uri]

    # -- runs and their artifacts ----------------------------------------------------
    def run_json(self, run_id: str, path: str) -> dict[str, Any] | None:
        """A JSON artifact of a run (e.g. `podium/profile.json`); None when never logged."""
        import mlflow

        folder = path.rpartition("/")[0] or None
        listed = self.call(
            "listing run artifacts", lambda: self.client.list_artifacts(run_id, folder)
        )
        if not any(item.path == path for item in listed):
            return None
        loaded = self.call(
            f"reading {path}", lambda: mlflow.artifacts.load_dict(f"runs:/{run_id}/{path}")
        )
        return loaded if isinstance(loaded, dict) else None

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        import math

        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(k, v, stamp, 0) for k, v in metrics.items() if not math.isnan(v)]
        if batch:
            self.call("logging metrics", lambda: self.client.log_batch(run_id, metrics=batch))

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of every metric logged on a run (e.g. `eval_roc_auc`)."""
        run = self.call("reading the run", lambda: self.client.get_run(run_id))
        return {str(k): float(v) for k, v in run.data.metrics.items()}

    def run_experiment(self, run_id: str) -> str:
        """The id of the experiment a run belongs to."""
        run = self.call("reading the run", lambda: self.client.get_run(run_id))
        return str(run.info.experiment_id)

    def log_json(self, run_id: str, payload: dict[str, Any], path: str) -> None:
        """Attach a JSON artifact (e.g. `podium/importance.json`) to an existing run."""
        self.call(f"logging {path}", lambda: self.client.log_dict(run_id, payload, path))

    # -- registered models by name: what the lock and the audit trail are made of -----
    def registered_model(self, name: str, what: str) -> ModelEntry | None:
        """The registered model `name`, or None when there is none (Busy: retry later)."""
        found = self.find(what, lambda: self.client.get_registered_model(name))
        if found is None:
            return None
        return ModelEntry(
            name=found.name, tags=dict(found.tags or {}), created_ms=found.creation_timestamp or 0
        )

    def create_model(
        self, name: str, what: str, *, description: str, tags: dict[str, str] | None = None
    ) -> bool:
        """Create the registered model `name` — atomic, names are unique in every store.

        False when the name is taken. sqlite may also answer "does not exist" when it saw
        the name taken, then read it back after its holder deleted it: taken too.
        """
        created = self.find(
            what,
            lambda: self.client.create_registered_model(name, tags=tags, description=description),
            none_when={"RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST"},
        )
        return created is not None

    def delete_model(self, name: str, what: str) -> None:
        self.call(what, lambda: self.client.delete_registered_model(name))

    def set_model_tag(self, key: str, value: str, what: str) -> None:
        """Tag this registered model (not one of its versions)."""
        self.call(what, lambda: self.client.set_registered_model_tag(self.name, key, value))

    # -- changes ----------------------------------------------------------------------
    def change(
        self,
        apply: Callable[[Registry], T],
        message: Callable[[T], str],
        again: Callable[[Registry, Registry, T], T] | None = None,
    ) -> T:
        """Apply one change (a few writes that belong together) and return its result.

        Here the writes happen as they are made; a store kept on a git branch makes the
        change one commit, pushed (`message(result)` is its message), and after a lost
        push race carries it over with `again` when given, see git_branch.py.
        """
        del message, again  # a server keeps no log of changes and loses no race
        return apply(self)

    # -- champion moves (implemented in audit.py and champion.py) ----------------------
    def history(self) -> list[Event]:
        """Every champion move, oldest first: the audit trail."""
        from podium.registry import audit

        return audit.history(self)

    def move_champion(
        self,
        *,
        action: str,
        version: str,
        expected: str | None,
        actor: str,
        reason: str,
        commit: str | None,
        run_url: str | None,
        approval: Approval | None = None,
    ) -> Event:
        """Compare-and-set `@champion` from `expected` to `version`, audited (champion.move)."""
        from podium.registry import champion

        return champion.move(
            self,
            action=action,
            version=version,
            expected=expected,
            actor=actor,
            reason=reason,
            commit=commit,
            run_url=run_url,
            approval=approval,
        )


@contextmanager
def _without_silent_checks() -> Iterator[None]:
    """`log_model` without two self-checks whose only outcome is a log warning, which
    podium silences (`env.QUIET_DEFAULTS`): loading the model back to predict the input
    example (evaluate loads the registered version and scores every evaluation row), and
    comparing the pip requirements with the installed packages (podium pins them from the
    running ones). Together 0.3–0.7 s of CPU per training run (measured): a scan of
    every installed distribution's files, and a second unpickling of the model. The
    logged files are the same (tests/registry/test_mlflow_store.py compares them).

    MLflow has no switch for either, and swapping a module's function is seen by every
    thread: it is done only while this is the process's one thread (`podium train`
    alone); beside another thread (`podium run` ranks importance meanwhile) MLflow runs
    its checks as it would anywhere."""
    import threading

    import mlflow.models.utils
    import mlflow.utils.environment

    if threading.active_count() > 1:
        yield
        return

    patched = [
        (mlflow.models.utils, "_validate_serving_input"),
        (mlflow.utils.environment, "warn_dependency_requirement_mismatches"),
    ]
    saved = [(module, name, getattr(module, name, None)) for module, name in patched]
    for module, name, original in saved:
        if original is not None:  # another MLflow version may lack it: nothing to skip
            setattr(module, name, _skipped)
    try:
        yield
    finally:
        for module, name, original in saved:
            if original is not None:
                setattr(module, name, original)


def _skipped(*_args: Any, **_kwargs: Any) -> None:
    return None


def _any_values(signature: Any) -> Any:
    """`signature` with each input column of any type: the model takes raw rows (its first
    step converts them, `podium.raw_model`), and a column MLflow would pin to `long` or
    `double` may hold either in the next file (a missing value makes pandas read ints as
    floats), or a date as text or as a datetime."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    names = signature.inputs.input_names() if signature.inputs is not None else []
    inputs = Schema([ColSpec(AnyType(), str(name)) for name in names])  # type: ignore[no-untyped-call]
    return ModelSignature(inputs=inputs, outputs=signature.outputs, params=signature.params)


def _predict_checked(model: Any, label: str, features: Any) -> Any:
    """`model.predict`, with a signature that rejects the data as a DataError that names
    the column and the type the model expects."""
    from mlflow.exceptions import MlflowException

    try:
        return model.predict(_as_signed(model, features))
    except MlflowException as exc:
        raise DataError(_signature_problem(model, label, str(exc))) from None


_INTEGERS = frozenset({"long", "integer"})


def _as_signed(model: Any, features: Any) -> Any:
    """Integer columns podium read as floats (it reads every number as float) back as the
    integers the signature asks for — when every value is whole and present; otherwise
    left as they are, for the signature check to name."""
    import numpy as np

    schema = model.metadata.get_input_schema() if model.metadata else None
    wanted = [
        str(spec.name)
        for spec in getattr(schema, "inputs", None) or []
        if getattr(spec, "name", None) and getattr(spec.type, "name", None) in _INTEGERS
    ]
    cast = {}
    for name in wanted:
        column = features.get(name) if hasattr(features, "get") else None
        if column is None or column.dtype.kind != "f":
            continue
        values = column.to_numpy()
        if np.isfinite(values).all() and (values == np.round(values)).all():
            cast[name] = values.astype(np.int64)
    return features.assign(**cast) if cast else features


def _signature_problem(model: Any, label: str, message: str) -> str:
    schema = model.metadata.get_input_schema() if model.metadata else None
    named = [s for s in getattr(schema, "inputs", None) or [] if getattr(s, "name", None)]
    # MLflow's message quotes the whole data first; the reason comes after "Error:".
    reason = " ".join(message.rpartition("Error:")[2].split()) or " ".join(message.split())
    culprit = next((s for s in named if re.search(rf"\b{re.escape(str(s.name))}\b", reason)), None)
    detail = _short(reason)
    if culprit is None:
        return f"model {label}'s signature rejects the data: {detail}"
    kind = getattr(culprit.type, "name", None) or str(culprit.type)
    return (
        f"model {label}'s signature rejects column '{culprit.name}': it expects {kind} "
        f"({detail}); make the column {kind} in the data, or log the model with a "
        "signature that matches it"
    )


def _version(mv: Any) -> Version:
    return Version(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        source=mv.source,
        tags=dict(mv.tags or {}),
        created_ms=mv.creation_timestamp,
    )


def _code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


def _transient(exc: Exception) -> bool:
    """A busy store (sqlite "database is locked") or a server that asks to retry later."""
    return _code(exc) == "TEMPORARILY_UNAVAILABLE" or "database is locked" in str(exc)


def _short(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]
