"""What the act tests share: one snapshot of podium, one act home (its Pythons, caches)."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.act import cached_python, prepare_python, share_python, snapshot
from tests.github_fake import FakeGitHub, serve


@pytest.fixture(scope="session")
def act_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("act")


@pytest.fixture(scope="session")
def podium_source(act_home: Path) -> Path:
    return snapshot(act_home / "podium-v1")


@pytest.fixture(scope="session")
def act_pythons(
    act_home: Path, podium_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The stand-in setup-python's tool cache (PODIUM_TEST_PYTHONS) for this worker's jobs.

    Its Python comes with podium and its dependencies installed, bytecode compiled: what the
    first job would install otherwise (~30 s of CPU, mostly compiling), once per xdist
    worker. It is prepared once for the whole run, under a lock in the folder the workers
    share, and each worker gets its own copy, because every job's `setup` step reinstalls
    podium into it and two workers' jobs run at once. With PODIUM_TEST_CACHE set, it is
    prepared once for every run with the same dependencies (`cached_python`).
    """
    from podium.config import CISection

    version = CISection().python  # the python-version the generated workflows ask for
    pythons = act_home / "pythons"
    if cache := os.environ.get("PODIUM_TEST_CACHE"):  # .ci/run sets it: kept between runs
        share_python(cached_python(Path(cache), version, podium_source), pythons / version)
        return pythons
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's base folder, above each worker's own
    prepared = shared / "act-python" / version
    done = shared / "act-python" / f"{version}.prepared"
    with (shared / "act-python.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(prepared, ignore_errors=True)  # a failed attempt's leftovers
            prepare_python(prepared, version, snapshot(shared / "act-python-source"))
            done.touch()
    share_python(prepared, pythons / version)
    return pythons


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()
