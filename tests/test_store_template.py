"""The templates of tests/conftest.py: a copy of the migrated store opens as a new store
would, and a copy of the crowned project is a project of its own."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project, copy_project, seed_store, state_json


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


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_copy_of_the_crowned_project_is_a_project_of_its_own(
    champion_template: Project, tmp_path: Path, registry_of: Any
) -> None:
    template = _files(champion_template.root)
    copy = copy_project(champion_template, tmp_path / "copy")
    for name, data in _files(copy.root).items():
        assert str(champion_template.root).encode() not in data, name
    # New run ids (MLflow caches an artifact repository per run id for the whole process):
    # writing to the copy's champion run leaves the template alone.
    run_id = state_json(copy, "evaluation.json")["challenger"]["run_id"]
    assert run_id != state_json(champion_template, "evaluation.json")["challenger"]["run_id"]
    registry = registry_of(copy)
    assert registry.champion().run_id == run_id
    registry.log_json(run_id, {"written": "to the copy"}, "podium/extra.json")
    assert registry.run_json(run_id, "podium/extra.json") == {"written": "to the copy"}
    assert list(copy.state.rglob("extra.json"))
    assert _files(champion_template.root) == template
    # …and the copy works on: a run against its champion.
    assert copy.cli("run", "--no-promote").code == 0
    assert state_json(copy, "evaluation.json")["champion"]["version"] == "1"
