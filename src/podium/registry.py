"""The MLflow adapter: the only module that talks to MLflow.

Champion = the `champion` alias of the registered model. MLflow keeps no history of
alias moves and has no compare-and-set, so podium adds both:

- an audit trail: one registered-model tag per champion move
  (`podium.audit.000001` = JSON event), written under the lock below;
- a promotion lock: creating a registered model is atomic in every MLflow store
  (unique name), so `<model>.podium-lock` is created to take the lock and deleted to
  release it. Under the lock podium re-reads `@champion`, compares it with what the
  challenger was evaluated against, and only then moves the alias.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from podium import gha
from podium.errors import CheckFailed, ConfigError, InputError, ServiceError

CHAMPION = "champion"
AUDIT_PREFIX = "podium.audit."
LOCK_SUFFIX = ".podium-lock"
LOCK_STALE_SECONDS = 600.0

T = TypeVar("T")


def quiet_mlflow() -> None:
    """No telemetry, bounded retries, quiet logs — set before MLflow is imported."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # noise in CI logs
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # MLflow re-applies it on import
    import logging

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


@dataclass(frozen=True)
class Version:
    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    created_ms: int | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class Event:
    """One champion move (promotion or rollback), as recorded in the audit trail."""

    seq: int
    action: str  # "promote" | "rollback"
    version: str
    previous: str | None
    actor: str
    at: str
    reason: str
    commit: str | None = None
    run_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "version": self.version,
            "previous": self.previous,
            "actor": self.actor,
            "at": self.at,
            "reason": self.reason,
            "commit": self.commit,
            "run_url": self.run_url,
        }


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Registry:
    """One registered model in one MLflow tracking/registry server."""

    def __init__(self, tracking_uri: str, model_name: str) -> None:
        quiet_mlflow()
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        from mlflow.tracking import MlflowClient

        self.tracking_uri = tracking_uri
        self.name = model_name
        self._activate()
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._checked = False

    def _activate(self) -> None:
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
    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one MLflow call; turn transport failures into ServiceError (exit 3)."""
        from mlflow.exceptions import MlflowException

        try:
            return fn()
        except MlflowException as exc:
            raise self._translate(what, exc) from None
        except OSError as exc:  # requests' ConnectionError is an OSError
            raise self._unreachable(what, str(exc)) from None

    def _translate(self, what: str, exc: Exception) -> Exception:
        text = str(exc)
        code = getattr(exc, "error_code", "")
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
        retries = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
        return ServiceError(
            f"MLflow at {self.tracking_uri}: {what} failed after {retries} retries ({why}); "
            "check MLFLOW_TRACKING_URI and that the server is up"
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
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.create_experiment(name, artifact_location=location))
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_ALREADY_EXISTS":  # lost a race
                found = self.client.get_experiment_by_name(name)
                assert found is not None
                return str(found.experiment_id)
            raise self._translate("creating the experiment", exc) from None

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
    ) -> tuple[str, Version]:
        """Log one training run with its model and register it as a new version."""
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
                signature = infer_signature(example, model.predict(example))
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=signature,
                    input_example=example,
                    serialization_format="cloudpickle",
                    # Given explicitly: inference would spend seconds in a subprocess.
                    pip_requirements=[f"scikit-learn=={sklearn.__version__}", "cloudpickle"],
                )
                mv = self.client.create_model_version(
                    self.name,
                    source=info.model_uri,
                    run_id=run.info.run_id,
                    tags=version_tags,
                    # A tracking server only accepts a `models:/m-…` source with its id.
                    model_id=info.model_id,
                )
                return run.info.run_id, _version(mv)

        self._ensure_registered_model()
        self._activate()
        return self.call("logging the training run", log)

    def _ensure_registered_model(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.name)
        except MlflowException as exc:
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise self._translate("reading the registered model", exc) from None
            try:
                self.client.create_registered_model(
                    self.name, description="Managed by podium: champion = @champion alias."
                )
            except MlflowException as again:
                if getattr(again, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                    raise self._translate("registering the model", again) from None

    def get_version(self, version: str) -> Version:
        """A model version by number; InputError (exit 2) naming it when unknown."""
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version(self.name, str(version))
        except MlflowException as exc:
            if getattr(exc, "error_code", "") in {
                "RESOURCE_DOES_NOT_EXIST",
                "INVALID_PARAMETER_VALUE",
            }:
                known = ", ".join(v.version for v in self.versions()[-10:]) or "none"
                raise InputError(
                    f"model '{self.name}' has no version '{version}' (known: {known}); "
                    "pick one from `podium history` or the MLflow UI"
                ) from None
            raise self._translate(f"reading version {version}", exc) from None
        return _version(mv)

    def versions(self) -> list[Version]:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.search_model_versions(f"name='{self.name}'")
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return []
            raise self._translate("listing versions", exc) from None
        return sorted((_version(mv) for mv in found), key=lambda v: int(v.version))

    def champion(self) -> Version | None:
        """The version behind `@champion`, or None when there is none yet."""
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version_by_alias(self.name, CHAMPION)
        except MlflowException as exc:
            if getattr(exc, "error_code", "") in {
                "RESOURCE_DOES_NOT_EXIST",
                "INVALID_PARAMETER_VALUE",
            }:
                return None
            raise self._translate("reading @champion", exc) from None
        return _version(mv)

    def load_model(self, version: Version) -> Any:
        import mlflow

        self._activate()
        return self.call(
            f"loading version {version.version}", lambda: mlflow.sklearn.load_model(version.uri)
        )

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

    def log_json(self, run_id: str, payload: dict[str, Any], path: str) -> None:
        """Attach a JSON artifact (e.g. `podium/importance.json`) to an existing run."""
        self.call(f"logging {path}", lambda: self.client.log_dict(run_id, payload, path))

    def set_version_tags(self, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.call(
                "tagging the model version",
                functools.partial(
                    self.client.set_model_version_tag, self.name, version, key, value
                ),
            )

    # -- the promotion lock ---------------------------------------------------------
    @contextmanager
    def lock(self, holder: str, timeout: float = 120.0) -> Iterator[None]:
        """Exclusive lock on champion moves for this model, across processes and hosts.

        `holder` must be unique per attempt: the lock is only ever released, and only
        ever broken as stale, by comparing holders, so nobody deletes a lock they do
        not own. Safety assumes, as any lease does, that a holder never stalls for
        LOCK_STALE_SECONDS (its moves take a few requests).
        """
        lock_name = self.name + LOCK_SUFFIX
        deadline = time.monotonic() + timeout
        delay = 0.05
        while not self._try_lock(lock_name, holder):
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"MLflow registered model '{lock_name}' (podium's promotion lock) has been "
                    f"held for over {timeout:.0f}s; if no promotion is running, delete it"
                )
            time.sleep(delay * (0.5 + random.random()))  # jitter: waiters must not march in step
            delay = min(delay * 2, 1.0)
        try:
            yield
        finally:
            self._release(lock_name, holder)

    def lock_holder(self, lock_name: str) -> tuple[str, float] | None:
        """Who holds the lock and since when (epoch seconds); None when it is free."""
        from mlflow.exceptions import MlflowException

        try:
            held = self.client.get_registered_model(lock_name)
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None
            if _transient(exc):
                return ("", time.time())  # unknown: treat as held, fresh
            raise self._translate("reading the promotion lock", exc) from None
        try:
            since = float(held.tags.get("podium.lock.since", "0"))
        except ValueError:
            since = 0.0
        return held.tags.get("podium.lock.holder", ""), since

    def _try_lock(self, lock_name: str, holder: str) -> bool:
        """One attempt: create the lock model (atomic: names are unique)."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.create_registered_model(
                lock_name,
                tags={"podium.lock.holder": holder, "podium.lock.since": str(time.time())},
                description=f"podium promotion lock for '{self.name}' (held by {holder}); "
                "deleted automatically when the move completes",
            )
            return True
        except MlflowException as exc:
            # RESOURCE_DOES_NOT_EXIST: the store saw the name taken, then read it back
            # after its holder released it. Busy sqlite: TEMPORARILY_UNAVAILABLE.
            taken = getattr(exc, "error_code", "") in {
                "RESOURCE_ALREADY_EXISTS",
                "RESOURCE_DOES_NOT_EXIST",
            }
            if not taken and not _transient(exc):
                raise self._translate("taking the promotion lock", exc) from None
        found = self.lock_holder(lock_name)
        if found is None:
            return False  # released meanwhile: try again
        if found[0] == holder:
            return True  # our create went through but its answer was lost (retried request)
        if time.time() - found[1] > LOCK_STALE_SECONDS:
            self._break_stale_lock(lock_name, found)
        return False

    def _release(self, lock_name: str, holder: str) -> None:
        """Delete the lock if (and only if) it is still ours."""
        from mlflow.exceptions import MlflowException

        for attempt in range(5):
            try:
                found = self.lock_holder(lock_name)
                if found is None or found[0] != holder:
                    return  # broken as stale by someone else: theirs now, leave it
                self.client.delete_registered_model(lock_name)
                return
            except (MlflowException, ServiceError, OSError):
                time.sleep(0.2 * (attempt + 1))  # must not mask the error being raised, if any
        gha.warning(
            f"could not release podium's promotion lock '{lock_name}'; it expires after "
            f"{LOCK_STALE_SECONDS:.0f}s, or delete that registered model"
        )

    def _break_stale_lock(self, lock_name: str, stale: tuple[str, float]) -> None:
        """Remove a lock abandoned by a crashed holder, with one breaker per stale lock.

        Two waiters may both see the same stale lock. Deleting it blindly lets the slower
        one delete the lock the faster one has just taken. So a breaker first creates a
        token named after the stale holder (atomic, like the lock), re-checks that the
        lock is still that holder's, deletes it, then removes the token.
        """
        from mlflow.exceptions import MlflowException

        token = break_token(lock_name, *stale)
        try:
            self.client.create_registered_model(
                token, description=f"podium is breaking a stale lock held by {stale[0]}"
            )
        except MlflowException:
            self._drop_abandoned_token(token)
            return  # another waiter is breaking it
        try:
            if self.lock_holder(lock_name) == stale:
                self.client.delete_registered_model(lock_name)
        except (MlflowException, ServiceError):
            pass  # left for the next waiter
        finally:
            with contextlib.suppress(MlflowException):
                self.client.delete_registered_model(token)

    def _drop_abandoned_token(self, token: str) -> None:
        """A breaker that died mid-break leaves its token: expire it like a lock."""
        from mlflow.exceptions import MlflowException

        with contextlib.suppress(MlflowException):
            created = self.client.get_registered_model(token).creation_timestamp or 0
            if time.time() - created / 1000 > LOCK_STALE_SECONDS:
                self.client.delete_registered_model(token)

    # -- champion moves ----------------------------------------------------------------
    def history(self) -> list[Event]:
        from mlflow.exceptions import MlflowException

        try:
            model = self.client.get_registered_model(self.name)
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return []
            raise self._translate("reading the audit trail", exc) from None
        events = []
        for key, value in model.tags.items():
            if key.startswith(AUDIT_PREFIX):
                try:
                    events.append(Event(**json.loads(value)))
                except (ValueError, TypeError):
                    continue  # a hand-edited tag must not break the trail
        return sorted(events, key=lambda e: e.seq)

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
    ) -> Event:
        """Compare-and-set `@champion` from `expected` to `version`, and audit the move.

        Raises CheckFailed (exit 1) and moves nothing when `@champion` is no longer
        `expected` — someone else promoted or rolled back in the meantime.
        """
        holder = f"{actor}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        with self.lock(holder):
            current = self.champion()
            current_version = current.version if current else None
            if current_version != expected:
                raise CheckFailed(
                    f"not moved: @champion of '{self.name}' is now "
                    f"{_v(current_version)}, not {_v(expected)} as when this was decided; "
                    "re-run evaluate against the new champion"
                )
            trail = self.history()
            event = Event(
                seq=(trail[-1].seq + 1) if trail else 1,
                action=action,
                version=version,
                previous=current_version,
                actor=actor,
                at=now_iso(),
                reason=reason,
                commit=commit,
                run_url=run_url,
            )
            held = self.lock_holder(self.name + LOCK_SUFFIX)
            if held is None or held[0] != holder:
                raise ServiceError(
                    f"not moved: podium's promotion lock for '{self.name}' was taken over "
                    "while this promotion stalled; run it again"
                )
            # Record first, then move: a crash in between leaves a recorded intent that
            # `history` can show, never an unrecorded champion.
            self.call(
                "recording the audit event",
                lambda: self.client.set_registered_model_tag(
                    self.name, f"{AUDIT_PREFIX}{event.seq:06d}", json.dumps(event.to_dict())
                ),
            )
            self.call(
                "moving @champion",
                lambda: self.client.set_registered_model_alias(self.name, CHAMPION, version),
            )
        tags = {
            "podium.champion_since": event.at,
            "podium.champion_by": actor,
            "podium.champion_reason": reason[:4000],
            "podium.champion_action": action,
            "podium.previous_champion": current_version or "",
        }
        if commit:
            tags["podium.champion_commit"] = commit
        self.set_version_tags(version, tags)
        if current_version:
            self.set_version_tags(
                current_version,
                {"podium.retired_at": event.at, "podium.retired_by_version": version},
            )
        return event


def break_token(lock_name: str, holder: str, since: float) -> str:
    """The registered model a breaker creates to own the breaking of one stale lock."""
    digest = hashlib.sha256(f"{holder}|{since}".encode()).hexdigest()[:16]
    return f"{lock_name}.break-{digest}"


def previous_champion(events: list[Event], current: str | None) -> str | None:
    """The champion before the current one, replaying the trail as a stack.

    Promotions push; a rollback to a version already on the stack pops back to it, so
    rolling back twice walks back two champions instead of flip-flopping.
    """
    stack: list[str] = []
    for event in events:
        if event.action == "rollback" and event.version in stack:
            del stack[stack.index(event.version) + 1 :]
        else:
            stack.append(event.version)
    if current is not None and stack and stack[-1] == current:
        stack.pop()
    return stack[-1] if stack else None


def _version(mv: Any) -> Version:
    return Version(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        source=mv.source,
        tags=dict(mv.tags or {}),
        created_ms=mv.creation_timestamp,
    )


def _transient(exc: Exception) -> bool:
    """A busy store (sqlite "database is locked") or a server that asks to retry later."""
    code = getattr(exc, "error_code", "")
    return code == "TEMPORARILY_UNAVAILABLE" or "database is locked" in str(exc)


def _v(version: str | None) -> str:
    return f"v{version}" if version else "unset"


def _short(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]
