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

import functools
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


SQLITE_HEADER = b"SQLite format 3\x00"
CURRENT, OLDER = "current", "older"


def store_state(db: Path, where: str, *, written_by: str | None = None) -> str:
    """Whether the MLflow sqlite store at `db` opens with the installed MLflow: CURRENT, or
    OLDER (an older MLflow wrote it: upgradable). Anything else is DataError (exit 2), one
    line naming `where`: not a file, not sqlite, not MLflow's schema, or a schema from a
    newer MLflow (`written_by`, when known, is the version to install)."""
    from podium.errors import DataError

    if not db.is_file():
        raise DataError(f"{where} is not a file (a folder?); it must be MLflow's sqlite store")
    with db.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER and db.stat().st_size > 0:
        raise DataError(
            f"{where} is not a sqlite database (its first bytes are {header[:8]!r}); it must "
            "be MLflow's store: restore it from an earlier commit or remove it"
        )
    try:
        read_only = f"{db.resolve().as_uri()}?mode=ro"  # percent-encoded: any file name
        with closing(sqlite3.connect(read_only, uri=True)) as connection:
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            rows = (
                connection.execute("SELECT version_num FROM alembic_version").fetchall()
                if "alembic_version" in tables
                else []
            )
    except sqlite3.Error as exc:
        raise DataError(f"{where} cannot be read as sqlite ({exc}); restore it") from None
    if not tables:
        return CURRENT  # an empty file: MLflow creates its tables in it
    if not rows or "experiments" not in tables:
        shown = ", ".join(sorted(tables)[:4])
        raise DataError(
            f"{where} is a sqlite database but not an MLflow store (tables: {shown}); "
            "point podium at MLflow's store, or remove this file"
        )
    revision = str(rows[0][0])
    if revision == head_revision():
        return CURRENT
    if known_revision(revision):
        return OLDER
    from importlib.metadata import version

    by = f"MLflow {written_by}" if written_by else "a newer MLflow"
    install = f"mlflow>={written_by}" if written_by else "a newer mlflow (pip install -U mlflow)"
    raise DataError(
        f"{where} was written by {by} (schema revision {revision}, unknown to the installed "
        f"MLflow {version('mlflow')}); install {install} and run this again"
    )


@functools.cache
def head_revision() -> str:
    """The schema revision the installed MLflow writes (from the recorded schema: fast)."""
    import re

    recorded = schema_file(versions())
    if recorded.is_file():
        found = re.search(
            r"INSERT INTO \"?alembic_version\"? VALUES\('(\w+)'\)",
            recorded.read_text(encoding="utf-8"),
        )
        if found:
            return found.group(1)
    from mlflow.store.db.utils import _get_latest_schema_revision

    return str(_get_latest_schema_revision())  # type: ignore[no-untyped-call]


def known_revision(revision: str) -> bool:
    """Whether the installed MLflow's migrations know `revision` (an older schema)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from mlflow.store.db.utils import _get_alembic_config

    script = ScriptDirectory.from_config(_get_alembic_config(db_url=""))  # type: ignore[no-untyped-call]
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(db: Path) -> None:
    """Run MLflow's own migrations on an older store (`mlflow db upgrade`)."""
    import sqlalchemy
    from mlflow.store.db.utils import _upgrade_db

    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    try:
        _upgrade_db(engine)  # type: ignore[no-untyped-call]
    finally:
        engine.dispose()


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
