"""Run podium's generated workflows with `act` on this machine (self-hosted mode).

No Docker and no network: third-party actions map to the stand-ins in tests/actions,
`podium-ml/podium@v1` maps to a snapshot of this checkout (its tracked and unignored
files, as a release would hold), and the `setup` action really installs podium from it
with uv into the Python the stand-in setup-python provides.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.stages.init import PINS
from tests.tools import binary, venv_bin

REPO = Path(__file__).resolve().parents[2]
STAND_INS = REPO / "tests" / "actions"
PODIUM_ACTIONS = "podium-ml/podium@v1"  # the `ci.actions` default
OWNER, NAME = "acme", "churn"
# Host variables that must not reach the jobs: a workflow sees only what act gives it.
_HOST_ONLY = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",
    "VIRTUAL_ENV",
    "MLFLOW_TRACKING_URI",
    "UV_PYTHON",
)


def act_binary() -> str | None:
    return binary("act")


def _uses(pin: str) -> str:
    return pin.split(" #", 1)[0]  # "actions/checkout@<sha>"


def snapshot(dest: Path) -> Path:
    """This checkout's tracked and unignored files (what `@v1` of podium would contain)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@dataclass
class ActRun:
    code: int
    log: str
    summaries: list[str] = field(default_factory=list)

    def job_failed(self) -> bool:
        return self.code != 0


@dataclass
class Act:
    """One repository under test, run by act against a real MLflow server (or none)."""

    repo: Path
    podium_source: Path
    tracking_uri: str | None  # the MLFLOW_TRACKING_URI secret; None: no secret, no server
    home: Path  # act's caches, artifacts and the stand-in Pythons live here
    pythons: Path
    github_api: str  # the loopback GitHub's API and web addresses
    github_server: str
    token: str
    remote: str = "origin"  # the git remote act reads the repository's owner/name from
    runs: int = 0

    def run(
        self,
        event: str,
        workflow: str,
        payload: dict[str, Any],
        *,
        run_id: int | None = None,
        timeout: float = 600,
        secrets: dict[str, str] | None = None,
    ) -> ActRun:
        self.runs += 1
        run_id = run_id or 1000 + self.runs
        payload = {
            "repository": {
                "full_name": f"{OWNER}/{NAME}",
                "name": NAME,
                "owner": {"login": OWNER},
                "default_branch": "main",
            },
            **payload,
        }
        event_file = self.home / f"event-{self.runs}.json"
        event_file.write_text(json.dumps(payload))
        artifacts = self.home / "artifacts"
        artifacts.mkdir(exist_ok=True)
        command = [
            act_binary() or "act",
            event,
            "--workflows", str(self.repo / ".github" / "workflows" / workflow),
            "--eventpath", str(event_file),
            "-P", "ubuntu-latest=-self-hosted",
            "--action-offline-mode",
            "--remote-name", self.remote,
            "--action-cache-path", str(self.home / "act-cache"),
            "--no-cache-server",
            "--local-repository", f"{PODIUM_ACTIONS}={self.podium_source}",
            "--local-repository", f"{_uses(PINS['checkout'])}={STAND_INS / 'checkout'}",
            "--local-repository", f"{_uses(PINS['setup_python'])}={STAND_INS / 'setup-python'}",
            "--local-repository", f"{_uses(PINS['upload_artifact'])}={STAND_INS / 'upload-artifact'}",
            "--local-repository",
            f"{_uses(PINS['download_artifact'])}={STAND_INS / 'download-artifact'}",
            "--local-repository", f"{_setup_uv()}={STAND_INS / 'setup-uv'}",
            "--secret", f"GITHUB_TOKEN={self.token}",
            "--env", f"GITHUB_RUN_ID={run_id}",
            "--env", f"PODIUM_TEST_ARTIFACTS={artifacts}",
            "--env", f"PODIUM_TEST_PYTHONS={self.pythons}",
            # The versions podium is tested with (the uv cache makes the install quick).
            "--env", f"UV_CONSTRAINT={self.podium_source / 'constraints.txt'}",
            # Every job's setup step reinstalls podium into the prepared Python
            # (`prepare_python`, which filled uv's cache): offline, uv takes what it needs from
            # the cache instead of revalidating PyPI's pages first (~1 s a job here).
            "--env", "UV_OFFLINE=1",
            "--env", "MLFLOW_DISABLE_TELEMETRY=true",
            "--env", "DO_NOT_TRACK=true",
        ]  # fmt: skip
        command += [
            "--env", f"GITHUB_API_URL={self.github_api}",
            "--env", f"GITHUB_SERVER_URL={self.github_server}",
        ]  # fmt: skip
        if self.tracking_uri is not None:
            command += ["--secret", f"MLFLOW_TRACKING_URI={self.tracking_uri}"]
        for name, value in (secrets or {}).items():
            command += ["--secret", f"{name}={value}"]
        proc = subprocess.run(
            command,
            cwd=self.repo,
            env=job_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        log = proc.stdout + proc.stderr
        # Kept beside the run's event: a failed assertion shows only the log's tail.
        (self.home / f"run-{self.runs}-{event}.log").write_text(log)
        return ActRun(proc.returncode, log, _summaries(log))


def job_env() -> dict[str, str]:
    """The environment act (and so every job) starts with: the host's, less its own Python's."""
    env = {k: v for k, v in os.environ.items() if k not in _HOST_ONLY}
    env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}
    # The jobs run `uv` (the setup-uv stand-in checks it): the test extra installs it
    # beside this interpreter, on PATH or not. Last on PATH, so no job sees this
    # interpreter as `python` before setup-python has put its own first.
    env["PATH"] = os.pathsep.join(filter(None, [env.get("PATH"), str(venv_bin())]))
    return env


def prepare_python(home: Path, version: str, source: Path) -> Path:
    """A Python `version` environment at `home` with podium from `source` installed.

    What the first job on a fresh runner does (tests/actions/setup-python, then the
    `setup` action's `uv pip install --compile-bytecode`), done once before any job: the
    stand-in setup-python keeps it as a runner's tool cache, and every job's `setup`
    step still reinstalls podium into it from the snapshot. Relocatable, so that a copy
    (`share_python`) works wherever it lands.
    """
    uv = binary("uv") or "uv"
    env = {**job_env(), "UV_CONSTRAINT": str(source / "constraints.txt")}
    for command in (
        [uv, "venv", "--quiet", "--relocatable", "--python", version, str(home)],
        [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python",
         str(home / "bin" / "python"), str(source)],
    ):  # fmt: skip
        subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return home


def cached_python(cache: Path, version: str, source: Path) -> Path:
    """A `prepare_python` environment kept in `cache` between test runs, without podium.

    What it holds depends only on podium's dependencies: keyed by constraints.txt,
    pyproject.toml, the Python version and uv's, and podium itself is uninstalled again —
    every job's `setup` step installs it from this run's snapshot, as before. Made once
    under a lock (runs on the same machine share it) into a temporary folder that is
    renamed into place, so a half-made environment is never found.
    """
    uv = binary("uv") or "uv"
    key = hashlib.sha256()
    for part in (
        (source / "constraints.txt").read_bytes(),
        (source / "pyproject.toml").read_bytes(),
        version.encode(),
        subprocess.run([uv, "--version"], capture_output=True, check=True).stdout,
    ):
        key.update(hashlib.sha256(part).digest())
    kept = cache / "act-python" / f"{version}-{key.hexdigest()[:16]}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    with (kept.parent / f"{kept.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not kept.exists():
            building = kept.with_name(f"{kept.name}.{os.getpid()}")
            shutil.rmtree(building, ignore_errors=True)
            prepare_python(building, version, source)
            subprocess.run(
                [uv, "pip", "uninstall", "--quiet", "--python", str(building / "bin" / "python"),
                 "podium"],
                env=job_env(), capture_output=True, text=True, check=True,
            )  # fmt: skip
            building.rename(kept)
    return kept


def share_python(prepared: Path, home: Path) -> Path:
    """A copy of a `prepare_python` environment at `home`, made of hard links (instant).

    Safe to share files: installers and Python replace files (unlink, then write anew)
    and never write into an installed one, so no job changes what another copy holds.
    """
    shutil.copytree(prepared, home, symlinks=True, copy_function=_link_or_copy)
    return home


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system (a cache elsewhere): a copy
        shutil.copy2(source, target)


def _summaries(log: str) -> list[str]:
    """What the jobs wrote to $GITHUB_STEP_SUMMARY (act logs it, then deletes the file)."""
    found: list[str] = []
    current: list[str] | None = None
    for line in log.splitlines():
        if "Summary - " in line:
            current = [line.split("Summary - ", 1)[1]]
            found.append("")
        elif current is not None and not line.startswith("["):
            current.append(line)
        else:
            current = None
        if current is not None:
            found[-1] = "\n".join(current)
    return found


def _setup_uv() -> str:
    action = (REPO / "actions" / "setup" / "action.yml").read_text()
    for line in action.splitlines():
        if "astral-sh/setup-uv@" in line:
            return line.split("uses:", 1)[1].split("#", 1)[0].strip()
    raise AssertionError("actions/setup/action.yml no longer uses astral-sh/setup-uv")


def git(repo: Path, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
