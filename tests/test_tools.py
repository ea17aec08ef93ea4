"""tests/tools.py: a missing tool skips a test, and fails it under CI=true."""

from __future__ import annotations

import pytest

from tests.tools import Tool, require

PRESENT = Tool("present-tool", "already here", lambda: True)
ABSENT = Tool("absent-tool", "pip install absent-tool", lambda: False)

INNER = """
from tests.tools import Tool, requires

ABSENT = Tool("absent-tool", "pip install absent-tool", lambda: False)


@requires(ABSENT)
def test_needs_it():
    pass


def test_needs_nothing():
    pass
"""


def test_a_present_tool_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require(PRESENT)  # neither skips nor fails


def test_a_missing_tool_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"absent-tool is missing .*pip install"):
        require(PRESENT, ABSENT)


@pytest.mark.parametrize("value", ["false", "1", ""])
def test_only_ci_true_turns_the_skip_into_a_failure(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        require(ABSENT)


def test_a_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"absent-tool is missing .*pip install"):
        require(ABSENT)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "errors"), ("", "skipped")])
def test_the_requires_marker_fails_under_ci_and_skips_elsewhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_inner=INNER)

    result = pytester.runpytest_inprocess("-p", "tests.tools", "-rsE")

    result.assert_outcomes(passed=1, **{outcome: 1})
    result.stdout.fnmatch_lines(["*absent-tool is missing (install: pip install absent-tool)*"])
