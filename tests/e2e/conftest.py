"""What the act tests share: one snapshot of podium, one act home (its Pythons, caches)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.act import snapshot
from tests.github_fake import FakeGitHub, serve


@pytest.fixture(scope="session")
def act_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("act")


@pytest.fixture(scope="session")
def podium_source(act_home: Path) -> Path:
    return snapshot(act_home / "podium-v1")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()
