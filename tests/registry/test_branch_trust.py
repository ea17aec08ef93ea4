"""Trust and robustness of the branch registry (issue 29): podium writes only its own branch,
every commit holds the whole store, names are git's, faults end in one line.

Real git throughout: a bare repository on disk as origin, commits pushed by "someone else"
from a plain clone of it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.registry import test_git_branch as branch_tests
from tests.registry.test_git_branch import BRANCH, Clone, crowned, git, opened, subjects, tip

# The branch-registry fixtures: a bare origin on disk, clones of a project using it.
origin = branch_tests.origin
clone = branch_tests.clone


@pytest.fixture(autouse=True)
def _no_git_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.registry import git_branch

    monkeypatch.setattr(git_branch, "RETRY_WAIT", 0.0)


IDENTITY = ("-c", "user.name=someone", "-c", "user.email=someone@example.com")


def push_to(origin: Path, branch: str, tmp_path: Path, change: dict[str, str | None]) -> str:
    """Someone else commits `change` (path -> text, None deletes) on `branch` of origin."""
    work = tmp_path / f"someone-{branch.replace('/', '-')}"
    if not work.exists():
        exists = git("--git-dir", str(origin), "branch", "--list", branch)
        if exists:
            git("clone", "-q", "-b", branch, str(origin), str(work))
        else:
            git("init", "-q", "-b", branch, str(work))
            git("remote", "add", "origin", str(origin), cwd=work)
    else:
        git("pull", "-q", "origin", branch, cwd=work)
    for name, text in change.items():
        if text is None:
            git("rm", "-q", name, cwd=work)
        else:
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
            git("add", "-f", name, cwd=work)
    git(*IDENTITY, "commit", "-q", "-m", "someone's change", cwd=work)
    git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- item 1: podium writes only its own branch ----------------------------------------------


def test_the_main_branch_as_registry_is_refused_at_config_time(clone: Clone, origin: Path) -> None:
    project = clone()
    project.update(registry={"git_branch": "main"})

    result = project.cli("train")

    assert result.code == 2
    assert "registry.git_branch 'main' is ci.main_branch" in one_line(result.err)
    assert git("--git-dir", str(origin), "for-each-ref") == ""


def test_a_foreign_branch_is_refused_and_left_as_it_was(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    before = push_to(origin, BRANCH, tmp_path, {"notes.txt": "my notes\n"})
    project = clone()

    for command in ("train", "history"):
        result = project.cli(command)
        assert result.code == 2, result.err
        line = one_line(result.err)
        assert "is not podium's registry" in line and "notes.txt" in line, line
    assert tip(origin) == before
    assert subjects(origin) == ["someone's change"]


def test_origins_default_branch_with_code_is_refused(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    before = push_to(origin, "trunk", tmp_path, {"README.md": "# my project\n"})
    git("--git-dir", str(origin), "symbolic-ref", "HEAD", "refs/heads/trunk")
    project = clone()
    project.update(registry={"git_branch": "trunk"})  # ci.main_branch is 'main'

    result = project.cli("train")

    assert result.code == 2 and "is not podium's registry" in one_line(result.err)
    assert git("--git-dir", str(origin), "rev-parse", "trunk") == before


def test_the_checked_out_branch_is_refused_even_before_it_is_pushed(
    clone: Clone, origin: Path
) -> None:
    project = clone()
    git("checkout", "-q", "-b", "work", cwd=project.root)
    project.update(registry={"git_branch": "work"})

    result = project.cli("train")

    assert result.code == 2, result.err
    assert "is a branch of your code" in one_line(result.err)
    assert git("--git-dir", str(origin), "for-each-ref") == ""


def test_an_empty_branch_is_taken(clone: Clone, origin: Path, tmp_path: Path) -> None:
    work = tmp_path / "empty"
    git("init", "-q", str(work))
    git(*IDENTITY, "commit", "-q", "--allow-empty", "-m", "empty", cwd=work)
    git("push", "-q", str(origin), f"HEAD:refs/heads/{BRANCH}", cwd=work)
    project = clone()

    result = project.cli("train")

    assert result.code == 0, result.err
    assert subjects(origin)[0].startswith("register churn v1")


def test_a_gitignore_on_the_branch_cannot_leave_the_store_out(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    crowned(clone)
    push_to(origin, BRANCH, tmp_path, {".gitignore": "*.db\nartifacts/\n"})
    second = clone()

    result = second.cli("train")

    assert result.code == 0, result.err
    assert subjects(origin)[0].startswith("register churn v2")
    changed = git("--git-dir", str(origin), "show", "--name-only", "--format=", BRANCH)
    assert "mlflow.db" in changed.splitlines()
    assert any(n.startswith("artifacts/") and n.endswith("MLmodel") for n in changed.splitlines())
    third = clone()  # a fresh clone loads v2: its files came along
    registry = opened(third)
    assert registry.load_model(registry.get_version("2")) is not None


def test_the_users_global_excludes_cannot_leave_the_store_out(
    clone: Clone, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    excludes = tmp_path / "ignore"
    excludes.write_text("*.db\n*.json\n")
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\texcludesFile = {excludes}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    project = clone()

    result = project.cli("train")

    assert result.code == 0, result.err
    files = git("--git-dir", str(origin), "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert {"mlflow.db", "podium-registry.json"} <= set(files), files
    monkeypatch.delenv("GIT_CONFIG_GLOBAL")
    assert opened(clone()).versions()[0].version == "1"


def test_a_symlink_on_the_branch_never_makes_podium_write_outside(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    crowned(clone)
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    work = tmp_path / "someone"
    git("clone", "-q", "-b", BRANCH, str(origin), str(work))
    (work / "podium-registry.json").unlink()
    (work / "podium-registry.json").symlink_to(outside)
    git("add", "-A", cwd=work)
    git(*IDENTITY, "commit", "-q", "-m", "a link", cwd=work)
    git("push", "-q", "origin", f"HEAD:{BRANCH}", cwd=work)
    project = clone()

    for command in ("train", "history"):
        result = project.cli(command)
        assert result.code == 2, result.err
        line = one_line(result.err)
        assert "'podium-registry.json' is not a plain file" in line, line
    assert outside.read_text() == "precious\n"
    assert subjects(origin)[0] == "a link"
    copy = project.state / "registry" / BRANCH
    assert git("config", "core.symlinks", cwd=copy) == "false"


# -- item 8: names are git's ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a/.b", "x.lock", "HEAD", "@", "@{-1}", "-x", "a..b", "a b"])
def test_names_git_refuses_are_refused_at_config_time(clone: Clone, name: str) -> None:
    project = clone()
    project.update(registry={"git_branch": name})

    result = project.cli("train")

    assert result.code == 2, result.err
    line = one_line(result.err)
    assert "registry.git_branch" in line and "check-ref-format" in line, line


def test_names_git_accepts_are_accepted() -> None:
    from podium.config import RegistrySection

    for name in ("podium-registry", "ml/registry", "reg.v2", "a_b"):
        assert RegistrySection(git_branch=name).git_branch == name


# -- items 6: bad stores and URIs end in one line, exit 2 or 3 --------------------------------

BAD_URIS = ["ftp://x", "notaurl", "http://[::1"]
COMMANDS = [
    ("history",),
    ("train",),
    ("run",),
    ("rollback", "--reason", "test"),
    ("metrics",),
    ("registry", "export", "--to", "sqlite:///elsewhere.db"),
]


@pytest.mark.parametrize("uri", BAD_URIS)
def test_a_bad_tracking_uri_is_one_line_exit_2_on_every_command(
    make_project: Callable[..., Project], uri: str
) -> None:
    project = make_project()
    for command in COMMANDS:
        result = project.cli(*command, env={"MLFLOW_TRACKING_URI": uri})
        assert result.code == 2, (command, result.err)
        line = one_line(result.err)
        assert "MLFLOW_TRACKING_URI" in line and uri in line, (command, line)


def rewrite_branch(origin: Path, tmp_path: Path, change: Callable[[Path], None]) -> Path:
    """Someone else changes the branch's files with `change(work tree)` and pushes."""
    work = tmp_path / "someone"
    if work.exists():
        git("pull", "-q", "origin", BRANCH, cwd=work)
    else:
        git("clone", "-q", "-b", BRANCH, str(origin), str(work))
    change(work)
    git("add", "-A", "-f", cwd=work)
    git(*IDENTITY, "commit", "-q", "-m", "someone's store", cwd=work)
    git("push", "-q", "origin", f"HEAD:{BRANCH}", cwd=work)
    return work


def garbage(work: Path) -> None:
    (work / "mlflow.db").write_bytes(bytes(range(256)) * 4)


def folder(work: Path) -> None:
    (work / "mlflow.db").unlink()
    (work / "mlflow.db").mkdir()
    (work / "mlflow.db" / "x").write_text("x")


def foreign(work: Path) -> None:
    import sqlite3

    (work / "mlflow.db").unlink()
    with sqlite3.connect(work / "mlflow.db") as connection:
        connection.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    connection.close()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (garbage, "is not a sqlite database"),
        (folder, "is not a file"),
        (foreign, "is a sqlite database but not an MLflow store (tables: customers)"),
    ],
)
def test_a_broken_store_on_the_branch_is_one_line_exit_2(
    clone: Clone, origin: Path, tmp_path: Path, change: Callable[[Path], None], expected: str
) -> None:
    crowned(clone)
    rewrite_branch(origin, tmp_path, change)
    before = tip(origin)
    project = clone()

    for command in ("history", "train", "rollback"):
        result = project.cli(command, *(["--reason", "x"] if command == "rollback" else []))
        assert result.code == 2, (command, result.err)
        line = one_line(result.err)
        assert expected in line and f"registry branch '{BRANCH}'" in line, line
    assert tip(origin) == before


def test_a_broken_local_store_is_one_line_exit_2(make_project: Callable[..., Project]) -> None:
    project = make_project()
    (project.state / "mlflow.db").write_bytes(b"not a database at all" * 50)

    result = project.cli("history")

    assert result.code == 2 and "is not a sqlite database" in one_line(result.err)


def downgrade(db: Path) -> str:
    """Make `db` what the MLflow before the last schema migration wrote; its revision."""
    import sqlalchemy
    from alembic import command
    from mlflow.store.db.utils import _get_alembic_config, _get_schema_version

    url = f"sqlite:///{db}"
    config = _get_alembic_config(url)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
        return str(_get_schema_version(engine))
    finally:
        engine.dispose()


def revision(origin: Path, tmp_path: Path) -> str:
    import sqlite3

    db = tmp_path / "look.db"
    db.write_bytes(
        subprocess.run(
            ["git", "--git-dir", str(origin), "show", f"{BRANCH}:mlflow.db"],
            capture_output=True,
            check=True,
        ).stdout
    )
    with sqlite3.connect(db) as connection:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    connection.close()
    return str(found)


def test_an_older_mlflows_store_is_upgraded_once_and_pushed(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    from podium.registry import sqlite_schema

    crowned(clone)
    old: list[str] = []
    rewrite_branch(origin, tmp_path, lambda work: old.append(downgrade(work / "mlflow.db")))
    assert old[0] != sqlite_schema.head_revision()
    first, second = clone(), clone()

    result = first.cli("history")

    assert result.code == 0, result.err
    log = subjects(origin)
    assert log[0].startswith("upgrade the store to MLflow") and log[1] == "someone's store"
    assert revision(origin, tmp_path) == sqlite_schema.head_revision()
    assert second.cli("history").code == 0
    assert second.cli("train").code == 0
    log = subjects(origin)
    assert [s for s in log if s.startswith("upgrade the store")] == [log[1]], log


def test_a_newer_mlflows_store_is_refused_naming_the_version_to_install(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    import json
    import sqlite3

    crowned(clone)

    def newer(work: Path) -> None:
        with sqlite3.connect(work / "mlflow.db") as connection:
            connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        connection.close()
        meta = json.loads((work / "podium-registry.json").read_text())
        (work / "podium-registry.json").write_text(json.dumps({**meta, "mlflow": "9.1.0"}))

    rewrite_branch(origin, tmp_path, newer)
    before = tip(origin)

    result = clone().cli("train")

    assert result.code == 2, result.err
    line = one_line(result.err)
    assert "written by MLflow 9.1.0" in line and "install mlflow>=9.1.0" in line, line
    assert tip(origin) == before


# -- item 7: git locks left by a killed git child -----------------------------------------------


def killed_holding(copy: Path, args: list[str], lock: Path, stdin: bytes = b"") -> None:
    """Start git in the copy, wait until it holds `lock`, SIGKILL it: the lock stays."""
    import os
    import signal
    import time

    editor = copy / ".git" / "slow-editor.sh"  # git passes it the message file: ignored
    editor.write_text("#!/bin/sh\nsleep 60\n")
    editor.chmod(0o755)
    env = {**os.environ, "GIT_EDITOR": str(editor)}
    proc = subprocess.Popen(
        ["git", *args], cwd=copy, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while not lock.exists():
        assert time.monotonic() < deadline and proc.poll() is None, f"{lock} never taken"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock.exists()


@pytest.mark.parametrize("which", ["index", "ref", "shallow"])
def test_a_lock_left_by_a_killed_git_is_removed_and_named(
    clone: Clone, origin: Path, which: str
) -> None:
    project = crowned(clone)
    copy = project.state / "registry" / BRANCH
    head = git("rev-parse", "HEAD", cwd=copy)
    if which == "index":
        lock = copy / ".git" / "index.lock"
        killed_holding(copy, [*IDENTITY, "commit", "-a", "--allow-empty"], lock)
    elif which == "ref":
        lock = copy / ".git" / "refs" / "podium" / "tip.lock"
        script = f"start\nupdate refs/podium/tip {head}\nprepare\n".encode()
        killed_holding(copy, ["update-ref", "--stdin"], lock, stdin=script)
    else:  # a fetch killed mid-way leaves shallow.lock; git writes it the same way
        lock = copy / ".git" / "shallow.lock"
        lock.write_text(head + "\n")

    result = project.cli("train")

    assert result.code == 0, result.err
    assert f"removed {lock}, a stale git lock" in result.err, result.err
    assert not lock.exists()
    assert subjects(origin)[0].startswith("register churn v2")


# -- item 11: the state folder is ignored, export writes where it is told ------------------------


@pytest.mark.parametrize("first", ["validate", "run"])
def test_the_state_folder_is_ignored_whatever_the_first_command(clone: Clone, first: str) -> None:
    project = clone()
    assert not project.state.exists()

    result = project.cli(first)

    assert result.code == 0, result.err
    assert (project.state / ".gitignore").read_text().splitlines()[-1] == "*"
    untracked = git("status", "--porcelain", "--untracked-files=all", cwd=project.root)
    assert ".podium" not in untracked, untracked


def test_export_to_sqlite_writes_beside_the_file_never_into_mlruns(
    clone: Clone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = crowned(clone)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    target = tmp_path / "exported" / "mlflow.db"
    target.parent.mkdir()

    result = project.cli("registry", "export", "--to", f"sqlite:///{target}")

    assert result.code == 0, result.err
    assert list(elsewhere.iterdir()) == []  # no ./mlruns
    models = list((target.parent / "artifacts").rglob("MLmodel"))
    assert models, list(target.parent.rglob("*"))
    from podium.registry import Registry

    copied = Registry(f"sqlite:///{target}", "churn")
    assert copied.load_model(copied.versions()[0]) is not None


# -- item 4: a lost push race never trains again --------------------------------------------------

# Before training, the command (as a colleague's job would, meanwhile) pushes a commit
# onto the registry branch: podium's push after it loses the race.
RACING_COMMAND = """
import os, subprocess, time
from pathlib import Path

runs = Path(os.environ["RUNS_FILE"])
runs.write_text(runs.read_text() + "ran\\n" if runs.exists() else "ran\\n")
other = os.environ["OTHER_CLONE"]
subprocess.run(["git", "-C", other, "pull", "-q", "origin", os.environ["BRANCH"]], check=True)
subprocess.run(
    ["git", "-C", other, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q",
     "--allow-empty", "-m", "a colleague's change"],
    check=True,
)
subprocess.run(["git", "-C", other, "push", "-q", "origin", "HEAD:" + os.environ["BRANCH"]], check=True)
time.sleep(float(os.environ.get("TRAIN_SECONDS", "0")))
"""


def test_a_registration_that_loses_the_race_is_carried_over_without_training_again(
    clone: Clone, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.stages.test_train_command import NUMPY_SCRIPT, use_command

    crowned(clone)
    other = tmp_path / "colleague"
    git("clone", "-q", "-b", BRANCH, str(origin), str(other))
    runs = tmp_path / "runs.txt"
    monkeypatch.setenv("RUNS_FILE", str(runs))
    monkeypatch.setenv("OTHER_CLONE", str(other))
    monkeypatch.setenv("BRANCH", BRANCH)
    monkeypatch.setenv("TRAIN_SECONDS", "8")
    project = clone()
    use_command(project, RACING_COMMAND + NUMPY_SCRIPT)
    document = project.config()  # the command's own settings: passed by name (model.env)
    document["model"]["env"] = ["RUNS_FILE", "OTHER_CLONE", "BRANCH", "TRAIN_SECONDS"]
    project.write_config(document)

    result = project.cli("train")

    assert result.code == 0, result.err
    assert runs.read_text() == "ran\n"  # the command ran once
    log = subjects(origin)
    assert log[0].startswith("register churn v2") and log[1] == "a colleague's change", log
    registry = opened(clone())
    version = registry.get_version("2")
    assert version.tags["podium.task"] == "classification"
    run = registry.client.get_run(version.run_id)
    assert run.data.params["podium.estimator"].endswith("train.py")
    assert any(k.startswith("train") for k in run.data.metrics), run.data.metrics
    artifacts = {a.path for a in registry.client.list_artifacts(version.run_id, "podium")}
    assert "podium/features.json" in artifacts, artifacts
    assert registry.load_model(version) is not None
    trained = json.loads((project.state / "train.json").read_text())
    assert trained["version"] == "2" and trained["run_id"] == version.run_id
    assert project.cli("evaluate").code in (0, 1)  # judged like any version


# -- item 12: retention on the branch's tip -----------------------------------------------------


def tip_files(origin: Path) -> list[str]:
    return git("--git-dir", str(origin), "ls-tree", "-r", "--name-only", BRANCH).splitlines()


def test_retention_keeps_the_newest_the_champion_and_what_an_alias_holds(
    clone: Clone, origin: Path
) -> None:
    from podium.errors import InputError

    project = crowned(clone)  # v1: the champion
    project.update(registry={"git_branch": BRANCH, "keep_versions": 2})
    for _ in range(4):  # v2 … v5
        result = project.cli("train")
        assert result.code == 0, result.err
    registry = opened(project)
    registry.client.set_registered_model_alias("churn", "staging", "3")  # an environment's
    registry.client.delete_registered_model_alias("churn", "staging")
    versions = {v.version: v for v in registry.versions()}
    assert sorted(versions, key=int) == ["1", "2", "3", "4", "5"]  # metadata stays

    def model_folder(number: str) -> str:
        model_id = versions[number].source.removeprefix("models:/")
        return f"/{model_id}/"

    files = tip_files(origin)
    on_tip = {n for n in versions if any(model_folder(n) in f for f in files)}
    assert on_tip == {"1", "4", "5"}, on_tip  # champion + the newest two
    assert not [f for f in files if f"/{versions['2'].run_id}/" in f]  # its run's files too
    assert registry.client.get_run(versions["2"].run_id).data.params  # its metadata stays
    pruned = versions["2"].tags["podium.pruned_files_in"]
    held = git("--git-dir", str(origin), "ls-tree", "-r", "--name-only", pruned).splitlines()
    assert any(model_folder("2") in f for f in held)  # the files are in that commit
    with pytest.raises(InputError, match=r"v2 of 'churn' has no model files .*keep_versions"):
        registry.load_model(versions["2"])
    assert [e.version for e in registry.history()] == ["1"]  # the audit trail stays
    card = project.cli("card", "--version", "2")  # the card says where its files went
    assert card.code == 0, card.err
    assert (
        f"| model files | off the registry branch's tip (registry.keep_versions); commit `{pruned}`"
        in card.out
    )

    # An alias (an environment's deployment) keeps a version's files.
    project.update(registry={"git_branch": BRANCH, "keep_versions": 1})
    result = project.cli("rollback", "--to", "4", "--force", "--reason", "keep v4")
    assert result.code == 0, result.err
    files = tip_files(origin)
    on_tip = {n for n in versions if any(model_folder(n) in f for f in files)}
    assert on_tip == {"4", "5"}, on_tip  # v1 lost its alias: pruned; v4 holds @champion


def test_a_bad_keep_versions_is_refused(clone: Clone) -> None:
    project = clone()
    project.update(registry={"git_branch": BRANCH, "keep_versions": 0})

    result = project.cli("history")

    assert result.code == 2 and "keep_versions" in one_line(result.err)
