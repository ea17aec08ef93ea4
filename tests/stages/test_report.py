"""`podium report` in GitHub Actions against the loopback GitHub, and on a laptop."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium import report
from podium.results import Evaluation, Training, Validation
from tests.conftest import Project
from tests.github_fake import FakeGitHub, serve
from tests.test_report import evaluation, training, validation

HEAD = "1234567" + "0" * 33


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()


@pytest.fixture
def ghes() -> Iterator[FakeGitHub]:
    yield from serve(prefix="/api/v3")


@pytest.fixture
def reported(make_project: Callable[..., Project]) -> Callable[..., Project]:
    """A project whose `.podium/` holds validate/train/evaluate results (no MLflow needed)."""

    def factory(name: str = "churn", passed: bool = True, drift_name_length: int = 0) -> Project:
        project = make_project(name=name)
        state = project.state
        state.mkdir(parents=True, exist_ok=True)
        evaluated = evaluation(model_name=name)
        if not passed:
            evaluated.update(passed=False, summary="roc_auc 0.5 is below the minimum 0.8")
            evaluated["checks"][0]["passed"] = False
        trained = training()
        trained["model_name"] = name
        checked = validation()
        if drift_name_length:
            features = checked["drift"]["features"]
            features += [
                {**features[0], "feature": f"f{i:03d}_" + "x" * drift_name_length}
                for i in range(60)
            ]
        Evaluation.model_validate(evaluated).save(state)
        Training.model_validate(trained).save(state)
        Validation.model_validate(checked).save(state)
        return project

    return factory


def actions_env(
    fake: FakeGitHub, tmp_path: Path, pr: int | None = 7, **extra: str
) -> dict[str, str]:
    """A pull_request job (or a push when pr is None) on the fake GitHub."""
    event = tmp_path / f"event-{pr}.json"
    payload: dict[str, Any] = {}
    if pr is not None:
        payload = {"pull_request": {"number": pr, "head": {"sha": HEAD}}}
    event.write_text(json.dumps(payload))
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    output.touch()
    return fake.env(
        GITHUB_EVENT_PATH=str(event),
        GITHUB_EVENT_NAME="pull_request" if pr is not None else "push",
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
        **extra,
    )


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_in_actions_the_report_is_commented_summarised_and_set_as_status(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = actions_env(github, tmp_path)
    result = project.cli("report", env=env)
    assert result.code == 0, result.err

    on_disk = (project.state / "report.md").read_text()
    [comment] = github.podium_comments(7)
    assert comment["body"] == on_disk
    assert on_disk.startswith(report.marker("churn"))
    assert "not promoted from pull requests" in on_disk
    assert f"commit [`1234567`]({github.web_url}/acme/churn/commit/{HEAD})" in on_disk
    assert on_disk.rstrip() in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "comment-url<<" in Path(env["GITHUB_OUTPUT"]).read_text()
    [status] = github.statuses
    assert status["sha"] == HEAD  # the PR's head, not the merge commit in GITHUB_SHA
    assert status["state"] == "success" and status["context"] == "podium/churn"
    assert status["description"].startswith("v14 promotable: every gate passes")
    assert status["target_url"] == comment["html_url"]
    assert f"PR comment posted: {comment['html_url']}" in result.out
    # The token is handed to the runner's masking only, never printed otherwise.
    assert result.out.count(github.token) == 1 and f"::add-mask::{github.token}" in result.out
    assert github.token not in result.err


def test_a_rerun_edits_the_same_comment(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = actions_env(github, tmp_path)
    assert project.cli("report", env=env).code == 0
    evaluated = Evaluation.load(project.state, needed_by="test")
    evaluated.challenger.version = "15"
    evaluated.save(project.state)
    second = project.cli("report", env=env)
    assert second.code == 0, second.err
    [comment] = github.podium_comments(7)
    assert "challenger **v15**" in comment["body"]
    assert "PR comment updated" in second.out
    assert github.count("create_comment") == 1 and github.count("update_comment") == 1


def test_podiums_comment_is_found_among_many(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    for i in range(120):
        github.add_comment(7, f"review comment {i}")
    github.add_comment(7, report.marker("churn") + "\nan older report", login="github-actions[bot]")
    project = reported()
    result = project.cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err
    assert len(github.podium_comments(7)) == 1 and len(github.comments[7]) == 121
    assert github.count("list_comments") == 2  # every page, following the Link header
    assert github.count("create_comment") == 0


def test_two_models_in_one_repository_keep_two_comments(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    env = actions_env(github, tmp_path)
    for _ in range(2):
        for name in ("churn", "upsell"):
            assert reported(name=name).cli("report", env=env).code == 0
    markers = sorted(c["body"].splitlines()[0] for c in github.podium_comments(7))
    assert markers == [report.marker("churn"), report.marker("upsell")]
    assert (
        sorted(s["context"] for s in github.statuses)
        == ["podium/churn"] * 2 + ["podium/upsell"] * 2
    )


def test_an_oversized_report_is_shortened_in_the_comment_only(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported(drift_name_length=2000)
    env = actions_env(github, tmp_path)
    result = project.cli("report", env=env)
    assert result.code == 0, result.err
    full = (project.state / "report.md").read_text()
    assert report.size(full) > report.GITHUB_COMMENT_LIMIT
    [comment] = github.podium_comments(7)
    assert report.size(comment["body"]) <= report.GITHUB_COMMENT_LIMIT
    assert "left out): the full report is in the [job summary]" in comment["body"]
    assert "| roc_auc |" in comment["body"]
    assert full.rstrip() in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "shortened to fit a comment" in result.out


def test_a_502_then_success(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    github.fail("create_comment", 502)
    result = reported().cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err
    assert len(github.podium_comments(7)) == 1 and github.count("create_comment") == 2


def test_a_secondary_rate_limit_then_success(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    github.secondary_rate_limit("create_comment", retry_after=1)
    result = reported().cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err
    assert len(github.podium_comments(7)) == 1 and len(github.statuses) == 1


def test_bad_credentials_exit_2_and_keep_the_report(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = actions_env(github, tmp_path, GITHUB_TOKEN="ghs_revokedToken")
    result = project.cli("report", env=env)
    assert result.code == 2
    line = one_line_error(result.err)
    assert "401" in line and "--github-token or GITHUB_TOKEN" in line
    assert "the report is kept in" in line and "report.md and the job summary" in line
    assert "ghs_revokedToken" not in result.err
    assert (project.state / "report.md").is_file()
    assert report.marker("churn") in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert github.comments[7] == [] and github.statuses == []


def test_a_missing_permission_exit_2_naming_it_and_the_status_is_still_set(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    github.fail("create_comment", 403, message="Resource not accessible by integration")
    result = reported().cli("report", env=actions_env(github, tmp_path))
    assert result.code == 2
    assert "`permissions: pull-requests: write`" in one_line_error(result.err)
    assert github.comments[7] == [] and len(github.statuses) == 1


def test_a_missing_pull_request_exit_2(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    project = reported()
    env = actions_env(github, tmp_path, pr=None)
    result = project.cli("report", "--pr", "99", env=env)
    assert result.code == 2
    assert "pull request #99 not found in acme/churn" in one_line_error(result.err)
    assert (project.state / "report.md").is_file()


def test_no_token_on_a_pull_request_exit_2(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = actions_env(github, tmp_path, GITHUB_TOKEN="")
    result = project.cli("report", env=env)
    assert result.code == 2
    assert "no GitHub token to comment on pull request #7" in one_line_error(result.err)
    assert (project.state / "report.md").is_file() and github.requests == []


def test_ghes_api_prefix(
    ghes: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    ghes.add_pull(7, head_sha=HEAD)
    result = reported().cli("report", env=actions_env(ghes, tmp_path))
    assert result.code == 0, result.err
    assert len(ghes.podium_comments(7)) == 1 and len(ghes.statuses) == 1


def test_an_explicit_pr_reads_its_head_commit(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(12, head_sha="abcdef1" + "0" * 33)
    result = reported().cli("report", "--pr", "12", env=actions_env(github, tmp_path, pr=None))
    assert result.code == 0, result.err
    assert len(github.podium_comments(12)) == 1
    assert github.statuses[0]["sha"] == "abcdef1" + "0" * 33


def test_failed_gates_set_a_failure_status(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    result = reported(passed=False).cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err  # the report itself succeeded
    [status] = github.statuses
    assert status["state"] == "failure"
    assert status["description"] == "v14 not promotable: roc_auc 0.5 is below the minimum 0.8"
    assert "**Not promotable**" in github.podium_comments(7)[0]["body"]


def test_a_push_sets_the_status_without_a_comment(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    result = reported().cli("report", env=actions_env(github, tmp_path, pr=None))
    assert result.code == 0, result.err
    [status] = github.statuses
    assert status["sha"] == "f" * 40 and status["target_url"].endswith("/actions/runs/4242")
    assert github.count("create_comment") == 0 and github.count("list_comments") == 0


def test_outside_actions_it_prints_and_writes_the_report(
    github: FakeGitHub, reported: Callable[..., Project]
) -> None:
    project = reported()
    env = {"GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": github.token}
    result = project.cli("report", env=env)
    assert result.code == 0, result.err
    written = (project.state / "report.md").read_text()
    assert written.strip() in result.out
    assert f"report written to {project.state / 'report.md'}" in result.out
    assert github.requests == []
    assert "not promoted from pull requests" not in written


def test_without_results_report_says_what_to_run(project: Project) -> None:
    result = project.cli("report")
    assert result.code == 2
    assert "run that first" in one_line_error(result.err)


def test_the_comment_body_matches_the_renderer(reported: Callable[..., Project]) -> None:
    """What the stage writes is exactly `report.render` of the results (a pure function)."""
    project = reported()
    assert project.cli("report").code == 0
    state = project.state
    expected = report.render(
        evaluation=Evaluation.load(state, needed_by="test"),
        training=Training.load(state, needed_by="test"),
        validation=Validation.load(state, needed_by="test"),
        context={"podium_version": __import__("podium").__version__, "root": str(project.root)},
    )
    assert (state / "report.md").read_text() == expected


def _workflow_run_env(fake: FakeGitHub, tmp_path: Path, head_sha: str) -> dict[str, str]:
    """The comment job of podium-pr-comment.yml: a workflow_run event, results from a PR run."""
    event = tmp_path / "workflow_run.json"
    event.write_text(
        json.dumps(
            {
                "workflow_run": {
                    "id": 99,
                    "event": "pull_request",
                    "head_sha": head_sha,
                    "html_url": f"{fake.web_url}/{fake.repository}/actions/runs/99",
                    "pull_requests": [],  # a fork's PR is not listed: the number comes from results
                }
            }
        )
    )
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    output.touch()
    return fake.env(
        GITHUB_EVENT_PATH=str(event),
        GITHUB_EVENT_NAME="workflow_run",
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
    )


def test_workflow_run_posts_on_the_pr_whose_head_the_results_came_from(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    result = reported().cli("report", "--pr", "7", env=_workflow_run_env(github, tmp_path, HEAD))
    assert result.code == 0, result.err
    comments = github.podium_comments(7)
    assert len(comments) == 1
    assert "/actions/runs/99" in comments[0]["body"]  # the PR run, not the comment job
    assert github.statuses[0]["sha"] == HEAD


def test_workflow_run_refuses_a_pr_number_that_is_not_the_runs(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    """A fork's results name PR #8, which it does not own: nothing is posted there."""
    github.add_pull(7, head_sha=HEAD)
    github.add_pull(8, head_sha="9" * 40)
    result = reported().cli("report", "--pr", "8", env=_workflow_run_env(github, tmp_path, HEAD))
    assert result.code == 0, result.err
    assert "not posted" in result.out + result.err
    assert github.podium_comments(8) == [] and github.statuses == []


def test_a_pr_whose_data_failed_validation_still_gets_its_comment_and_a_failure_status(
    github: FakeGitHub, make_project: Callable[..., Project], tmp_path: Path
) -> None:
    from tests.test_report import failed_validation

    project = make_project()
    project.state.mkdir(parents=True, exist_ok=True)
    Validation.model_validate(failed_validation()).save(project.state)
    github.add_pull(7, head_sha=HEAD)
    result = project.cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err
    comments = github.podium_comments(7)
    assert len(comments) == 1 and "the data did not pass validation" in comments[0]["body"]
    assert github.statuses[0]["state"] == "failure" and github.statuses[0]["sha"] == HEAD


def test_without_evaluation_a_passed_validation_still_asks_for_evaluate(
    make_project: Callable[..., Project],
) -> None:
    from tests.test_report import validation

    project = make_project()
    project.state.mkdir(parents=True, exist_ok=True)
    Validation.model_validate(validation()).save(project.state)
    result = project.cli("report")
    assert result.code == 2 and "podium evaluate" in result.err
