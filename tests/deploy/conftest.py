"""A real deployment target: a platform process serving what its deploy script asks for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Platform:
    admin: str  # where the deploy script says what to serve
    url: str  # the live endpoint (MLflow scoring protocol)


@pytest.fixture
def platform() -> Iterator[Callable[[], Platform]]:
    """Start platforms on free ports; every one (and its model server) ends with the test."""
    from podium.serving import free_port, stop

    started: list[subprocess.Popen[bytes]] = []

    def factory() -> Platform:
        admin, public = free_port(), free_port()
        process = subprocess.Popen(
            [sys.executable, str(HERE / "platform_app.py"), str(admin), str(public)],
            stdout=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        return Platform(admin=f"http://127.0.0.1:{admin}", url=f"http://127.0.0.1:{public}")

    yield factory
    for process in started:
        os.kill(process.pid, signal.SIGTERM)  # the platform stops its model server
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            stop(process)


def deploy_command(platform: Platform, *options: str) -> list[str]:
    """The deploy: command running the real deploy script against `platform`."""
    return [sys.executable, str(HERE / "deploy_script.py"), platform.admin, *options]
