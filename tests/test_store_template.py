"""The migrated store template of tests/conftest.py: a copy opens as a new store would."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import seed_store


def _rows(db: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute(query).fetchall()


def _migrations_logged(db: Path) -> list[str]:
    """Open `db` as podium does and return what MLflow logged about creating its tables."""
    from podium.registry import Registry

    seen: list[str] = []

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("mlflow.store.db.utils")
    sink, level = Sink(), logger.level
    logger.addHandler(sink)
    logger.setLevel(logging.INFO)
    try:
        Registry(f"sqlite:///{db}", "churn").client.search_experiments()
    finally:
        logger.removeHandler(sink)
        logger.setLevel(level)
    return [message for message in seen if "database tables" in message]


def test_the_template_holds_a_schema_and_no_data(store_template: Path) -> None:
    assert _rows(store_template, "SELECT count(*) FROM experiments") == [(0,)]
    assert _rows(store_template, "SELECT count(*) FROM runs") == [(0,)]
    assert _rows(store_template, "SELECT count(*) FROM registered_models") == [(0,)]
    assert len(_rows(store_template, "SELECT version_num FROM alembic_version")) == 1


def test_a_seeded_store_opens_without_migrations_as_a_new_store_would(
    store_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import sqlite_schema

    seeded, fresh = tmp_path / "seeded" / "mlflow.db", tmp_path / "fresh" / "mlflow.db"
    seed_store(seeded, store_template)

    assert _migrations_logged(seeded) == []
    # A store MLflow makes from nothing (not from podium's recorded schema): migrated.
    monkeypatch.setattr(sqlite_schema, "SCHEMAS", tmp_path / "none recorded")
    assert _migrations_logged(fresh)  # what the check would see on a store made from nothing

    query = "SELECT experiment_id, name FROM experiments"
    assert _rows(seeded, query) == _rows(fresh, query) == [(0, "Default")]
    version = "SELECT version_num FROM alembic_version"
    assert _rows(seeded, version) == _rows(fresh, version) == _rows(store_template, version)
    location = "SELECT artifact_location FROM experiments"
    assert _rows(seeded, location) == _rows(fresh, location)  # written on opening, not copied
