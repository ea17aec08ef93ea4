"""GitHub Actions runtime plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium import gha


def test_outputs_are_multiline_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    gha.set_output("passed", "true")
    gha.set_output("note", "line one\nline two")
    text = out.read_text()
    lines = text.splitlines()
    assert (
        lines[0].startswith("passed<<podium_") and lines[1] == "true" and lines[2] == lines[0][8:]
    )
    assert "line one\nline two\n" in text


def test_commit_is_the_pr_head_not_the_merge_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "merge" * 8)
    assert gha.git_commit(tmp_path) == "merge" * 8
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "head": {"sha": "head" * 10}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    assert gha.git_commit(tmp_path) == "head" * 10
    assert gha.pr_number() == 3


def test_error_annotations_escape_newlines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gha.error("not in actions")
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gha.error("100% bad\nsecond line")
    assert capsys.readouterr().out == "::error title=podium::100%25 bad%0Asecond line\n"


def test_summary_appends_only_in_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gha.summary("# hi") is False
    target = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert gha.summary("# one") and gha.summary("# two\n")
    assert target.read_text() == "# one\n# two\n"
