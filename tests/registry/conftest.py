"""Fixtures for the registry package: a shared sqlite store, and no real waits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import seed_store


@pytest.fixture(autouse=True)
def _no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries retry at once: tests prove the protocol, not the length of a backoff."""
    from podium.registry import lock

    monkeypatch.setattr(lock, "WAIT_FIRST", 0.0)
    monkeypatch.setattr(lock, "RELEASE_WAIT", 0.0)


@pytest.fixture(scope="package")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> str:
    """One sqlite store for the lock tests, seeded from the migrated template."""
    db = tmp_path_factory.mktemp("locks") / "mlflow.db"
    seed_store(db, store_template)
    return f"sqlite:///{db}"


@pytest.fixture
def registry_client(sqlite_uri: str, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Registry clients (as separate processes would hold) on a model named after the test."""
    from podium.registry import Registry

    name = request.node.name.removeprefix("test_")[:60]
    return lambda: Registry(sqlite_uri, name)


def lock_models(registry: Any) -> dict[str, dict[str, str]]:
    """The lock and breaker-token models of `registry` (name → tags) that exist now."""
    from podium.registry import LOCK_SUFFIX

    found = registry.client.search_registered_models(f"name LIKE '{registry.name}{LOCK_SUFFIX}%'")
    return {m.name: dict(m.tags) for m in found}
