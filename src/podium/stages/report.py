"""`podium report`: render the comparison; write it to disk (and the job summary in CI);
in GitHub Actions, post it as the PR comment and set the commit status.

The report is written to `.podium/report.md` and the job summary *before* anything is
sent to GitHub, so a comment that cannot be posted never loses the report.

Under `workflow_run` (podium-pr-comment.yml) the results were uploaded by a pull request's
run, and a fork's run is the fork's code: the model name, the marker and the MLflow links
come from podium.yaml, results for another model are refused, the report says a fork's
results are unverified and the `podium/<model>` status is never `success` from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium import __version__, gha, report
from podium.config import Config
from podium.errors import InputError, PodiumError, ServiceError
from podium.report.markdown import one_line, version_label
from podium.results import REPORT, Evaluation, Promotion, Training, Validation, write_state


@dataclass
class ReportResult:
    markdown: str
    path: Path
    in_summary: bool
    comment_url: str | None = None
    comment_created: bool | None = None
    status: str | None = None  # the commit status podium set: success / failure / pending
    truncated: bool = False  # the PR comment had to leave sections out
    skipped: str | None = None  # why nothing was posted, when that was expected


@dataclass
class StageResults:
    """What a report describes: the results of one run's stages (None: not run)."""

    validation: Validation | None = None
    training: Training | None = None
    evaluation: Evaluation | None = None
    promotion: Promotion | None = None


def load_results(config: Config) -> StageResults:
    """The stage results in `.podium/`, each checked against its schema (exit 2 if bad)."""
    state, model = config.state_dir, config.model.name
    validation = Validation.load_optional(state)
    evaluation = Evaluation.load_optional(state, model=model)
    data_failed = validation is not None and not validation.passed
    if evaluation is None and not data_failed:  # say which stage to run
        evaluation = Evaluation.load(state, needed_by="report", model=model)
    return StageResults(
        validation=validation,
        training=Training.load_optional(state, model=model),
        evaluation=evaluation,
        promotion=Promotion.load_optional(state),
    )


def _inputs(
    config: Config, pr: int | None, found: StageResults, env: gha.GitHubEnv
) -> dict[str, Any]:
    """What `report.render` needs: the results and the environment. The results'
    loader has refused results for another model than podium.yaml's."""
    training, evaluation = found.training, found.evaluation
    if training and (evaluation is None or training.version != evaluation.challenger.version):
        training = None  # a stale training result must not describe another version
    context = {
        "podium_version": __version__,
        "commit": _event_head_sha(pr, env) or gha.git_commit(config.root, env),
        "repository_url": env.repository_url,
        # Under workflow_run the results come from the triggering run, not this one.
        "run_url": str((env.workflow_run or {}).get("html_url") or "") or env.run_url,
        "pull_request": pr,
        "root": str(config.root),
        "fork": _fork(env),
    }
    # Results handed over by another run (a pull request's) never promoted anything.
    promotion = None if env.workflow_run else found.promotion
    return {
        "evaluation": evaluation,
        "training": training,
        "validation": found.validation,
        "promotion": promotion,
        "context": context,
    }


def _fork(env: gha.GitHubEnv) -> str | None:
    """Under `workflow_run`, the repository the triggering run's code came from, when it is
    not this one: its results were computed by code this repository never reviewed.

    A payload that does not say (e.g. a deleted fork) counts as a fork.
    """
    run = env.workflow_run
    if run is None:
        return None
    head = run.get("head_repository")
    head_name = head.get("full_name") if isinstance(head, dict) else None
    base = env.event.get("repository")
    base_name = base.get("full_name") if isinstance(base, dict) else None
    base_name = base_name or env.repository
    if isinstance(head_name, str) and isinstance(base_name, str) and head_name:
        if head_name.lower() == base_name.lower():
            return None
        return head_name
    return "an unknown repository"


def build_report(
    *, config: Config, pr: int | None = None, found: StageResults | None = None
) -> ReportResult:
    """Render the results (`found`, else `.podium/`'s) to `.podium/report.md` (and the job
    summary in Actions)."""
    env = gha.github_env()
    number = pr if pr is not None else env.pr_number
    return _build(config, _inputs(config, number, found or load_results(config), env))


def _render(config: Config, inputs: dict[str, Any], limit: int | None = None) -> str:
    if inputs["evaluation"] is None:  # the data failed validation: nothing was compared
        return report.render_data_failure(
            model_name=config.model.name, validation=inputs["validation"], context=inputs["context"]
        )
    return report.render(
        **inputs, model_name=config.model.name, tracking_uri=config.registry_label, limit=limit
    )


def _build(config: Config, inputs: dict[str, Any]) -> ReportResult:
    markdown = _render(config, inputs)
    path = write_state(config.state_dir, REPORT, markdown)
    in_summary = gha.summary(markdown, full=path)
    return ReportResult(markdown=markdown, path=path, in_summary=in_summary)


def publish_report(
    *,
    config: Config,
    github_token: str | None = None,
    pr: int | None = None,
    comment_author: str | None = None,
) -> ReportResult:
    """Build the report; in Actions (or with an explicit `pr`) post the PR comment and status.

    The comment is podium's one comment for this model on the PR (found by its hidden
    marker and its author, `comment_author` — default $PODIUM_COMMENT_AUTHOR, else
    github-actions[bot] — and edited); the status is `podium/<model>` on the PR's head
    commit.
    """
    env = gha.github_env()
    number = pr if pr is not None else env.pr_number
    inputs = _inputs(config, number, load_results(config), env)
    built = _build(config, inputs)
    if not (env.in_actions or pr is not None):
        built.skipped = "not in GitHub Actions"
        return built

    def kept(error: PodiumError) -> PodiumError:
        where = f"{built.path}" + (" and the job summary" if built.in_summary else "")
        return type(error)(f"{error}; the report is kept in {where}")

    token = github_token or env.token or ""
    repository = env.repository or ""
    if not token:
        if number is None:  # nothing to comment on; a status is a nicety without a token
            gha.warning("no GitHub token (--github-token / GITHUB_TOKEN): commit status not set")
            built.skipped = "no pull request and no token"
            return built
        raise kept(
            InputError(
                f"no GitHub token to comment on pull request #{number}: pass --github-token "
                "or set GITHUB_TOKEN (in a workflow: GITHUB_TOKEN: ${{ github.token }})"
            )
        )
    gha.mask(token)
    if not repository:
        raise kept(
            InputError("GITHUB_REPOSITORY is not set: set it to 'owner/name' to post the report")
        )
    from podium.github import BadCredentials, GitHub

    try:
        client = GitHub(
            token=token,
            repository=repository,
            api_url=env.api_url,
            author=comment_author or env.comment_author,
        )
    except PodiumError as exc:
        raise kept(exc) from None
    evaluation = inputs["evaluation"]
    model = config.model.name
    stale = _foreign_results(client, number, env)
    if stale:
        gha.warning(stale)
        built.skipped = stale
        return built
    failure: PodiumError | None = None
    if number is not None:
        body = _render(config, inputs, limit=report.GITHUB_COMMENT_LIMIT)
        built.truncated = body != built.markdown
        try:
            posted = client.upsert_comment(number, report.marker(model), body)
            built.comment_url, built.comment_created = posted.url, posted.created
            if warning := posted.unexpected_author(client.author):
                gha.warning(f"PR comment: {warning}")
            gha.set_output("comment-url", posted.url)
        except PodiumError as exc:
            failure = exc
    # Same token, same server: after bad credentials or an outage a status would fail too.
    if not isinstance(failure, BadCredentials | ServiceError):
        try:
            built.status = _set_status(
                client,
                config,
                evaluation,
                number,
                built.comment_url,
                env,
                fork=inputs["context"]["fork"],
            )
        except PodiumError as exc:
            failure = failure or exc
    if failure is not None:
        raise kept(failure) from None
    return built


def _set_status(
    client: Any,
    config: Config,
    evaluation: Evaluation | None,
    pr: int | None,
    comment: str | None,
    env: gha.GitHubEnv,
    *,
    fork: str | None,
) -> str | None:
    sha = _event_head_sha(pr, env)
    if sha is None and pr is not None:
        sha = client.pull_head_sha(pr)
    sha = sha or gha.git_commit(config.root, env)
    if not sha:
        gha.warning("no commit to set the podium status on (GITHUB_SHA is not set)")
        return None
    if evaluation is None:
        state, description = "failure", "the data did not pass validation: nothing was trained"
    else:
        passed = evaluation.passed is True  # a schema-checked bool; never truthy by accident
        state = "success" if passed else "failure"
        version = version_label(evaluation.challenger.version, plain=True)
        verdict = "promotable" if passed else "not promotable"
        summary = one_line(evaluation.summary, 140)
        description = f"{version} {verdict}: {summary}"
        if fork is not None and state == "success":
            # A fork's run computed these results: they may say anything, so they never make
            # the status green (a repository may require it); a failure they report stands.
            state, description = "pending", f"{version} would be promotable"
    if fork is not None:
        description = f"fork results, unverified: {description}"
    client.set_status(
        sha,
        state=state,
        context=f"podium/{config.model.name}",
        description=description,
        target_url=comment or env.run_url,
    )
    return state


def _foreign_results(client: Any, pr: int | None, env: gha.GitHubEnv) -> str | None:
    """Under `workflow_run`, why the results must not be posted on PR `pr`, if they must not.

    The comment job of a fork PR learns the PR number from the PR run's results, which
    the fork controls. Posting is only safe when that PR's head commit is the commit the
    triggering run built; otherwise (a forged number, or a PR pushed to since) nothing
    is posted: the run for the newer commit will post its own report.
    """
    run = env.workflow_run
    if run is None or pr is None:
        return None
    built = str(run.get("head_sha") or "")
    head = client.pull_head_sha(pr)
    if built and head == built:
        return None
    return (
        f"not posted: pull request #{pr} is at {head[:7]}, but these results were built "
        f"from {built[:7] or 'an unknown commit'} (a newer push, or a PR number that does "
        "not belong to the triggering run)"
    )


def _event_head_sha(pr: int | None, env: gha.GitHubEnv) -> str | None:
    """The commit the results describe: the triggering run's head under `workflow_run`,
    else the PR's head from the event payload (GITHUB_SHA is a merge commit on PRs)."""
    run = env.workflow_run
    if run is not None:
        sha = run.get("head_sha")
        return sha if isinstance(sha, str) and sha else None
    pull = env.pull_request
    if pull is None or (pr is not None and pull.get("number") != pr):
        return None
    sha = (pull.get("head") or {}).get("sha")
    return sha if isinstance(sha, str) and sha else None
