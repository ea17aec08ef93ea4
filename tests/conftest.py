"""Shared fixtures: real sample projects in tmp dirs, real sqlite registries, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest_plugins = ["pytester", "tests.mlflow_server", "tests.scheduling", "tests.tools"]

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

# GitHub Actions variables of the machine running the tests must not leak into podium.
_ACTIONS_VARS = [k for k in os.environ if k.startswith("GITHUB_")] + ["MLFLOW_TRACKING_URI"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in _ACTIONS_VARS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _no_github_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stages build their GitHub client themselves: retry at once against the fake GitHub.

    The retries still happen (and are counted by the fake); a Retry-After the server asks
    for is still waited. Tests of the client pass `retry_delays` themselves.
    """
    from podium.github import GitHub

    defaults = GitHub.__init__.__kwdefaults__
    assert defaults is not None and "retry_delays" in defaults, "GitHub(retry_delays=) renamed?"
    monkeypatch.setitem(defaults, "retry_delays", (0.0,) * len(defaults["retry_delays"]))


@pytest.fixture(autouse=True, scope="session")
def _sqlite_without_fsync() -> None:
    """sqlite stores opened in the test process write without fsync (PRAGMA synchronous=OFF).

    Every MLflow call is its own transaction (~28 commits a `podium run`), and each commit's
    fsync waited ~17 ms on this machine's disk (4 ms without): seconds of a worker's wall
    time per module, for a durability no test can observe — it matters only when the machine
    loses power. Reads, writes, locking and transactions are sqlite's as before; podium
    commands in subprocesses (the races, the act jobs) keep sqlite's defaults.
    """
    import sqlite3

    import sqlalchemy.event
    from sqlalchemy.engine import Engine

    @sqlalchemy.event.listens_for(Engine, "connect")
    def _no_sync(connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA synchronous=OFF")


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    """A sample podium project in a temporary folder."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "podium.yaml"

    def config(self) -> dict[str, Any]:
        loaded = yaml.safe_load(self.config_path.read_text())
        assert isinstance(loaded, dict)
        return loaded

    def write_config(self, document: dict[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))

    def update(self, **sections: Any) -> None:
        """Replace whole sections, e.g. update(gates=[...]) or update(model={...})."""
        document = self.config()
        document.update(sections)
        self.write_config(document)

    def set_estimator(self, cls: str, **params: Any) -> None:
        document = self.config()
        document["model"]["estimator"] = {"class": cls, "params": params}
        document["model"].pop("entrypoint", None)
        self.write_config(document)

    def use_entrypoint(self, source: str, entrypoint: str = "train_model.py:build_model") -> None:
        """Write the entrypoint file and point model.entrypoint at it (no estimator)."""
        (self.root / entrypoint.split(":")[0]).write_text(source)
        document = self.config()
        document["model"].pop("estimator", None)
        document["model"]["entrypoint"] = entrypoint
        self.write_config(document)

    def expect_tenure_below(self, limit: int) -> None:
        """Point data.expectations at a GX suite with one rule on tenure_months."""
        import json

        rule = {"column": "tenure_months", "min_value": 0, "max_value": limit}
        suite = {
            "name": "churn",
            "expectations": [{"type": "expect_column_values_to_be_between", "kwargs": rule}],
        }
        (self.root / "suite.json").write_text(json.dumps(suite))
        document = self.config()
        document["data"]["expectations"] = "suite.json"
        self.write_config(document)

    @property
    def state(self) -> Path:
        return self.root / ".podium"

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run `podium ARGS --config podium.yaml` in-process (fast: MLflow stays imported)."""
        return run_cli([*args, "--config", str(self.config_path)], env=env)


def state_json(project: Project, name: str) -> dict[str, Any]:
    """A stage's result file, e.g. state_json(project, "evaluation.json")."""
    import json

    loaded = json.loads((project.state / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def run_cli(args: list[str], env: dict[str, str] | None = None) -> Result:
    import contextlib
    import io

    from podium.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exit_:  # argparse usage errors
                code = int(exit_.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Result(code, out.getvalue(), err.getvalue())


def run_subprocess(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> Result:
    """Run the real console entry point in a fresh interpreter."""
    full_env = {k: v for k, v in os.environ.items() if k not in _ACTIONS_VARS}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "podium", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


# On the fixture data (1,200 train / 600 eval rows) a stump scores roc_auc ≈ 0.66 and a
# depth-3 tree ≈ 0.80: a weak champion and a clearly better challenger, both fit in ms.
WEAK = "sklearn.tree.DecisionTreeClassifier"
WEAK_PARAMS = {"max_depth": 1}
STRONG = "sklearn.tree.DecisionTreeClassifier"
STRONG_PARAMS = {"max_depth": 3}
USELESS = "sklearn.dummy.DummyClassifier"  # roc_auc 0.5: fails `min: 0.6`


@pytest.fixture(scope="session")
def sample_tables() -> tuple[Any, Any]:
    from podium.sample import churn_tables

    return churn_tables(train_rows=1200, eval_rows=600)


# -- sqlite MLflow stores: migrated once per session, copied per project ----------------------
#
# A new sqlite store costs seconds of schema migrations; a copy of a migrated one opens in
# ~0.04 s with no migration. The template holds the schema only: MLflow writes absolute
# artifact paths into experiments, so it has none (it adds its Default experiment, as on a
# new store, when the copy is first opened).

_SCHEMA_ONLY = {"alembic_version", "workspaces", "sqlite_sequence"}  # rows no path is in


def make_store_template(db: Path) -> Path:
    """Create an empty, fully migrated sqlite MLflow store at `db` (no experiment, no run)."""
    import sqlite3
    from contextlib import closing

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    uri = f"sqlite:///{db}"
    store = SqlAlchemyStore(uri, str(db.parent / "unused-artifacts"))
    store.engine.dispose()  # closes its connections; this URI is never opened again
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("DELETE FROM experiments")  # the Default one, at an absolute path
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        filled = [
            name
            for name in tables
            if name not in _SCHEMA_ONLY
            and connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        ]
    assert not filled, f"the store template must hold no data: {filled}"
    with closing(sqlite3.connect(db)) as connection:
        connection.execute("VACUUM")
    assert str(db.parent).encode() not in db.read_bytes(), "a path in the store template"
    return db


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty migrated sqlite MLflow store, made once per session; copy it with seed_store."""
    return make_store_template(tmp_path_factory.mktemp("store-template") / "mlflow.db")


def seed_store(db: Path, template: Path) -> None:
    """Put a copy of the migrated template at `db` unless a store is already there."""
    import shutil

    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, db)


def sqlite_path(tracking_uri: str, root: Path) -> Path | None:
    """The file of a sqlite tracking URI (relative ones to the project, as podium resolves)."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return root / tracking_uri.removeprefix("sqlite:///")  # an absolute path stays itself


@pytest.fixture
def make_project(
    tmp_path: Path, sample_tables: tuple[Any, Any], store_template: Path
) -> Callable[..., Project]:
    """A churn project (classification) with a fast estimator; override what a test needs.

    Its sqlite store is seeded from the migrated template; `seeded=False` leaves none, as a
    new project has, for the tests that a store is (or is not) created.
    """
    counter = iter(range(1000))

    def factory(
        estimator: str = WEAK,
        params: dict[str, Any] | None = None,
        gates: list[dict[str, Any]] | None = None,
        tracking_uri: str = "sqlite:///.podium/mlflow.db",
        name: str = "churn",
        seeded: bool = True,
    ) -> Project:
        return write_sample_project(
            tmp_path / f"project{next(counter)}",
            sample_tables,
            estimator=estimator,
            params=params,
            gates=gates,
            tracking_uri=tracking_uri,
            name=name,
            store_template=store_template if seeded else None,
        )

    return factory


def write_sample_project(
    root: Path,
    tables: tuple[Any, Any],
    *,
    estimator: str = WEAK,
    params: dict[str, Any] | None = None,
    gates: list[dict[str, Any]] | None = None,
    tracking_uri: str | None = None,
    name: str = "churn",
    store_template: Path | None = None,
) -> Project:
    """The churn sample data and a podium.yaml in `root` (tracking_uri None: the default).

    With `store_template`, a sqlite store is seeded from it (see `seed_store`).
    """
    (root / "data").mkdir(parents=True)
    train, evaluation = tables
    train.to_csv(root / "data" / "train.csv", index=False)
    evaluation.to_csv(root / "data" / "eval.csv", index=False)
    document: dict[str, Any] = {
        "model": {
            "name": name,
            "task": "classification",
            "estimator": {
                "class": estimator,
                "params": params if params is not None else dict(WEAK_PARAMS),
            },
        },
        "data": {
            "train": "data/train.csv",
            "eval": "data/eval.csv",
            "target": "churned",
            "exclude": ["customer_id"],
        },
        "gates": gates
        if gates is not None
        else [{"metric": "roc_auc", "min": 0.6, "min_delta": -0.01}],
    }
    if tracking_uri is not None:
        document["registry"] = {"tracking_uri": tracking_uri}
    project = Project(root)
    project.write_config(document)
    db = sqlite_path(tracking_uri or "sqlite:///.podium/mlflow.db", root)
    if store_template is not None and db is not None:
        seed_store(db, store_template)
    return project


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project()


# -- a crowned project: built once per session, copied per test --------------------------------
#
# Many tests need "a project whose v1 is champion" before the part they are about; a
# `podium run` costs seconds, a copy milliseconds. Two things make a plain copy wrong:
# MLflow and podium write the project's ABSOLUTE path (the store's artifact locations,
# MLmodel files, the stage results), and MLflow caches per process by run and model id
# (an artifact repository per run id: a copy's write would land in the template). So
# `copy_project` moves the paths and gives every run and logged model a new id, in the
# store, in the text files and in the folder names: the copy is what `podium run` would
# have left in its own folder (only the timestamps are the template's).


@pytest.fixture(scope="session")
def champion_template(
    tmp_path_factory: pytest.TempPathFactory, sample_tables: tuple[Any, Any], store_template: Path
) -> Project:
    """`make_project()` after `podium run`: v1 trained, evaluated, promoted. Copy, never edit."""
    project = write_sample_project(
        tmp_path_factory.mktemp("champion-template") / "project",
        sample_tables,
        tracking_uri="sqlite:///.podium/mlflow.db",
        store_template=store_template,
    )
    with pytest.MonkeyPatch.context() as patch:  # the function-scoped env cleaner is not active
        for key in _ACTIONS_VARS:
            patch.delenv(key, raising=False)
        result = project.cli("run")
    assert result.code == 0, result.err
    return project


@pytest.fixture
def champion_project(champion_template: Project, tmp_path: Path) -> Project:
    """A project whose v1 is champion (trained, evaluated and promoted by `podium run`)."""
    return copy_project(champion_template, tmp_path / "champion")


def copy_project(source: Project, root: Path) -> Project:
    """A copy of `source` at `root`: its paths moved, new run and logged-model ids."""
    import shutil
    import sqlite3
    import uuid
    from contextlib import closing

    db = sqlite_path(source.config()["registry"]["tracking_uri"], source.root)
    moved = {str(source.root): str(root)}
    if db is not None and db.exists():
        with closing(sqlite3.connect(db)) as connection:
            runs = [row[0] for row in connection.execute("SELECT run_uuid FROM runs")]
            models = [row[0] for row in connection.execute("SELECT model_id FROM logged_models")]
        moved |= {run: uuid.uuid4().hex for run in runs}
        moved |= {model: f"m-{uuid.uuid4().hex}" for model in models}

    def renamed(text: str) -> str:
        for old, new in moved.items():
            text = text.replace(old, new)
        return text

    shutil.copytree(source.root, root)
    digests: dict[str, str] = {}  # a rewritten file's sha256 before -> after
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):  # deepest first
        if path.is_file() and path.suffix != ".db":
            data = path.read_bytes()
            if any(old.encode() in data for old in moved):
                # A text file; a binary one (a pickle) holding a path or an id fails here.
                path.write_text(renamed(data.decode("utf-8")))
                digests[_sha256(data)] = _sha256(path.read_bytes())
        if renamed(path.name) != path.name:  # an artifact folder named by its run or model
            path.rename(path.with_name(renamed(path.name)))
    # A model's MLmodel names its run and logged model: the copy's files are re-recorded
    # (the digest lists on the runs, and their digests in the version tags), as podium
    # would have recorded them had it registered the copy.
    from podium.registry import integrity

    for listed in root.rglob(Path(integrity.MANIFEST).name):
        manifest = json.loads(listed.read_text())
        updated = {name: digests.get(value, value) for name, value in manifest.items()}
        if updated != manifest:
            listed.write_text(json.dumps(updated))
            moved[integrity.manifest_digest(manifest)] = integrity.manifest_digest(updated)
    copied = sqlite_path(source.config()["registry"]["tracking_uri"], root)
    if copied is not None and copied.exists():
        # Foreign keys are not enforced (sqlite's default): every column is updated alike.
        with closing(sqlite3.connect(copied)) as connection, connection:
            tables = [
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                for column in list(connection.execute(f'PRAGMA table_info("{table}")')):
                    for old, new in moved.items():
                        connection.execute(
                            f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?) '
                            f'WHERE instr("{column[1]}", ?) > 0',
                            (old, new, old),
                        )
        with closing(sqlite3.connect(copied)) as connection:
            connection.execute("VACUUM")  # no old value left in a free page
        left = [old for old in moved if old.encode() in copied.read_bytes()]
        assert not left, f"the copy's store still holds {left}"
    return Project(root)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry_of() -> Iterator[Callable[[Project], Any]]:
    """Open the project's registry the way podium does, for assertions."""

    def opener(project: Project) -> Any:
        from podium.config import load
        from podium.registry import Registry

        config = load(project.config_path)
        return Registry(config.tracking_uri, config.model.name)

    yield opener
