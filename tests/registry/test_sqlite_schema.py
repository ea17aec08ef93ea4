"""A new sqlite store written from MLflow's recorded schema is the store MLflow creates."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from podium.registry import sqlite_schema

PRAGMAS = ("page_size", "user_version", "application_id", "auto_vacuum", "encoding")


def _statement(sql: str | None) -> list[str]:
    """A CREATE statement as its sorted clauses: MLflow's own migrations write a table's
    CHECK constraints in an order that changes from process to process (the `runs` table:
    hash order in alembic's table rebuild), so the order is not part of what it creates."""
    return sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())


def _contents(db: Path) -> tuple[Any, ...]:
    """Every schema object's SQL, every table's rows and the file's settings."""
    with closing(sqlite3.connect(db)) as connection:
        master = sorted(
            (kind, name, table, _statement(sql))
            for kind, name, table, sql in connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        )
        rows = {
            name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for kind, name, _, _ in master
            if kind == "table"
        }
        pragmas = [connection.execute(f"PRAGMA {p}").fetchall() for p in PRAGMAS]
    return master, rows, pragmas


@contextmanager
def _mlflow_log() -> Iterator[list[str]]:
    """What MLflow logs about creating or migrating a store's tables."""
    seen: list[str] = []

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("mlflow.store.db.utils")
    sink, level = Sink(), logger.level
    logger.addHandler(sink)
    logger.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        logger.removeHandler(sink)
        logger.setLevel(level)


def test_a_schema_is_recorded_for_the_pinned_versions() -> None:
    recorded = sqlite_schema.schema_file(sqlite_schema.versions())
    assert recorded.is_file(), (
        f"no recorded MLflow schema for {sqlite_schema.versions()}: every new store pays "
        "MLflow's migrations; record it with `python -m podium.registry.sqlite_schema`"
    )


def test_the_written_store_is_the_store_mlflow_creates(tmp_path: Path) -> None:
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables

    by_mlflow, written = tmp_path / "mlflow" / "mlflow.db", tmp_path / "podium" / "mlflow.db"
    by_mlflow.parent.mkdir()
    engine = sqlalchemy.create_engine(f"sqlite:///{by_mlflow}")
    _initialize_tables(engine)  # what a new SqlAlchemyStore runs on an empty file
    engine.dispose()

    assert sqlite_schema.create(written)
    assert _contents(written) == _contents(by_mlflow)
    assert not list(written.parent.glob(".*.tmp"))  # the scratch file is gone


def test_a_new_registry_opens_the_written_store_without_migrations(tmp_path: Path) -> None:
    from podium.registry import Registry

    db = tmp_path / ".podium" / "mlflow.db"
    with _mlflow_log() as logged:
        registry = Registry(f"sqlite:///{db}", "churn")
        experiment = registry.experiment_id("churn", tmp_path / "artifacts")
        registry.create_model("churn", "registering", description="d")
    assert not [line for line in logged if "database tables" in line]
    assert registry.registered_model("churn", "reading") is not None
    with closing(sqlite3.connect(db)) as connection:
        names = connection.execute("SELECT experiment_id, name FROM experiments").fetchall()
    assert sorted(names) == [(0, "Default"), (int(experiment), "churn")]


def test_an_existing_store_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"someone else's store")
    assert not sqlite_schema.create(db)
    assert db.read_bytes() == b"someone else's store"


def test_a_schema_sqlite_refuses_leaves_the_store_to_mlflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_schema, "SCHEMAS", tmp_path / "schemas")
    broken = sqlite_schema.schema_file(sqlite_schema.versions())
    broken.parent.mkdir()
    broken.write_text("CREATE TABLE half (id INTEGER);\nnot sql at all;\n")
    db = tmp_path / "store" / "mlflow.db"
    assert not sqlite_schema.create(db)
    assert list(db.parent.iterdir()) == []  # neither a store nor the scratch file


def test_other_versions_leave_the_store_to_mlflow(tmp_path: Path) -> None:
    other = {**sqlite_schema.versions(), "mlflow": "0.0.1"}
    db = tmp_path / "mlflow.db"
    assert not sqlite_schema.create(db, of=other)
    assert not db.exists()


def test_without_a_recorded_schema_mlflow_creates_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import Registry

    monkeypatch.setattr(sqlite_schema, "SCHEMAS", tmp_path / "none recorded")
    with _mlflow_log() as logged:
        Registry(f"sqlite:///{tmp_path / 'mlflow.db'}", "churn").check_reachable()
    assert [line for line in logged if "database tables" in line]
