"""GitHub Actions runtime plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium import gha
from tests.runner_commands import Runner

# Lines a result file (or production data) could carry to steer the runner.
HOSTILE = [
    "v1\n::warning file=x::pwned",
    "1\n::stop-commands::abc\n::warning::pwned\n::abc::\n::error::pwned",
    "churn ##[warning]pwned",
    "x\r::set-output name=passed::pwned",
    "   ::add-mask::pwned",
    "::stop-commands::\n::error::pwned",
    "last line ::error::pwned",
    "\n::error::pwned",
]


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
    assert gha.github_env().pr_number == 3


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


def test_error_annotations_round_trip_through_the_runner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    message = "50% of rows\r\n::warning file=x::pwned ##[error]no, a:b"
    gha.error(message)
    gha.warning(message)
    runner = Runner().feed(capsys.readouterr().out)
    assert [(c.name, c.properties, c.data) for c in runner.commands] == [
        ("error", {"title": "podium"}, message),
        ("warning", {"title": "podium"}, message),
    ]


def test_property_values_are_encoded_for_the_runner() -> None:
    assert gha._escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_the_github_environment_is_read_in_one_place(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "pull_request": {"number": 7, "head": {"sha": "c" * 40}},
                "workflow_run": {"head_sha": "d" * 40, "html_url": "https://x/runs/9"},
            }
        )
    )
    env = gha.github_env(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/churn",
            "GITHUB_SERVER_URL": "https://ghe.example/",
            "GITHUB_API_URL": "https://ghe.example/api/v3",
            "GITHUB_TOKEN": "t0k",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "f" * 40,
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_EVENT_PATH": str(event),
            "PODIUM_COMMENT_AUTHOR": "podium-app[bot]",
        }
    )
    assert env.in_actions and env.repository == "acme/churn" and env.token == "t0k"
    assert env.api_url == "https://ghe.example/api/v3" and env.actor == "octocat"
    assert env.repository_url == "https://ghe.example/acme/churn"
    assert env.run_url == "https://ghe.example//acme/churn/actions/runs/42"  # as before: verbatim
    assert (env.pr_number, env.pr_head_sha) == (7, "c" * 40)
    assert env.workflow_run == {"head_sha": "d" * 40, "html_url": "https://x/runs/9"}
    assert env.comment_author == "podium-app[bot]"
    assert gha.git_commit(tmp_path, env) == "c" * 40
    assert gha.provenance(tmp_path, env) == {
        "git_commit": "c" * 40,
        "pr": "7",
        "workflow_run": env.run_url,
        "ref": "refs/pull/7/merge",
        "event": "pull_request",
        "repository": "acme/churn",
    }


def test_an_empty_or_broken_environment_reads_as_absent(tmp_path: Path) -> None:
    broken = tmp_path / "event.json"
    broken.write_text("[not an object")
    env = gha.github_env({"GITHUB_REPOSITORY": "", "GITHUB_EVENT_PATH": str(broken)})
    assert env == gha.GitHubEnv()
    assert env.run_url is None and env.pr_number is None and env.workflow_run is None
    assert gha.github_env({"GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}).event == {}


def test_untrusted_text_is_printed_as_is_outside_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    gha.print_untrusted("# report\nline")
    assert capsys.readouterr().out == "# report\nline\n"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_untrusted_text_never_reaches_the_runner_as_a_command(
    hostile: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    print("::warning::before", flush=True)
    gha.print_untrusted(f"# report\n| version | {hostile} |\n{hostile}")
    gha.warning("after")  # podium's own commands still work after the report
    out = capsys.readouterr().out
    assert "pwned" in out  # printed, for the reader of the log …
    runner = Runner().feed(out)
    assert not any("pwned" in f"{c.name}{c.properties}{c.data}" for c in runner.commands)
    names = [c.name for c in runner.commands]  # … but not acted on
    token = runner.commands[1].data
    assert names == ["warning", "stop-commands", token, "warning"]
    assert len(token) == 32 and runner.commands[-1].data == "after" and not runner.stopped


def test_every_print_has_its_own_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    gha.print_untrusted("one")
    gha.print_untrusted("two")
    runner = Runner().feed(capsys.readouterr().out)
    stops = [c.data for c in runner.commands if c.name == "stop-commands"]
    assert len(stops) == 2 and stops[0] != stops[1] and not runner.stopped


def test_printed_text_is_capped_with_where_the_rest_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    full = tmp_path / "report.md"
    gha.print_untrusted("\n".join(f"row {i}" for i in range(5000)), full=full)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) <= gha.MAX_PRINTED_LINES + 4
    assert (
        lines[-2]
        == f"… and {5000 - gha.MAX_PRINTED_LINES} more lines; the full report is in {full}"
    )


def test_cap_cuts_long_lines_by_bytes_on_a_character_boundary() -> None:
    text = "é" * 100 + "\nnext\nlast"
    capped = gha.cap(text, max_lines=None, max_bytes=51, full=None)
    first, blank, note = capped.rstrip("\n").split("\n")
    assert first == "é" * 25 and blank == ""
    assert note == "… truncated, and 2 more lines"
    assert gha.cap("short\ntext", max_lines=5, max_bytes=100) == "short\ntext"


def test_the_job_summary_is_capped_below_githubs_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    full = tmp_path / "report.md"
    row = "| feature_" + "x" * 90 + " | 0.1 |"
    assert gha.summary("\n".join([row] * 30_000), full=full)
    written = target.read_text(encoding="utf-8")
    assert len(written.encode()) <= gha.MAX_SUMMARY_BYTES + 1024 < 1024 * 1024
    assert written.endswith(f"more lines; the full report is in {full}\n")


def test_an_error_line_is_one_inert_line() -> None:
    line = "podium: " + gha.one_line("bad value 'x\n::warning::pwned ##[error]pwned'")
    assert "\n" not in line and Runner().feed(line).commands == []
