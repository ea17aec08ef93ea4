"""The registry kept on a git branch of origin (`registry.git_branch`).

The branch holds MLflow's own sqlite store (`mlflow.db`) and its artifacts (`artifacts/`)
as plain files, so `mlflow ui` and the MLflow API open it once it is on disk. podium never
touches the user's working tree or index: the branch is fetched (shallow) into a private
git repository under `.podium/registry/<branch>/`, whose work tree MLflow reads and writes.

- Reading: fetch the tip and reset the private copy to it. No branch yet = an empty
  registry. MLflow stores absolute artifact paths, so the root a commit was written at is
  recorded (`podium-registry.json`) and the stored paths are rewritten after each fetch:
  a model version loads from any clone location.
- Writing: one transaction per change — fetch the tip, apply the change, commit (one
  readable commit), push with compare-and-set on the branch ref
  (`--force-with-lease=refs/heads/<branch>:<fetched sha>`). A lost race re-fetches and
  re-applies the change on the new state (a champion move re-checks its own
  compare-and-set there). Anything that fails resets the private copy to the fetched tip:
  nothing half-written, locally or on the remote.
- Pull requests (`pull_request*` events in GitHub Actions) read the branch and never
  push: their commits stay in the runner's copy, which later stages of the job reuse.
- Auth: the user's own git setup; in Actions with GITHUB_TOKEN and an https origin, an
  `AUTHORIZATION` header handed to each git command through GIT_CONFIG_* environment
  variables — never written to a config file, never in argv.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from podium import gha
from podium.errors import ConfigError, InputError, ServiceError
from podium.registry import env, tags
from podium.registry.mlflow_store import Registry
from podium.registry.store import Version

if TYPE_CHECKING:
    from podium.config import Config
    from podium.registry.audit import Approval, Event

T = TypeVar("T")

DB = "mlflow.db"
ARTIFACTS = "artifacts"
META = "podium-registry.json"
README = "README.md"
LOCAL_BRANCH = "refs/heads/registry"  # the private repository's one branch
TIP_REF = "refs/podium/tip"  # what the last fetch found on origin
BASE_REF = "refs/podium/base"  # the remote state the local copy stands on (absent: none)
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})

# GitHub refuses files over 100 MB in a push and warns from 50 MB.
MAX_FILE_BYTES = 100 * 1024 * 1024
WARN_FILE_BYTES = 50 * 1024 * 1024

RACE_ATTEMPTS = 8  # a change re-applied after this many lost push races gives up (exit 3)
NETWORK_ATTEMPTS = 3  # a fetch or push that fails for another reason is retried this often
RETRY_WAIT = 1.0  # seconds × attempt, with jitter (tests set it to zero)
GIT_TIMEOUT = 600.0

# Columns where MLflow keeps absolute artifact locations (runs, experiments, logged
# models, model versions), rewritten when the copy sits somewhere else than its writer's.
PATH_COLUMNS = frozenset({"artifact_location", "artifact_uri", "source", "storage_location"})
# git variables that would point these commands at the user's repository (inside a hook).
_GIT_REPO_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
)
_CONFIG_ENTRY = re.compile(r"^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)$")
_LOST_RACE = (
    "stale info",
    "fetch first",
    "non-fast-forward",
    "cannot lock ref",
    "failed to update",
)
_NO_BRANCH = ("couldn't find remote ref", "could not find remote ref")

BRANCH_README = """\
# podium's model registry

This branch is written by podium (`registry.git_branch` in podium.yaml): MLflow's sqlite
store (`mlflow.db`) and its artifacts. Do not edit it by hand; `git log` on this branch is
the history of every change (registrations, evaluations, promotions, rollbacks).

    podium registry pull            # fetch it and print its MLflow tracking URI
    mlflow ui --backend-store-uri "$(podium registry pull)"
    podium registry export --to https://mlflow.example.com   # move to a tracking server
"""


class TooLarge(InputError):
    """A file too large for a git branch on GitHub (exit 2)."""


# -------------------------------------------------------------------------------- git


class Git:
    """git commands in one folder, with this job's auth and none of the user's repo vars."""

    def __init__(self, cwd: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        env = {k: v for k, v in os.environ.items() if k not in _GIT_REPO_VARS}
        if extra_env and "GIT_CONFIG_COUNT" in extra_env:  # ours replace any set before
            env = {k: v for k, v in env.items() if not _CONFIG_ENTRY.match(k)}
        env["LC_ALL"] = "C"  # git's messages are matched below (lost race, no branch)
        if gha.in_actions():
            env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password in CI
        env.update(extra_env or {})
        self.env = env

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `git ARGS`; a failure with `check` is a ServiceError carrying git's message."""
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=self.env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(
                "registry.git_branch needs git on PATH; install git or remove "
                "registry.git_branch from podium.yaml"
            ) from None
        except subprocess.TimeoutExpired:
            raise ServiceError(
                f"git {args[0]} in {self.cwd} gave no answer within {GIT_TIMEOUT:.0f}s"
            ) from None
        if check and proc.returncode != 0:
            raise ServiceError(f"git {args[0]} in {self.cwd} failed: {git_message(proc)}")
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def ref(self, name: str) -> str | None:
        """The commit a ref points at, None when it does not exist."""
        proc = self.run("rev-parse", "-q", "--verify", f"{name}^{{commit}}", check=False)
        return proc.stdout.strip() or None


def git_message(proc: subprocess.CompletedProcess[str]) -> str:
    """git's own words, on one line (its last meaningful lines)."""
    lines = [x.strip() for x in (proc.stderr + "\n" + proc.stdout).splitlines() if x.strip()]
    useful = [x for x in lines if not x.startswith(("hint:", "To "))] or lines
    # A lock git could not take: its own line names the file (the rest is advice).
    locked = [x for x in useful if "Unable to create" in x and ".lock'" in x]
    text = "; ".join(locked or useful[-3:]) or f"exit {proc.returncode}"
    return text[:400]


def auth_env(url: str, env: gha.GitHubEnv | None = None) -> dict[str, str]:
    """GIT_CONFIG_* variables that authenticate git with the job's GITHUB_TOKEN.

    Only for an https origin on this job's GitHub server (GITHUB_SERVER_URL: GHES too),
    and only for that server's URLs (git scopes `http.<url>.extraheader` by prefix). An
    empty first value clears any extra header set elsewhere (actions/checkout's), so
    GitHub never sees two Authorization headers.
    """
    env = env or gha.github_env()
    if not env.token or not url.startswith("https://"):
        return {}
    server = (env.server_url or "https://github.com").rstrip("/")
    if not url.startswith(server + "/"):
        return {}
    basic = base64.b64encode(f"x-access-token:{env.token}".encode()).decode()
    if env.in_actions:  # GitHub masks the token, not its base64; on stderr: stdout is data
        import sys

        print(f"::add-mask::{basic}", file=sys.stderr, flush=True)
    key = f"http.{server}/.extraheader"
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": key,
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": key,
        "GIT_CONFIG_VALUE_1": f"AUTHORIZATION: basic {basic}",
    }


def origin_url(root: Path) -> str:
    """The URL of the user's `origin` (a local path made absolute), exit 2 when there is none."""
    git = Git(root)
    proc = git.run("remote", "get-url", "origin", check=False)
    if proc.returncode != 0:
        raise ConfigError(
            f"registry.git_branch: {root} has no git remote 'origin' ({git_message(proc)}); "
            "add one (git remote add origin URL) or remove registry.git_branch from podium.yaml"
        )
    url = proc.stdout.strip()
    if url.startswith("-"):  # would read as an option of git fetch/push
        raise ConfigError(f"registry.git_branch: origin's URL '{url}' starts with '-'; fix it")
    local = "://" not in url and not re.match(r"^[^/\\]+:", url)  # not host:path (scp form)
    if local and not Path(url).is_absolute():
        top = git.run("rev-parse", "--show-toplevel", check=False).stdout.strip()
        url = str((Path(top or root) / url).resolve())
    return url


def shown_url(url: str) -> str:
    """The origin as messages may show it (no user:password)."""
    return re.sub(r"(://)[^/@]+@", r"\1", url)


def _identity(root: Path) -> tuple[str, str]:
    """Who commits: the Actions bot in CI, else the user's git identity, else podium."""
    if gha.in_actions():
        return "github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"
    git = Git(root)
    name = git.run("config", "user.name", check=False).stdout.strip()
    email = git.run("config", "user.email", check=False).stdout.strip()
    return name or gha.actor(), email or "podium@localhost"


# ------------------------------------------------------------------------------ store


class BranchStore:
    """The private copy of one registry branch, and the transactions that change it."""

    def __init__(
        self,
        *,
        branch: str,
        origin: str,
        folder: Path,
        read_only: bool,
        root: Path,
        keep_versions: int = 50,
    ) -> None:
        self.branch = branch
        self.keep_versions = keep_versions  # registry.keep_versions: retention on the tip
        self.origin = origin
        self.folder = folder
        self.read_only = read_only
        self.root = root  # the user's project, for their git identity
        self.git = Git(folder, extra_env=auth_env(origin))
        self.upgraded = False  # the fetched store was an older MLflow's: upgraded here

    @classmethod
    def of(cls, config: Config) -> BranchStore:
        """The store podium.yaml names; read-only on pull-request events in Actions."""
        branch = config.registry_branch
        if not branch:
            raise ValueError("not a branch-kept registry")
        env = gha.github_env()
        return cls(
            branch=branch,
            origin=origin_url(config.root),
            folder=Path(config.tracking_uri.removeprefix("sqlite:///")).parent,
            read_only=env.in_actions and env.event_name in PR_EVENTS,
            root=config.root,
            keep_versions=config.raw.registry.keep_versions,
        )

    @property
    def db(self) -> Path:
        return self.folder / DB

    @property
    def artifacts(self) -> Path:
        return self.folder / ARTIFACTS

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def label(self) -> str:
        return f"registry branch '{self.branch}' of {shown_url(self.origin)}"

    # -- reading -------------------------------------------------------------------
    def pull(self) -> str | None:
        """Bring the copy up to the branch's tip (in a pull request: keep its own commits).

        Returns the commit the copy stands on (None: no branch yet, an empty registry).
        """
        with self._locked():
            tip = self._materialise()
        if self.upgraded and not self.read_only:  # pushed once, with compare-and-set
            from importlib.metadata import version

            self.transaction(
                lambda: None,
                lambda _: f"upgrade the store to MLflow {version('mlflow')}'s schema\n",
            )
            self.upgraded = False
            tip = self.git.ref(BASE_REF)
        return tip

    def _materialise(self) -> str | None:
        self._init()
        if self.read_only and self._has_local_commits():
            self._relocate()
            return self.git.ref(LOCAL_BRANCH)
        tip = self._fetch()
        if tip:
            self._check_tip(tip)
        self._reset(tip)
        if tip:
            self.git.run("update-ref", BASE_REF, tip)
        else:
            self.git.run("update-ref", "-d", BASE_REF, check=False)
        return tip

    def _init(self) -> None:
        if (self.folder / ".git").is_dir():
            return
        # Ignored by the user's repository: the whole private tree, whatever their .gitignore.
        holder = self._registries()
        self.folder.mkdir(parents=True, exist_ok=True)
        (holder / ".gitignore").write_text("*\n")
        self.git.run("init", "-q")
        self.git.run("symbolic-ref", "HEAD", LOCAL_BRANCH)
        # No symlinks from the branch: one would let podium's writes land outside the copy.
        for key, value in (
            ("core.autocrlf", "false"),
            ("core.quotepath", "false"),
            ("core.symlinks", "false"),
        ):
            self.git.run("config", key, value)
        (self.folder / ".git" / "info").mkdir(exist_ok=True)
        (self.folder / ".git" / "info" / "exclude").write_text("*-journal\n*-wal\n*-shm\n")

    def _registries(self) -> Path:
        """`.podium/registry/`, made inside a `.podium/` that has its own .gitignore (made
        here when this is the first thing podium writes in a fresh clone)."""
        from podium import results

        holder = self.folder.parent
        while holder.name != "registry" and holder != holder.parent:
            holder = holder.parent
        results.state_folder(holder.parent)
        holder.mkdir(exist_ok=True)
        return holder

    def _has_local_commits(self) -> bool:
        """Commits made here and never pushed (a pull request's registrations)."""
        head = self.git.ref(LOCAL_BRANCH)
        return head is not None and head != self.git.ref(BASE_REF)

    def _fetch(self) -> str | None:
        """Fetch the branch's tip (depth 1); None when the branch does not exist yet."""
        refspec = f"+refs/heads/{self.branch}:{TIP_REF}"
        for attempt in range(1, NETWORK_ATTEMPTS + 1):
            proc = self.git.run(
                "fetch", "-q", "--depth", "1", "--no-tags", self.origin, refspec, check=False
            )
            if proc.returncode == 0:
                return self.git.ref(TIP_REF)
            if any(s in proc.stderr for s in _NO_BRANCH):
                self.git.run("update-ref", "-d", TIP_REF, check=False)
                self._refuse_code_branch()
                return None
            if attempt == NETWORK_ATTEMPTS:
                raise ServiceError(
                    f"fetching {self.label} failed after {NETWORK_ATTEMPTS} attempts: "
                    f"{git_message(proc)}"
                )
            _pause(attempt)
        raise AssertionError("unreachable")

    def _check_tip(self, tip: str) -> None:
        """Refuse (exit 2) a branch that is not podium's registry, or holds a file that is
        not a plain file (a symlink, a submodule): podium writes only its own branches."""
        listed = self.git.out("ls-tree", "-r", "-z", "--full-tree", tip)
        entries = [e.partition("\t") for e in listed.split("\0") if e]
        files = {name: info.split()[0] for info, _, name in entries}
        if not files:
            return  # an empty branch: podium may take it
        odd = sorted(n for n, mode in files.items() if mode not in {"100644", "100755"})
        if odd:
            raise ConfigError(
                f"{self.label}: '{odd[0]}' is not a plain file (git mode {files[odd[0]]}: a "
                "symlink or submodule); podium reads only plain files from its branch: remove "
                "it from the branch (git rm) and push"
            )
        if META not in files:
            top = sorted({name.split("/")[0] + ("/" if "/" in name else "") for name in files})
            shown = ", ".join(top[:3]) + (", …" if len(top) > 3 else "")
            raise ConfigError(
                f"registry.git_branch: branch '{self.branch}' of {shown_url(self.origin)} "
                f"exists and is not podium's registry (no {META}; it holds {shown}); podium "
                "never writes over another branch: name a new or empty branch in podium.yaml"
            )

    def _refuse_code_branch(self) -> None:
        """A new registry branch must not be the repository's own: origin's default branch
        or the branch checked out in the user's clone (refused, exit 2)."""
        user = Git(self.root)
        taken = {
            user.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip(),
            user.run("symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", check=False)
            .stdout.strip()
            .removeprefix("origin/"),
        }
        remote = self.git.run("ls-remote", "--symref", self.origin, "HEAD", check=False)
        for line in remote.stdout.splitlines():
            if line.startswith("ref: refs/heads/"):
                taken.add(line.split()[1].removeprefix("refs/heads/"))
        if self.branch in taken:
            raise ConfigError(
                f"registry.git_branch '{self.branch}' is a branch of your code in "
                f"{shown_url(self.origin)} (its default or checked-out branch); podium would "
                "overwrite it with the registry: name a branch of its own (e.g. podium-registry)"
            )

    def _reset(self, commit: str | None) -> None:
        """Make the work tree exactly `commit` (None: empty), then fit its paths to here."""
        if commit:
            self.git.run("reset", "-q", "--hard", commit)
        else:
            self.git.run("update-ref", "-d", LOCAL_BRANCH, check=False)
            self.git.run("read-tree", "--empty")
        self.git.run("clean", "-q", "-f", "-d", "-x")
        if commit and (self.db.exists() or self.db.is_symlink()):
            self._check_store()
        self._relocate()
        if not self.db.exists():
            self._seed_empty()

    def _check_store(self) -> None:
        """The fetched store opens with this MLflow (garbage, a foreign or a newer schema:
        exit 2, one line); an older MLflow's store is upgraded here, once."""
        from podium.registry import sqlite_schema

        written_by = self._meta().get("mlflow")
        state = sqlite_schema.store_state(
            self.db,
            f"{self.label}: {DB}",
            written_by=written_by if isinstance(written_by, str) else None,
        )
        if state == sqlite_schema.OLDER:
            sqlite_schema.upgrade(self.db)
            self.upgraded = True

    def _meta(self) -> dict[str, object]:
        """podium-registry.json of the copy ({} when absent or unreadable)."""
        meta = self.folder / META
        try:
            loaded = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        except (ValueError, UnicodeDecodeError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _relocate(self) -> None:
        if not self.db.is_file():
            return
        written_at = self._meta().get("root")
        if isinstance(written_at, str) and written_at and written_at != str(self.folder):
            relocate(self.db, Path(written_at), self.folder)

    def _seed_empty(self) -> None:
        """A new, empty MLflow store (its migrations take a second: kept for next time)."""
        import shutil

        template = self.folder / ".git" / "podium-empty.db"
        if not template.exists():
            from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

            from podium.registry import sqlite_schema

            scratch = self.folder / ".git" / "podium-empty.tmp.db"
            scratch.unlink(missing_ok=True)
            sqlite_schema.create(scratch)  # MLflow's migrated schema, when recorded
            store = SqlAlchemyStore(f"sqlite:///{scratch}", self.artifacts.as_uri())  # type: ignore[no-untyped-call]
            store.engine.dispose()
            scratch.replace(template)
        shutil.copyfile(template, self.db)

    # -- writing -------------------------------------------------------------------
    def transaction(
        self,
        apply: Callable[[], T],
        message: Callable[[T], str],
        again: Callable[[Path, T], T] | None = None,
    ) -> T:
        """Fetch the tip, apply one change, commit it and push it with compare-and-set.

        A lost race re-runs `apply` on the new tip — or, given `again`, calls
        `again(store of the lost attempt, its result)` there instead, which carries that
        attempt's change over (a registration, without training again). After
        RACE_ATTEMPTS, or when a push keeps failing for another reason, ServiceError (exit
        3). In a pull request the commit stays local. Whatever fails leaves the copy as it
        was before.
        """
        import shutil

        lost: tuple[Path, T] | None = None
        scratch = self.folder.parent / f".{self.folder.name}.lost"
        try:
            for attempt in range(1, RACE_ATTEMPTS + 1):
                with self._locked():
                    base = self._materialise()
                    start = self.git.ref(LOCAL_BRANCH)
                    try:
                        result = apply() if lost is None or again is None else again(*lost)
                        if not self._commit(message(result)) or self.read_only:
                            return result
                        if self._push(base):
                            head = self.git.out("rev-parse", "HEAD")
                            self.git.run("update-ref", BASE_REF, head)
                            return result
                        if again is not None:  # keep what this attempt made, to carry over
                            lost = (self._keep(scratch), result)
                    except BaseException:
                        self._reset(start)
                        raise
                    self._reset(start)  # lost the race: drop this attempt, redo on the new tip
                _pause(attempt)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        raise ServiceError(
            f"{self.label}: lost the push race {RACE_ATTEMPTS} times in a row (others keep "
            "writing to it); run this again"
        )

    def _keep(self, scratch: Path) -> Path:
        """A copy of the store as this attempt left it, at `scratch`, its paths fitted there
        (the artifacts hard-linked where the file system can: no data is copied)."""
        import os
        import shutil

        kept = scratch / "store"
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        shutil.copyfile(self.db, kept / DB)
        if self.artifacts.is_dir():

            def link(source: str, target: str) -> None:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)

            shutil.copytree(self.artifacts, kept / ARTIFACTS, copy_function=link)
        relocate(kept / DB, self.folder, kept)
        return kept

    def _commit(self, message: str) -> bool:
        """Stage and commit everything; False when the change left nothing to commit."""
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(self.db)) as connection:
            connection.execute("VACUUM")  # compact and free of deleted pages: smaller blobs
        from importlib.metadata import version

        meta = {
            "format": 1,
            "root": str(self.folder),
            "branch": self.branch,
            "mlflow": version("mlflow"),  # a newer store names the version to install
        }
        _write_own(self.folder / META, json.dumps(meta, indent=2) + "\n")
        _write_own(self.folder / README, BRANCH_README)
        self.git.run("add", "-A")
        # Forced: no .gitignore (the branch's, the user's global one) may leave the store out.
        own = [name for name in (DB, META, README, ARTIFACTS) if (self.folder / name).exists()]
        self.git.run("add", "-f", "-A", "--", *own)
        if self.git.run("diff", "--cached", "--quiet", check=False).returncode == 0:
            return False
        self._check_sizes()
        name, email = _identity(self.root)
        identity = ("-c", f"user.name={name}", "-c", f"user.email={email}")
        self.git.run(
            *identity, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-F", "-",
            stdin=message,
        )  # fmt: skip
        self._verify_commit(own)
        return True

    def _verify_commit(self, own: list[str]) -> None:
        """The commit holds the store exactly as written (else nothing is pushed, exit 3)."""
        left = self.git.out("ls-files", "-z", "--others", "--", *own)
        differs = self.git.run("diff", "--quiet", "HEAD", "--", *own, check=False).returncode
        missing = self.git.run("cat-file", "-e", f"HEAD:{DB}", check=False).returncode != 0
        if left or differs or missing:
            what = left.split("\0")[0] if left else DB if missing else "a changed file"
            raise ServiceError(
                f"{self.label}: the commit podium made does not hold the whole store ({what} "
                "left out); nothing was pushed: report this at podium's issue tracker"
            )

    def _check_sizes(self) -> None:
        """Refuse a file GitHub would refuse (over 100 MB); warn from 50 MB."""
        listed = self.git.run("diff", "--cached", "--name-only", "-z", "--diff-filter=AM")
        for name in filter(None, listed.stdout.split("\0")):
            size = (self.folder / name).stat().st_size
            if size > MAX_FILE_BYTES:
                raise TooLarge(
                    f"{self.folder / name} is {size / 2**20:.0f} MB, over GitHub's 100 MB "
                    f"file limit, so it cannot go on registry.git_branch '{self.branch}'; "
                    "keep this model on an MLflow tracking server (set MLFLOW_TRACKING_URI; "
                    "`podium registry export --to URI` moves the registry there)"
                )
            if size > WARN_FILE_BYTES:
                _warn(
                    f"{name} is {size / 2**20:.0f} MB on registry branch '{self.branch}' "
                    "(GitHub refuses files over 100 MB); consider an MLflow tracking server"
                )

    def _push(self, base: str | None) -> bool:
        """Push HEAD if the branch is still at `base`; False when someone else moved it."""
        lease = f"--force-with-lease=refs/heads/{self.branch}:{base or ''}"
        target = f"HEAD:refs/heads/{self.branch}"
        for attempt in range(1, NETWORK_ATTEMPTS + 1):
            proc = self.git.run(
                "push", "-q", "--no-verify", lease, self.origin, target, check=False
            )
            if proc.returncode == 0:
                return True
            said = proc.stderr + proc.stdout
            if any(s in said for s in _LOST_RACE):
                return False
            if attempt == NETWORK_ATTEMPTS:
                raise ServiceError(
                    f"pushing to {self.label} failed after {NETWORK_ATTEMPTS} attempts: "
                    f"{git_message(proc)}"
                )
            _pause(attempt)
        raise AssertionError("unreachable")

    def _clear_stale_locks(self) -> None:
        """Remove git locks a killed git child left in the copy. Called holding podium's
        own lock on it: no git command of podium's can be running there, so they are stale."""
        for path in _stale_locks(self.folder / ".git"):
            path.unlink(missing_ok=True)
            _warn(f"removed {path}, a stale git lock left by a git command that was killed")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One podium process at a time on this copy (others on this machine wait)."""
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one process at a time, please
            yield
            return
        self._registries()
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with (self.folder.parent / f".{self.folder.name}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._clear_stale_locks()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


GIT_LOCKS = ("index.lock", "shallow.lock", "HEAD.lock", "config.lock", "packed-refs.lock")


def _stale_locks(git_dir: Path) -> list[Path]:
    """git's lock files in a private copy (only git commands podium ran make them)."""
    if not git_dir.is_dir():
        return []
    found = [git_dir / name for name in GIT_LOCKS]
    found += sorted((git_dir / "refs").rglob("*.lock"))
    return [path for path in found if path.is_file()]


def _local_path(uri: str) -> Path | None:
    """The folder of a local artifact location (file URI or path); None for anything else."""
    from urllib.parse import unquote, urlsplit

    if uri.startswith("file:"):
        return Path(unquote(urlsplit(uri).path))
    return Path(uri) if uri.startswith("/") else None


def _write_own(path: Path, text: str) -> None:
    """Write one of podium's files in the copy, never through a link someone put there."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        path.unlink()
    path.write_text(text, encoding="utf-8")


def _warn(message: str) -> None:
    """An annotation in Actions, a line on stderr elsewhere."""
    if gha.in_actions():
        gha.warning(message)
    else:
        import sys

        print(f"podium: warning: {message}", file=sys.stderr, flush=True)


def _pause(attempt: int) -> None:
    time.sleep(RETRY_WAIT * attempt * (0.5 + random.random()))  # jitter: racers must not march


def relocate(db: Path, old: Path, new: Path) -> int:
    """Rewrite MLflow's stored artifact locations from under `old` to under `new`.

    Both spellings MLflow writes are handled (`file:///…` URIs, percent-encoded, and plain
    paths). Returns how many values changed.
    """
    import sqlite3
    from contextlib import closing

    pairs = [(old.as_uri(), new.as_uri()), (f"file://{old}", f"file://{new}"), (str(old), str(new))]
    changed = 0

    def moved(value: str) -> str | None:
        for before, after in pairs:
            if value == before or value.startswith(before + "/"):
                return after + value[len(before) :]
        return None

    with closing(sqlite3.connect(db)) as connection, connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            columns = [
                row[1]
                for row in connection.execute(f'PRAGMA table_info("{table}")')
                if row[1] in PATH_COLUMNS
            ]
            for column in columns:
                values = connection.execute(f'SELECT DISTINCT "{column}" FROM "{table}"')
                for (value,) in values.fetchall():
                    after = moved(value) if isinstance(value, str) else None
                    if after is not None and after != value:
                        connection.execute(
                            f'UPDATE "{table}" SET "{column}" = ? WHERE "{column}" = ?',
                            (after, value),
                        )
                        changed += 1
    return changed


# ---------------------------------------------------------------------------- adapter


class BranchRegistry(Registry):
    """The MLflow adapter on a branch-kept store: every change is one pushed commit."""

    @classmethod
    def open(cls, store: BranchStore, model_name: str) -> BranchRegistry:
        """The registry on `store`, MLflow's process settings made first (`registry.env`):
        unpooled sqlite connections, quiet logs before a new store's migrations."""
        env.unpooled_sqlite()
        env.quiet_mlflow()
        return cls(store, model_name)

    def __init__(self, store: BranchStore, model_name: str) -> None:
        self.store = store
        store.pull()
        super().__init__(store.tracking_uri, model_name)

    def change(
        self,
        apply: Callable[[Registry], T],
        message: Callable[[T], str],
        again: Callable[[Registry, Registry, T], T] | None = None,
    ) -> T:
        """Apply one change on the branch's tip, as one commit, pushed. A lost push race
        applies it again on the new tip — or, given `again`, calls `again(self, the lost
        attempt's store, its result)` to carry that attempt's change over."""

        def applied() -> T:
            result = apply(self)
            self.prune()  # retention, in the same commit
            return result

        if again is None:
            return self.store.transaction(applied, message)

        def carried(kept: Path, result: T) -> T:
            lost = Registry(f"sqlite:///{kept / DB}", self.name)
            self.activate()  # MLflow's fluent API (models:/ URIs) back on this store
            carried_over = again(self, lost, result)
            self.prune()
            return carried_over

        return self.store.transaction(applied, message, carried)

    def prune(self) -> list[str]:
        """Retention (`registry.keep_versions`): the files (model, run artifacts) of versions
        that are not among the newest N and hold no alias (@champion, an environment's)
        leave the tip. Their metadata, params, metrics and audit stay; a tag names the
        commit still holding the files. Returns the versions pruned now."""
        import shutil

        keep = self.store.keep_versions
        versions = sorted(self.versions(), key=lambda v: int(v.version))
        if len(versions) <= keep:
            return []
        model = self.find(
            "reading the aliases", lambda: self.client.get_registered_model(self.name)
        )
        held = {str(v) for v in dict(getattr(model, "aliases", None) or {}).values()}
        kept_until = self.store.git.ref(BASE_REF) or "an earlier commit"
        root = self.store.artifacts.resolve()
        pruned = []
        for version in versions[:-keep]:
            if version.version in held or tags.PRUNED in version.tags:
                continue
            if not version.source.startswith("models:/m-"):
                continue  # a model inside its run's files: left as it is
            model_id = version.source.removeprefix("models:/")
            logged = self.find(
                "reading the logged model",
                functools.partial(self.client.get_logged_model, model_id),
            )
            if logged is None:
                continue
            folders = [_local_path(str(logged.artifact_location))]
            run = (
                self.find("reading the run", functools.partial(self.client.get_run, version.run_id))
                if version.run_id
                else None
            )
            if run is not None:  # its files too (profile, importance): params, metrics stay
                folders.append(_local_path(str(run.info.artifact_uri)))
            for files in folders:  # never anything outside the branch's own artifacts
                if files is not None and files.resolve().is_relative_to(root):
                    shutil.rmtree(files, ignore_errors=True)
            self.set_version_tags(version.version, {tags.PRUNED: kept_until})
            pruned.append(version.version)
        return pruned

    def load_model(self, version: Version) -> Any:
        """As Registry.load_model; a version whose files retention removed: exit 2 saying
        which commit of the branch still holds them."""
        if tags.PRUNED in version.tags:
            raise InputError(
                f"v{version.version} of '{self.name}' has no model files on {self.store.label}"
                f" any more (registry.keep_versions: {self.store.keep_versions}); they are in "
                f"its commit {version.tags[tags.PRUNED][:12]}: pick a newer version, or raise "
                "registry.keep_versions"
            )
        return super().load_model(version)

    def move_champion(
        self,
        *,
        action: str,
        version: str,
        expected: str | None,
        actor: str,
        reason: str,
        commit: str | None,
        run_url: str | None,
        approval: Approval | None = None,
    ) -> Event:
        """The compare-and-set move as one commit; after a lost race it is re-checked on
        the new tip (CheckFailed, exit 1, when the champion moved meanwhile)."""
        return self.change(
            lambda registry: Registry.move_champion(
                registry,
                action=action,
                version=version,
                expected=expected,
                actor=actor,
                reason=reason,
                commit=commit,
                run_url=run_url,
                approval=approval,
            ),
            lambda event: move_message(self.name, event),
        )


def move_message(name: str, event: Event) -> str:
    """'promote churn v7 over v6: <reason> (commit abc1234, run <url>)' and the full reason."""
    if event.action == "rollback":
        head = f"rollback {name} to v{event.version} from v{event.previous}"
    elif event.previous:
        head = f"promote {name} v{event.version} over v{event.previous}"
    else:
        head = f"promote {name} v{event.version} (first champion)"
    return change_message(
        f"{head}: {event.reason}",
        commit=event.commit,
        run_url=event.run_url,
        body=f"by {event.actor} at {event.at}\n\n{event.reason}",
    )


def change_message(summary: str, *, commit: str | None, run_url: str | None, body: str = "") -> str:
    """A commit message a person reads in `git log`: one line, provenance in brackets."""
    where = ", ".join(
        part
        for part in (f"commit {commit[:7]}" if commit else "", f"run {run_url}" if run_url else "")
        if part
    )
    line = " ".join(summary.split())
    if len(line) > 160:
        line = line[:159] + "…"
    subject = f"{line} ({where})" if where else line
    return subject + (f"\n\n{body.strip()}\n" if body.strip() else "\n")
