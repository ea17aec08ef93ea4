"""A new local sqlite store, written from the schema MLflow's own migrations produced.

Creating an MLflow sqlite store runs every schema migration MLflow has ever had (~70
alembic revisions, most of them table rebuilds on sqlite): 1–3 s of CPU for every new
project, each `podium demo` and every first `podium train`. What that produces depends
only on the code that runs it — MLflow's migrations, SQLAlchemy's and alembic's DDL and
the sqlite library — so for exactly the versions it was recorded with, podium writes the
recorded result instead: `schemas/<versions>.sql`, MLflow's own output (its
`_initialize_tables` on an empty file) dumped by `python -m podium.registry.sqlite_schema`.
tests/registry/test_sqlite_schema.py compares a written store with one MLflow creates,
table by table, row by row (up to the order of a table's CHECK constraints, which
MLflow's own migrations vary from process to process). Any other combination of versions: MLflow creates the store
itself, as it always did.

Only the migrations are skipped: MLflow opens the written file as any existing store
(checks the schema revision, creates the Default experiment), so what it holds after
that is what a store MLflow created would hold.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

SCHEMAS = Path(__file__).parent / "schemas"
PACKAGES = ("mlflow", "sqlalchemy", "alembic")


def versions() -> dict[str, str]:
    """Everything the migrated schema depends on: the packages' and sqlite's versions."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"sqlite": sqlite3.sqlite_version}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "missing"
    return found


def schema_file(of: dict[str, str]) -> Path:
    """Where the recorded schema for these versions is (or would be) kept."""
    name = "_".join(f"{key}-{of[key]}" for key in (*PACKAGES, "sqlite"))
    return SCHEMAS / f"{name}.sql"


def create(db: Path, *, of: dict[str, str] | None = None) -> bool:
    """Write a new store at `db` from the schema recorded for the installed versions.

    False (nothing written) when `db` exists or no schema was recorded for these
    versions: MLflow then opens or creates the store itself. Another process creating
    the same store meanwhile wins; its file is left alone.
    """
    if db.exists():
        return False
    recorded = schema_file(versions() if of is None else of)
    if not recorded.is_file():
        return False
    db.parent.mkdir(parents=True, exist_ok=True)
    scratch = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(scratch)) as connection:
            connection.executescript(recorded.read_text(encoding="utf-8"))
        os.link(scratch, db)  # never replaces a store someone else just created
    except (OSError, sqlite3.Error):  # created meanwhile, no hard links, not writable…:
        return False  # MLflow creates it (or says why it cannot)
    finally:
        scratch.unlink(missing_ok=True)
    return True


def record(folder: Path = SCHEMAS) -> Path:
    """Let MLflow create an empty store and keep its schema for the installed versions."""
    import tempfile

    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables

    target = folder / schema_file(versions()).name
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "mlflow.db"
        engine = sqlalchemy.create_engine(f"sqlite:///{db}")
        try:
            _initialize_tables(engine)  # type: ignore[no-untyped-call]  # what a new SqlAlchemyStore runs
        finally:
            engine.dispose()
        with closing(sqlite3.connect(db)) as connection:
            dump = "\n".join(connection.iterdump())
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(dump + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    written = record(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMAS)
    print(f"recorded MLflow's sqlite schema for {versions()} in {written}")
