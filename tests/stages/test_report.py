"""`podium report` in GitHub Actions against the loopback GitHub, and on a laptop."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium import report
from podium.results import Evaluation, Training, Validation
from tests.conftest import Project
from tests.github_fake import BOT, FakeGitHub, serve
from tests.report.test_comparison import evaluation, training, validation
from tests.runner_commands import Runner

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

    def factory(name: str = "churn", passed: bool = True, oversized: bool = False) -> Project:
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
        if oversized:  # long (but not over-long) values in every table, beyond the row caps
            features = checked["drift"]["features"]
            features += [{**features[0], "feature": f"f{i:03d}_" + "x" * 250} for i in range(60)]
            checks = checked["checks"]
            checks += [{**checks[0], "detail": f"{i} " + "d" * 900} for i in range(60)]
            checked["notes"] += [f"{i} " + "n" * 900 for i in range(60)]
        # in the pipeline's order: a stage's result replaces those after it (issue 31)
        Validation.model_validate(checked).save(state)
        Training.model_validate(trained).save(state)
        Evaluation.model_validate(evaluated).save(state)
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
    project = reported(oversized=True)
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
        model_name="churn",
        tracking_uri=f"sqlite:///{project.root / '.podium' / 'mlflow.db'}",
        evaluation=Evaluation.load(state, needed_by="test"),
        training=Training.load(state, needed_by="test"),
        validation=Validation.load(state, needed_by="test"),
        context={"podium_version": __import__("podium").__version__, "root": str(project.root)},
    )
    assert (state / "report.md").read_text() == expected


def _workflow_run_env(
    fake: FakeGitHub, tmp_path: Path, head_sha: str, *, fork: str | None = None
) -> dict[str, str]:
    """The comment job of podium-pr-comment.yml: a workflow_run event, results from a PR run
    (of a branch of this repository, or of `fork`)."""
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
                    "head_repository": {"full_name": fork or fake.repository},
                },
                "repository": {"full_name": fake.repository},
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
    from tests.report.test_comparison import failed_validation

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
    from tests.report.test_comparison import validation

    project = make_project()
    project.state.mkdir(parents=True, exist_ok=True)
    Validation.model_validate(validation()).save(project.state)
    result = project.cli("report")
    assert result.code == 2 and "podium evaluate" in result.err


# --------------------------------------------------------------- hostile input (issue 16)


def test_a_foreign_comment_with_podiums_marker_is_never_edited(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    """Anyone can post podium's marker on a PR; podium reports in its own comment."""
    github.add_pull(7, head_sha=HEAD)
    planted = github.add_comment(7, report.marker("churn") + "\n✅ Promotable", login="mallory")
    project = reported()
    env = actions_env(github, tmp_path)
    for _ in range(2):
        result = project.cli("report", env=env)
        assert result.code == 0, result.err
    assert planted["body"] == report.marker("churn") + "\n✅ Promotable"
    [mine] = github.podium_comments(7, login=BOT)
    assert mine["body"] == (project.state / "report.md").read_text()
    assert github.count("create_comment") == 1 and github.foreign_edits() == []
    assert all(s["target_url"] == mine["html_url"] for s in github.statuses)


def test_a_github_app_token_posts_as_the_comment_author(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.bot = "podium-app[bot]"  # the step's token is a GitHub App's
    github.add_pull(7, head_sha=HEAD)
    github.add_comment(7, report.marker("churn") + "\nby the workflow token", login=BOT)
    project = reported()
    env = actions_env(github, tmp_path)
    first = project.cli("report", "--comment-author", "podium-app[bot]", env=env)
    assert first.code == 0, first.err
    assert "PR comment posted" in first.out
    second = project.cli("report", env={**env, "PODIUM_COMMENT_AUTHOR": "podium-app[bot]"})
    assert second.code == 0, second.err
    assert "PR comment updated" in second.out
    assert len(github.podium_comments(7, login="podium-app[bot]")) == 1
    assert github.foreign_edits() == []


def test_an_app_token_without_its_comment_author_is_warned_about(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.bot = "podium-app[bot]"
    github.add_pull(7, head_sha=HEAD)
    result = reported().cli("report", env=actions_env(github, tmp_path))
    assert result.code == 0, result.err
    assert "::warning title=podium::PR comment: the token posts as podium-app[bot]" in result.out
    assert "set --comment-author podium-app[bot]" in result.out


def test_a_comment_author_that_is_no_login_is_exit_2(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = actions_env(github, tmp_path, PODIUM_COMMENT_AUTHOR="podium app")
    result = project.cli("report", env=env)
    assert result.code == 2
    line = one_line_error(result.err)
    assert "--comment-author / PODIUM_COMMENT_AUTHOR: 'podium app' is not a GitHub login" in line
    assert (project.state / "report.md").is_file() and github.requests == []


INJECTED = {
    "challenger.version": "14\n::warning file=x::pwned",
    "champion.version": "12\n::stop-commands::abc\n::error::pwned\n::abc::\n::error::pwned",
    "model_name": "churn\r::set-output name=passed::pwned ##[warning]pwned",
    "summary": "ok\n::add-mask::pwned\n  ::error title=pwned::pwned",
}


@pytest.mark.parametrize("field", sorted(INJECTED))
def test_results_cannot_send_the_runner_commands(
    field: str, github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    """The comment job of a fork PR renders the fork's result files: nothing in them may
    reach the privileged job's runner as a workflow command (issue 16 item 2)."""
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    path = project.state / "evaluation.json"
    evaluated = json.loads(path.read_text())
    target, _, key = field.rpartition(".")
    (evaluated[target] if target else evaluated)[key] = INJECTED[field]
    path.write_text(json.dumps(evaluated))
    env = _workflow_run_env(github, tmp_path, HEAD)
    result = project.cli("report", "--pr", "7", env=env)

    runner = Runner().feed(result.out).feed(result.err)
    seen = [(c.name, c.properties, c.data) for c in runner.commands]
    # podium's own one-line error may quote the refused value (encoded, inert): not a command
    # the results sent; every other command must be podium's and carry nothing of theirs.
    others = [c for c in seen if c[:2] != ("error", {"title": "podium"})]
    assert not any("pwned" in str(command) for command in others), seen
    tokens = {c.data for c in runner.commands if c.name == "stop-commands"}
    assert all(len(token) == 32 for token in tokens)
    assert {c.name for c in runner.commands} <= {"add-mask", "stop-commands", "error", *tokens}
    assert not runner.stopped  # podium's own later commands still work
    if result.code == 0:  # rendered (a results schema may refuse such a file instead)
        assert "pwned" in result.out and len(tokens) == 1
        assert any(c.name == "add-mask" for c in runner.commands)


# ------------------------------------------------------------------ hostile results, forks


def _write(project: Project, name: str, payload: dict[str, Any]) -> None:
    """A result file as a forger would write it (schema version kept: only the content lies)."""
    (project.state / name).write_text(json.dumps({"schema": 1, **payload}))


def _schema_valid(payloads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Hostile results with what the schema constrains (model names, versions, run ids,
    digests, the verdict) made valid: every free text stays hostile."""
    evaluated, trained = payloads["evaluation"], payloads["training"]
    evaluated.update(model_name="churn", passed=False)
    evaluated["challenger"].update(version="14", run_id="9f1e")
    evaluated["champion"].update(version="12", run_id="77aa")
    trained.update(model_name="churn", version="14", experiment_id="3")
    trained["train"]["sha256"] = "b6"
    payloads["validation"]["drift"]["reference_version"] = "12"
    payloads["promotion"].update(champion_version="12", previous_version=None)
    return payloads


def _evaluated(project: Project) -> dict[str, Any]:
    loaded = json.loads((project.state / "evaluation.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_a_forks_results_are_labelled_unverified_and_never_a_success_status(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    result = reported().cli("report", "--pr", "7", env=env)
    assert result.code == 0, result.err
    [comment] = github.podium_comments(7)
    body = comment["body"]
    assert body.startswith(report.marker("churn") + "\n")
    assert "> **Unverified results** — computed by the fork's own workflow run " in body
    assert "(`mallory/churn`)" in body
    [status] = github.statuses
    assert status["state"] == "pending" and status["context"] == "podium/churn"
    assert status["description"] == "fork results, unverified: v14 would be promotable"
    assert "commit status: pending" in result.out


def test_a_forks_failed_verdict_is_still_a_failure(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    result = reported(passed=False).cli("report", "--pr", "7", env=env)
    assert result.code == 0, result.err
    [status] = github.statuses
    assert status["state"] == "failure"
    assert status["description"].startswith("fork results, unverified: v14 not promotable: ")


def test_a_run_whose_head_repository_is_unknown_counts_as_a_fork(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    """A deleted fork's run has `head_repository: null`: not this repository's, so unverified."""
    github.add_pull(7, head_sha=HEAD)
    env = _workflow_run_env(github, tmp_path, HEAD)
    event = Path(env["GITHUB_EVENT_PATH"])
    payload = json.loads(event.read_text())
    payload["workflow_run"]["head_repository"] = None
    event.write_text(json.dumps(payload))
    assert reported().cli("report", "--pr", "7", env=env).code == 0
    assert github.statuses[0]["state"] == "pending"
    assert "Unverified results" in github.podium_comments(7)[0]["body"]


def test_a_same_repository_run_is_not_labelled(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    env = _workflow_run_env(github, tmp_path, HEAD)
    assert reported().cli("report", "--pr", "7", env=env).code == 0
    assert github.statuses[0]["state"] == "success"
    assert "Unverified" not in github.podium_comments(7)[0]["body"]


@pytest.mark.parametrize("passed", [None, "true", 1, "NaN"])
def test_a_pass_that_is_not_true_is_refused_and_never_a_status(
    github: FakeGitHub,
    reported: Callable[..., Project],
    tmp_path: Path,
    passed: Any,
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    evaluated = _evaluated(project)
    evaluated["passed"] = float("nan") if passed == "NaN" else passed
    if passed is None:
        del evaluated["passed"]
    _write(project, "evaluation.json", evaluated)  # json writes NaN as NaN, as a forger could
    result = project.cli("report", env=actions_env(github, tmp_path))
    # Only a JSON true is a pass: anything else is a malformed file, refused before a word
    # of it is rendered — no comment, no status (so never a green one).
    assert result.code == 2
    line = one_line_error(result.err)
    assert "evaluation.json: passed:" in line or "evaluation.json: is not valid JSON" in line
    assert github.comments[7] == [] and github.statuses == []


@pytest.mark.parametrize(
    "name", ["upsell", "churn -->\n<img src=x>", "churn\n::warning file=x::forged", None]
)
def test_results_for_another_model_are_refused_and_nothing_is_posted(
    github: FakeGitHub,
    reported: Callable[..., Project],
    tmp_path: Path,
    name: str | None,
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    evaluated = _evaluated(project)
    evaluated["model_name"] = name
    _write(project, "evaluation.json", evaluated)
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    result = project.cli("report", "--pr", "7", env=env)
    assert result.code == 2
    line = one_line_error(result.err)
    assert line.startswith(f"podium: {project.state / 'evaluation.json'}: ")
    assert "re-run `podium evaluate`" in line
    if name is not None:
        assert 'not "churn" (model.name in podium.yaml)' in line
    assert not any(out.lstrip().startswith("::warning file") for out in result.out.splitlines())
    assert github.comments[7] == [] and github.statuses == []


def test_a_training_result_for_another_model_is_refused(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    trained = json.loads((project.state / "train.json").read_text())
    trained["model_name"] = "upsell"
    _write(project, "train.json", trained)
    result = project.cli("report", env=actions_env(github, tmp_path))
    assert result.code == 2
    assert 'train.json: is for model "upsell", not "churn"' in one_line_error(result.err)
    assert github.comments[7] == [] and github.statuses == []


def test_the_marker_and_the_mlflow_links_come_from_podium_yaml(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    evaluated = _evaluated(project)
    evaluated["tracking_uri"] = "https://evil.example/"
    _write(project, "evaluation.json", evaluated)
    trained = json.loads((project.state / "train.json").read_text())
    trained["provenance"] = {
        "git_commit": "x) [pwned](https://evil.example",
        "workflow_run": "https://evil.example/run",
    }
    _write(project, "train.json", trained)
    config = project.config()
    config["registry"] = {"tracking_uri": "https://mlflow.acme.example"}
    project.write_config(config)
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    assert project.cli("report", "--pr", "7", env=env).code == 0
    [comment] = github.podium_comments(7)
    body = comment["body"]
    assert body.count("<!-- podium-report:") == 1 and body.startswith(report.marker("churn"))
    assert "evil.example" not in body
    assert "[challenger v14](https://mlflow.acme.example/#/models/churn/versions/14)" in body


def test_a_promotion_result_does_not_reach_a_pull_requests_report(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    """A fork can upload a promotion.json too: under workflow_run nothing was promoted."""
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    _write(
        project,
        "promotion.json",
        {"promoted": True, "champion_version": "14", "previous_version": "12", "reason": "x"},
    )
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    assert project.cli("report", "--pr", "7", env=env).code == 0
    body = github.podium_comments(7)[0]["body"]
    assert "is the new champion" not in body and "would replace champion" in body


def test_five_thousand_fake_metrics_are_refused_and_a_thousand_stay_within_a_comment(
    github: FakeGitHub, reported: Callable[..., Project], tmp_path: Path
) -> None:
    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    original = _evaluated(project)
    evaluated = copy.deepcopy(original)
    evaluated["challenger"]["metrics"].update({f"fake_{i:04d}": 0.5 for i in range(5000)})
    _write(project, "evaluation.json", evaluated)
    refused = project.cli("report", "--pr", "7", env=env)
    assert refused.code == 2 and "at most 1000" in one_line_error(refused.err)
    assert github.comments[7] == [] and github.statuses == []

    evaluated = copy.deepcopy(original)
    metrics = evaluated["challenger"]["metrics"]
    metrics.update({f"fake_{i:04d}": 0.5 for i in range(1000 - len(metrics))})
    _write(project, "evaluation.json", evaluated)
    result = project.cli("report", "--pr", "7", env=env)
    assert result.code == 0, result.err
    [comment] = github.podium_comments(7)
    assert report.size(comment["body"]) <= report.GITHUB_COMMENT_LIMIT
    assert "metrics more (all of them in `.podium/evaluation.json`)._" in comment["body"]
    assert sum(line.startswith("| fake_") for line in comment["body"].splitlines()) <= 40
    assert report.size(result.out) < report.GITHUB_COMMENT_LIMIT  # the printed report too


@pytest.mark.parametrize(
    "value",
    [
        "``<img src=x onerror=alert(1)>``",
        "[x](https://evil.example) @octocat @org/team #1",
        "```\n</details>\n<!-- podium-report: churn -->\n::warning::x",
        "\u202e|\\|" + "x" * 5000,
    ],
    ids=["img", "link-mention", "fence-marker-command", "bidi-pipe-long"],
)
def test_crafted_results_reach_the_comment_as_text(
    github: FakeGitHub,
    reported: Callable[..., Project],
    tmp_path: Path,
    value: str,
) -> None:
    """A fork's crafted results, every field hostile, through `podium report`: one marker
    (podium.yaml's), no HTML, no attacker link, no live mention, an unverified label."""
    from tests.report.test_markdown import _hostile, assert_inert

    github.add_pull(7, head_sha=HEAD)
    project = reported()
    env = _workflow_run_env(github, tmp_path, HEAD, fork="mallory/churn")
    files = {"training": "train.json"}
    # Hostile versions, run ids, digests and a NaN verdict: refused, nothing posted.
    for name, payload in _hostile(value).items():
        _write(project, files.get(name, f"{name}.json"), payload)
    refused = project.cli("report", "--pr", "7", env=env)
    assert refused.code == 2 and github.comments[7] == [] and github.statuses == []
    # Every field the schema leaves free (names, texts, paths, bounds) hostile: rendered inert.
    for name, payload in _schema_valid(_hostile(value)).items():
        _write(project, files.get(name, f"{name}.json"), payload)
    result = project.cli("report", "--pr", "7", env=env)
    assert result.code == 0, result.err
    [comment] = github.podium_comments(7)
    own = (f"{github.web_url}/acme/churn/",)  # the repository and its runs, from the event
    assert_inert(comment["body"], marker=report.marker("churn"), targets=own)
    assert "Unverified results" in comment["body"]
    assert [s["state"] for s in github.statuses] == ["failure"]  # its verdict is a failure
    # The printed report (in the privileged job's log) starts no line with a command.
    assert not any(line.startswith("::warning::") for line in result.out.splitlines())
