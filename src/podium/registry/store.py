"""What the lock, the audit trail and the champion move need of a registry store.

`Store` is the adapter's small interface (`mlflow_store.Registry` implements it; a
store kept somewhere else is one more implementation): a registered model's tags and
birth, creating and deleting a registered model (names are unique: creating is the
lock's atomic step), tagging, and reading and moving `@champion`. The records it
speaks in (`Version`, `ModelEntry`) and the retry-later error (`Busy`) live here too,
so the modules above the adapter import this one and never the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from podium.errors import ServiceError


class Busy(ServiceError):
    """The store asked to be retried later (sqlite "database is locked", HTTP 503).

    Raised like any ServiceError (same message, exit 3); the lock catches it to retry.
    """


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
class ModelEntry:
    """A registered model as the lock and the audit trail see it: its tags and birth."""

    name: str
    tags: dict[str, str]
    created_ms: int


class Store(Protocol):
    """One registered model in one store: the operations lock, audit and champion use."""

    name: str

    def registered_model(self, name: str, what: str) -> ModelEntry | None: ...

    def create_model(
        self, name: str, what: str, *, description: str, tags: dict[str, str] | None = None
    ) -> bool: ...

    def delete_model(self, name: str, what: str) -> None: ...

    def set_model_tag(self, key: str, value: str, what: str) -> None: ...

    def champion(self) -> Version | None: ...

    def set_champion(self, version: str) -> None: ...

    def set_version_tags(self, version: str, tags: dict[str, str]) -> None: ...
