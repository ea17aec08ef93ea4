"""The model registry: podium's champion/challenger state, kept in MLflow.

Champion = the `champion` alias of the registered model. MLflow keeps no history of
alias moves and has no compare-and-set, so podium adds both. One concern per module:

- mlflow_store: the MLflow adapter (`Registry`): versions, aliases, tags, runs,
  artifacts, candidate logging, and MLflow errors translated into podium's.
- lock:     the promotion lock, a lease made of one registered model `<name>.podium-lock`.
- audit:    the audit trail of champion moves (`podium.audit.NNNNNN` tags).
- champion: moving `@champion` — compare-and-set under the lock, audited.
- store:    the `Store` interface those three use, its records and `Busy`.
- tags:     every name podium writes into MLflow, and the one parser of `podium.features`.
- env:      MLflow's process settings (quiet logs, no telemetry, bounded HTTP retries).

Which store a project uses is decided in one place, `podium.stages.open_registry`.
A store kept somewhere else (say, MLflow's sqlite file on a git branch) is one more
module beside mlflow_store; the lock, the audit trail and the champion move only use
the adapter's small operations, written down as `store.Store` (`registered_model`,
`create_model`, `delete_model`, `set_model_tag`, `champion`, `set_champion`,
`set_version_tags`); they import that interface, never the adapter.
"""

from __future__ import annotations

from podium.registry.audit import Event, previous_champion
from podium.registry.env import quiet_mlflow
from podium.registry.lock import LOCK_STALE_SECONDS, LOCK_SUFFIX, break_token
from podium.registry.mlflow_store import Registry
from podium.registry.store import Store, Version
from podium.registry.tags import AUDIT_PREFIX, CHAMPION, read_feature_types

__all__ = [
    "AUDIT_PREFIX",
    "CHAMPION",
    "LOCK_STALE_SECONDS",
    "LOCK_SUFFIX",
    "Event",
    "Registry",
    "Store",
    "Version",
    "break_token",
    "previous_champion",
    "quiet_mlflow",
    "read_feature_types",
]
