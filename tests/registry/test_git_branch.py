"""The registry kept on a git branch of origin: real git, a bare repository on disk as origin.

Each "clone" is a sample project in its own folder, a git repository whose `origin` is the
same bare repository, as two developers' checkouts (or two runners) would be.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, Project, Result

BRANCH = "podium-registry"
Clone = Callable[..., Project]


@pytest.fixture(autouse=True)
def _no_git_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.registry import git_branch

    monkeypatch.setattr(git_branch, "RETRY_WAIT", 0.0)


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare))
    return bare


@pytest.fixture
def clone(make_project: Callable[..., Project], origin: Path) -> Clone:
    """A project whose registry is `registry.git_branch` of `origin`."""

    def make(estimator: str = STRONG, params: dict[str, Any] | None = None) -> Project:
        project = make_project(estimator, params or STRONG_PARAMS, seeded=False)
        document = project.config()
        document["registry"] = {"git_branch": BRANCH}
        project.write_config(document)
        git("init", "-q", cwd=project.root)
        git("remote", "add", "origin", str(origin), cwd=project.root)
        return project

    return make


def subjects(origin: Path) -> list[str]:
    """The branch's commit subjects, newest first ([] when there is no branch)."""
    refs = git("--git-dir", str(origin), "for-each-ref", "--format=%(refname)")
    if f"refs/heads/{BRANCH}" not in refs.split():
        return []
    return git("--git-dir", str(origin), "log", "--format=%s", BRANCH).splitlines()


def tip(origin: Path) -> str | None:
    proc = subprocess.run(
        ["git", "--git-dir", str(origin), "rev-parse", "-q", "--verify", f"refs/heads/{BRANCH}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None


def opened(project: Project) -> Any:
    """The project's registry, opened the way every stage opens it (fetched first)."""
    from podium.config import load
    from podium.stages import open_registry

    return open_registry(load(project.config_path))


def crowned(clone: Clone) -> Project:
    """A clone that has run the loop once: v1 is the champion, on the branch."""
    first = clone()
    result = first.cli("run")
    assert result.code == 0, result.err
    return first


def test_run_registers_evaluates_and_crowns_on_the_branch_one_commit_each(
    clone: Clone, origin: Path
) -> None:
    project = clone()
    assert subjects(origin) == []

    result = project.cli("run")

    assert result.code == 0, result.err
    log = subjects(origin)
    assert len(log) == 4, log
    assert log[3].startswith("register churn v1 (")
    assert log[2] == "evaluate churn v1 against absolute bounds: passed"
    assert log[1].startswith("promote churn v1 (first champion): gates passed")
    assert log[0] == "model card of churn v1"  # written once the move is pushed
    files = git("--git-dir", str(origin), "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert {"mlflow.db", "podium-registry.json", "README.md"} <= set(files)
    assert any(f.endswith("/MLmodel") for f in files), files
    # The report says which registry it used.
    assert f"registry `git branch {BRANCH}`" in (project.state / "report.md").read_text()
    # The user's repository is untouched: no ref, nothing staged, the copy ignored.
    assert git("for-each-ref", cwd=project.root) == ""
    assert git("diff", "--cached", "--name-only", cwd=project.root) == ""
    untracked = git("ls-files", "--others", "--exclude-standard", cwd=project.root).splitlines()
    assert not [p for p in untracked if p.startswith(".podium/registry")], untracked


def test_a_version_loads_from_a_clone_somewhere_else(clone: Clone, origin: Path) -> None:
    first = crowned(clone)
    second = clone()  # another folder: MLflow's stored artifact paths are the first's
    assert first.root != second.root

    registry = opened(second)

    champion = registry.champion()
    assert champion is not None and champion.version == "1"
    model = registry.load_model(champion)
    frame = __import__("pandas").read_csv(second.root / "data" / "eval.csv")
    assert len(model.predict(frame.drop(columns=["churned", "customer_id"]))) == len(frame)
    run = registry.client.get_run(champion.run_id)
    here = (second.state / "registry" / BRANCH).as_uri()
    assert run.info.artifact_uri.startswith(here + "/"), run.info.artifact_uri
    history = second.cli("history")
    assert history.code == 0 and "promote  v1" in history.out, history.out
    metrics = second.cli("metrics", "--json")  # delivery metrics read the branch too
    assert metrics.code == 0, metrics.err
    delivered = json.loads(metrics.out)
    assert delivered["promotions"] == 1
    assert delivered["candidates"] == 1  # its verdict tag: evaluate's change was pushed too


def test_no_branch_yet_is_an_empty_registry(clone: Clone, origin: Path) -> None:
    project = clone()

    history = project.cli("history")
    pulled = project.cli("registry", "pull", "--json")

    assert history.code == 0 and "no champion moves recorded yet" in history.out
    assert pulled.code == 0, pulled.err
    uri = json.loads(pulled.out)["tracking_uri"]
    assert uri == f"sqlite:///{project.state / 'registry' / BRANCH / 'mlflow.db'}"
    assert subjects(origin) == []  # reading never creates the branch


def test_fresh_processes_validate_train_and_evaluate_before_and_after_the_branch_exists(
    clone: Clone,
) -> None:
    """Each stage as its own process, as in a workflow job: MLflow is imported on a second
    thread while the data is read (podium.warmup); the branch's first copy then imports
    MLflow's store on the main thread. Imported from both threads at once, one of them
    got a half-initialised `mlflow` (act caught it: "partially initialized module 'mlflow'
    has no attribute 'version'")."""
    import subprocess
    import sys

    project = clone()
    for stage in ("validate", "train", "evaluate", "validate"):
        done = subprocess.run(
            [sys.executable, "-m", "podium", stage, "--config", str(project.config_path)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{stage}: {done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr


def test_registry_pull_prints_a_uri_mlflow_opens(clone: Clone) -> None:
    first = crowned(clone)
    second = clone()

    pulled = second.cli("registry", "pull")

    assert pulled.code == 0, pulled.err
    from mlflow import MlflowClient

    uri = pulled.out.strip()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("churn", "champion").version) == "1"
    del first


def pr_env(project: Project, number: int = 5) -> dict[str, str]:
    event = project.root / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number}}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
    }


def test_a_pull_request_reads_the_branch_and_never_pushes(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crowned(clone)
    before = tip(origin)
    pr = clone()
    env = pr_env(pr)

    trained = pr.cli("train", env=env)
    evaluated = pr.cli("evaluate", env=env)

    assert trained.code == 0 and evaluated.code == 0, trained.err + evaluated.err
    evaluation = json.loads((pr.state / "evaluation.json").read_text())
    assert evaluation["challenger"]["version"] == "2"
    assert evaluation["champion"]["version"] == "1"  # compared with v1 read from the branch
    assert tip(origin) == before  # nothing pushed
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert [v.version for v in opened(pr).versions()] == ["1", "2"]  # the runner's copy
    for key in env:
        monkeypatch.delenv(key)
    assert [v.version for v in opened(pr).versions()] == ["1"]  # outside it: the branch


def test_a_job_elsewhere_promotes_what_another_job_trained_and_evaluated(
    clone: Clone, origin: Path
) -> None:
    import shutil

    crowned(clone)
    trainer, promoter = clone(), clone()  # two jobs, two workspaces, the results handed over
    assert trainer.cli("train").code == 0 and trainer.cli("evaluate").code == 0
    promoter.state.mkdir(exist_ok=True)
    for name in ("train.json", "evaluation.json"):
        shutil.copy(trainer.state / name, promoter.state / name)

    result = promoter.cli("promote")

    assert result.code == 0, result.err
    assert subjects(origin)[1].startswith("promote churn v2 over v1")
    assert subjects(origin)[0] == "model card of churn v2"


def test_a_registration_that_loses_the_push_race_is_redone_on_the_new_tip(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import git_branch

    crowned(clone)
    fast, slow = clone(), clone()
    real_push = git_branch.BranchStore._push
    interrupted = []

    def push(store: git_branch.BranchStore, base: str | None) -> bool:
        if store.folder.is_relative_to(slow.root) and not interrupted:
            interrupted.append(True)
            raced = fast.cli("train")  # lands first: slow's push must lose
            assert raced.code == 0, raced.err
        return real_push(store, base)

    monkeypatch.setattr(git_branch.BranchStore, "_push", push)

    result = slow.cli("train")

    assert result.code == 0, result.err
    assert json.loads((slow.state / "train.json").read_text())["version"] == "3"
    log = subjects(origin)
    assert log[0].startswith("register churn v3") and log[1].startswith("register churn v2")
    registry = opened(fast)
    versions = registry.versions()
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert len({v.run_id for v in versions}) == 3
    assert registry.load_model(versions[-1]) is not None  # its artifacts came along


def test_a_champion_move_that_loses_the_push_race_is_rechecked_and_refused(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import git_branch

    crowned(clone)
    fast, slow = clone(), clone()
    for racer in (fast, slow):
        assert racer.cli("train").code == 0 and racer.cli("evaluate").code == 0
    real_push = git_branch.BranchStore._push
    pushes: list[str] = []

    def push(store: git_branch.BranchStore, base: str | None) -> bool:
        pushes.append(store.folder.name)
        if store.folder.is_relative_to(slow.root) and len(pushes) == 1:
            raced = fast.cli("promote")  # moves @champion first: slow's lease is stale
            assert raced.code == 0, raced.err
        return real_push(store, base)

    monkeypatch.setattr(git_branch.BranchStore, "_push", push)

    result = slow.cli("promote")

    assert result.code == 1, result.err
    assert "not moved: @champion" in result.err and "is now v2" in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    # slow pushed once (lost); fast moved, then wrote the card; slow never pushed again
    assert len(pushes) == 3
    registry = opened(slow)
    assert registry.champion().version == "2"
    assert [(e.version, e.previous) for e in registry.history()] == [("1", None), ("2", "1")]


def test_a_push_that_keeps_failing_exits_3_with_gits_message_and_leaves_nothing(
    clone: Clone, origin: Path
) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'denied by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    project = clone()

    result = project.cli("train")

    assert result.code == 3, result.err
    line = result.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "pre-receive hook declined" in line and BRANCH in line, line
    assert subjects(origin) == []
    hook.unlink()
    assert opened(project).versions() == []  # nothing half-written in the local copy


def test_an_artifact_over_githubs_file_limit_is_refused(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import git_branch

    monkeypatch.setattr(git_branch, "MAX_FILE_BYTES", 2_000)
    project = clone()

    result = project.cli("train")

    assert result.code == 2, result.err
    assert "over GitHub's 100 MB file limit" in result.err
    assert "MLflow tracking server" in result.err and "MLFLOW_TRACKING_URI" in result.err
    assert str(project.state / "registry" / BRANCH) in result.err  # names the file
    assert subjects(origin) == []
    assert opened(project).versions() == []


def test_a_large_artifact_is_warned_about_and_kept(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import git_branch

    monkeypatch.setattr(git_branch, "WARN_FILE_BYTES", 2_000)
    project = clone()

    result = project.cli("train")

    assert result.code == 0, result.err
    assert "GitHub refuses files over 100 MB" in result.out + result.err
    assert subjects(origin)[0].startswith("register churn v1")


def test_rollback_moves_the_alias_on_the_branch(clone: Clone, origin: Path) -> None:
    first = crowned(clone)
    second = clone(STRONG, {"max_depth": 4})
    assert second.cli("run").code == 0

    result = first.cli("rollback", "--reason", "v2 misbehaves in production")

    assert result.code == 0, result.err
    assert subjects(origin)[0].startswith(
        "rollback churn to v1 from v2: v2 misbehaves in production"
    )
    assert opened(second).champion().version == "1"


# -- auth -------------------------------------------------------------------------------


def test_the_job_token_authenticates_https_origins_of_this_server_only() -> None:
    import base64

    from podium.gha import GitHubEnv
    from podium.registry.git_branch import auth_env

    env = GitHubEnv(in_actions=True, token="t0k", server_url="https://ghe.example.com")
    found = auth_env("https://ghe.example.com/acme/churn", env)

    assert found["GIT_CONFIG_COUNT"] == "2"
    assert found["GIT_CONFIG_KEY_0"] == found["GIT_CONFIG_KEY_1"]
    assert found["GIT_CONFIG_KEY_1"] == "http.https://ghe.example.com/.extraheader"
    assert found["GIT_CONFIG_VALUE_0"] == ""  # clears a header set elsewhere
    encoded = found["GIT_CONFIG_VALUE_1"].removeprefix("AUTHORIZATION: basic ")
    assert base64.b64decode(encoded).decode() == "x-access-token:t0k"
    assert auth_env("https://github.com/acme/churn", env) == {}  # another server
    assert auth_env("git@ghe.example.com:acme/churn.git", env) == {}  # ssh: the user's keys
    assert auth_env("https://ghe.example.com/acme/churn", GitHubEnv(in_actions=True)) == {}


def test_the_token_never_reaches_argv_or_a_config_file(
    clone: Clone, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.registry import git_branch

    seen: list[list[str]] = []
    real_run = git_branch.Git.run

    def run(self: git_branch.Git, *args: str, **kwargs: Any) -> Any:
        seen.append(list(args))
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(git_branch.Git, "run", run)
    monkeypatch.setenv("GITHUB_TOKEN", "s3cr3t-token")
    project = clone()

    assert project.cli("train").code == 0

    assert seen and not any("s3cr3t" in " ".join(args) for args in seen)
    copy = project.state / "registry" / BRANCH
    assert "s3cr3t" not in (copy / ".git" / "config").read_text()


# -- config -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        ({"git_branch": "-x"}, "is not a branch name"),
        ({"git_branch": "a..b"}, "is not a branch name"),
        (
            {"git_branch": BRANCH, "tracking_uri": "http://mlflow:5000"},
            "git_branch and tracking_uri both name the registry",
        ),
    ],
)
def test_a_bad_registry_section_is_refused(
    clone: Clone, registry: dict[str, str], expected: str
) -> None:
    project = clone()
    project.update(registry=registry)

    result = project.cli("history")

    assert result.code == 2 and expected in result.err, result.err


def test_mlflow_tracking_uri_wins_over_the_branch(clone: Clone, tmp_path: Path) -> None:
    project = clone()
    uri = f"sqlite:///{tmp_path / 'server.db'}"

    pulled = project.cli("registry", "pull", env={"MLFLOW_TRACKING_URI": uri})

    assert pulled.code == 0 and pulled.out.strip() == uri


def test_without_origin_the_branch_is_refused_naming_the_fix(clone: Clone) -> None:
    project = clone()
    git("remote", "remove", "origin", cwd=project.root)

    result = project.cli("history")

    assert result.code == 2
    assert "no git remote 'origin'" in result.err and "registry.git_branch" in result.err


# -- two promotions racing from two clones --------------------------------------------------

# A racer imports everything first, then waits for the go file: both promote at once.
RACER = """
import sys, time
from pathlib import Path
import mlflow.tracking, podium.config, podium.registry.git_branch, podium.stages.promote
from podium.cli import main

go = Path(sys.argv[1])
Path(sys.argv[1] + "." + sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.002)
sys.exit(main(["promote", "--config", sys.argv[2]]))
"""


def race(projects: list[Project], folder: Path) -> list[Result]:
    """Run `podium promote` in each project at the same moment, each in its own process."""
    import os
    import sys
    import time

    from tests.conftest import _ACTIONS_VARS

    go = folder / f"go-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k not in _ACTIONS_VARS}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go), str(p.config_path), str(i)],
            cwd=p.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, p in enumerate(projects)
    ]
    deadline = time.monotonic() + 180
    while not all(Path(f"{go}.{i}").exists() for i in range(len(procs))):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    go.touch()
    finished = [p.communicate(timeout=300) for p in procs]
    return [Result(p.returncode, out, err) for p, (out, err) in zip(procs, finished, strict=True)]


def test_two_promotions_racing_from_two_clones_exactly_one_wins(
    clone: Clone, origin: Path, tmp_path: Path
) -> None:
    crowned(clone)
    a, b = clone(), clone()
    challengers = []
    for racer in (a, b):
        assert racer.cli("train").code == 0
        evaluated = racer.cli("evaluate")
        assert evaluated.code == 0, evaluated.err
        evaluation = json.loads((racer.state / "evaluation.json").read_text())
        assert evaluation["passed"] and evaluation["champion"]["version"] == "1"
        challengers.append(evaluation["challenger"]["version"])
    assert sorted(challengers) == ["2", "3"]

    outcome = race([a, b], tmp_path)

    codes = [r.code for r in outcome]
    assert sorted(codes) == [0, 1], [(r.code, r.err) for r in outcome]
    winner = challengers[codes.index(0)]
    loser = outcome[codes.index(1)]
    assert "not moved: @champion" in loser.err and f"is now v{winner}" in loser.err, loser.err
    assert len(loser.err.strip().splitlines()) == 1 and "Traceback" not in loser.err
    log = subjects(origin)
    promotions = [s for s in log if s.startswith("promote")]
    assert len(promotions) == 2, log
    assert promotions[0].startswith(f"promote churn v{winner} over v1: gates passed"), log
    # The branch is consistent: a fresh clone opens it, one promotion from the race.
    third = clone()
    registry = opened(third)
    assert registry.champion().version == winner
    assert [(e.version, e.previous) for e in registry.history()] == [("1", None), (winner, "1")]
    history = third.cli("history")
    assert history.code == 0 and len(history.out.strip().splitlines()) == 2, history.out


def test_monitor_reads_the_branch_and_pushes_its_check(clone: Clone, origin: Path) -> None:
    crowned(clone)
    watcher = clone()

    result = watcher.cli("monitor", "--data", str(watcher.root / "data" / "eval.csv"))

    assert result.code == 0, result.err + result.out
    assert subjects(origin)[0] == "monitor churn v1: ok"
