"""A real `mlflow server` on loopback, started once per test session.

Registered in tests/conftest.py through `pytest_plugins`. The server keeps its
registry in sqlite and serves artifacts itself (`--serve-artifacts`): clients upload
and download models through HTTP (`mlflow-artifacts:/`), as they do against a team
server in CI, and the files land in `artifacts`, a folder only the server writes to.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 120.0  # seconds; start-up takes ~6-25 s here (no .pyc, busy CI cores)


@dataclass(frozen=True)
class MlflowServer:
    url: str
    artifacts: Path  # --artifacts-destination: where the server stores what clients upload
    backend: Path  # the server's own sqlite database
    log: Path
    started_in: float  # seconds from spawn to a healthy /health

    def model_files(self) -> list[Path]:
        """Every MLmodel file the server holds (one per logged model)."""
        return sorted(self.artifacts.rglob("MLmodel"))


_started: list[MlflowServer] = []  # for the terminal summary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it spawned (uvicorn workers): its process group."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, store_template: Path
) -> Iterator[MlflowServer]:
    """Start `mlflow server` on 127.0.0.1:<free port>; kill its process group at the end."""
    root = tmp_path_factory.mktemp("mlflow-server")
    backend, artifacts, log = root / "mlflow.db", root / "artifacts", root / "server.log"
    shutil.copyfile(store_template, backend)  # migrated already (tests/conftest.py)
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # The job runner (huey consumers for GenAI jobs) doubles start-up and is unused here.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
        "--backend-store-uri", f"sqlite:///{backend}",
        "--serve-artifacts",
        "--artifacts-destination", str(artifacts),
        "--default-artifact-root", "mlflow-artifacts:/",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = started + START_TIMEOUT
        while not _healthy(url):
            tail = log.read_text(errors="replace")[-3000:]
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not healthy after {START_TIMEOUT:.0f}s:\n{tail}")
            time.sleep(0.2)
        server = MlflowServer(url, artifacts, backend, log, time.monotonic() - started)
        _started.append(server)
        yield server
    finally:
        _stop(proc)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _started:
        terminalreporter.write_line(
            f"mlflow server at {server.url} became healthy in {server.started_in:.1f}s"
        )
