"""The one module that talks to GitHub (through PyGithub).

- `base_url` comes from GITHUB_API_URL, so GitHub Enterprise Server (`…/api/v3`) works.
- PyGithub's own retry is off: it would re-POST a comment after a 5xx, and a POST
  answered 5xx may have succeeded. podium retries itself, a bounded number of times,
  on 5xx, connection errors and rate limits (403/429 with Retry-After), and before
  re-posting a comment it looks for its marker again.
- podium's comment (and monitoring issue) is the one that starts with its marker AND was
  written by podium's own login (`author`: `github-actions[bot]` for the job token,
  `<app-slug>[bot]` for a GitHub App token), the oldest if several: anyone may post a
  comment that starts with the marker, and podium never edits a comment someone else
  wrote — it creates its own.
- Failures become podium errors: a token or permission problem is an InputError
  (exit 2) naming what is missing; GitHub still failing after the retries is a
  ServiceError (exit 3). The token never appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from podium import __version__
from podium.errors import InputError, PodiumError, ServiceError

if TYPE_CHECKING:
    from github.Issue import Issue
    from github.IssueComment import IssueComment
    from github.Repository import Repository

DEFAULT_API_URL = "https://api.github.com"
RETRY_DELAYS = (1.0, 2.0, 4.0)  # seconds before the 2nd, 3rd and 4th attempt
MAX_WAIT = 60.0  # a Retry-After longer than this is reported, not waited for
DEFAULT_AUTHOR = "github-actions[bot]"  # the login of a job's GITHUB_TOKEN
# A user login, or a GitHub App's bot (`<app-slug>[bot]`).
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,99})(?:\[bot\])?$")

T = TypeVar("T")


@dataclass(frozen=True)
class Posted:
    """The PR comment (or monitoring issue) podium created or updated."""

    id: int  # the comment's id, or the issue's number
    url: str  # the comment on github.com (html_url)
    created: bool
    author: str = ""  # the login it is written by (GitHub's answer)

    def unexpected_author(self, expected: str) -> str | None:
        """A warning when podium just posted as someone other than `expected`: the next
        run would not recognise this comment as its own and would post another."""
        if not self.created or not self.author or self.author.casefold() == expected.casefold():
            return None
        return (
            f"the token posts as {self.author}, not {expected}: set --comment-author "
            f"{self.author} (PODIUM_COMMENT_AUTHOR, or the comment-author input), or the "
            "next run posts a new one instead of editing it"
        )


@dataclass(frozen=True)
class Review:
    """One review of a workflow run's protected environment(s)."""

    login: str
    state: str  # approved | rejected | pending
    environments: tuple[str, ...]
    comment: str = ""


class BadCredentials(InputError):
    """GitHub rejected the token itself (401): no other call with it can succeed."""


class _Retry(Exception):
    """A failed attempt that may succeed later (5xx, rate limit, connection)."""

    def __init__(self, wait: float, reason: str) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason


class GitHub:
    """A repository on GitHub (or GHES) seen through one token."""

    def __init__(
        self,
        *,
        token: str,
        repository: str,
        api_url: str | None = None,
        author: str | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        max_wait: float = MAX_WAIT,
        timeout: int = 30,
        per_page: int = 100,
    ) -> None:
        from github import Auth, Github

        if repository.count("/") != 1 or not all(repository.split("/")):
            raise InputError(
                f"GITHUB_REPOSITORY: '{repository}' is not 'owner/name'; "
                "run inside GitHub Actions or set it"
            )
        author = author or DEFAULT_AUTHOR
        if not _LOGIN.match(author):
            raise InputError(
                f"--comment-author / PODIUM_COMMENT_AUTHOR: '{author}' is not a GitHub login; "
                f"use the login the token posts as: {DEFAULT_AUTHOR} for the job's token, "
                "<app-slug>[bot] for a GitHub App token"
            )
        self.author = author
        self.repository = repository
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.retry_delays = tuple(retry_delays)
        self.max_wait = max_wait
        self._client = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=timeout,
            user_agent=f"podium/{__version__}",
            per_page=per_page,
            retry=None,  # podium retries (see module docstring)
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,  # no GET for objects podium only writes to
        )
        self._repo: Repository = self._client.get_repo(repository)

    # ------------------------------------------------------------------ operations

    def upsert_comment(self, pr: int, marker: str, body: str) -> Posted:
        """Edit podium's comment on the PR (found by `marker` and its author), or create
        it; never two, and never someone else's."""
        issue = self._repo.get_issue(pr)
        found = self._find(issue, pr, marker)
        if found is not None:
            return self._edit(found, body, pr)
        what = f"comment on pull request #{pr}"
        last = len(self.retry_delays)
        for attempt in range(last + 1):
            try:
                comment = issue.create_comment(body)
                return Posted(comment.id, comment.html_url, True, _login(comment.user))
            except Exception as exc:  # classified; unknown ones re-raised
                retry = self._classify(exc, what, "`permissions: pull-requests: write`", pr=pr)
            if attempt < last:
                self._sleep(retry, attempt, what)
            # The POST may have landed although it failed: look again before re-posting.
            found = self._find(issue, pr, marker)
            if found is not None:
                return self._edit(found, body, pr, created=True)
        raise self._exhausted(retry, what)

    def upsert_issue(self, marker: str, title: str, body: str) -> Posted:
        """Edit podium's open issue for `marker`, or open one; never two.

        Like PR comments: the marker starts the body and podium's login opened it; every
        page of open issues is searched, and after a failed POST podium looks again before
        re-posting.
        """
        need = "`permissions: issues: write`"
        found = self._find_issue(marker)
        if found is not None:
            return self._edit_issue(found, title, body)
        what = "open the monitoring issue"
        last = len(self.retry_delays)
        for attempt in range(last + 1):
            try:
                issue = self._repo.create_issue(title=title, body=body)
                return Posted(issue.number, issue.html_url, True, _login(issue.user))
            except Exception as exc:  # classified; unknown ones re-raised
                retry = self._classify(exc, what, need, pr=None)
            if attempt < last:
                self._sleep(retry, attempt, what)
            found = self._find_issue(marker)
            if found is not None:
                return self._edit_issue(found, title, body, created=True)
        raise self._exhausted(retry, what)

    def start_workflow(self, workflow: str, ref: str, inputs: dict[str, str]) -> None:
        """Start a `workflow_dispatch` run of `workflow` (a file name) on `ref`.

        With the job's GITHUB_TOKEN this needs only `actions: write`, and it is one of the
        two events such a token may send that do start a run. Retried like the rest: a
        second run after a lost answer is one more retraining, which the promote
        workflow's concurrency group serialises.
        """
        from urllib.parse import quote

        from github import GithubException

        def send() -> None:
            status, headers, data = self._client.requester.requestJson(
                "POST",
                f"{self._repo.url}/actions/workflows/{quote(workflow, safe='')}/dispatches",
                input={"ref": ref, "inputs": inputs},
            )
            if status != 204:
                raise GithubException(status, _parsed(data), headers)

        self._call(
            send,
            f"start the workflow {workflow} on {ref}",
            "`permissions: actions: write` (or a ci.secrets.dispatch_token with Actions: "
            f"write) and {workflow} committed on {ref} (`podium init`)",
        )

    def branch_rules(self, branch: str) -> set[str]:
        """The types of the ruleset rules in force on `branch` (e.g. {"update", "deletion"})."""
        from urllib.parse import quote

        from github import GithubException

        def read() -> set[str]:
            status, headers, data = self._client.requester.requestJson(
                "GET", f"{self._repo.url}/rules/branches/{quote(branch, safe='')}"
            )
            parsed = _parsed(data)
            if status != 200:
                raise GithubException(status, parsed, headers)
            items = parsed if isinstance(parsed, list) else []
            return {str(rule.get("type")) for rule in items if isinstance(rule, dict)}

        return self._call(
            read, f"read the rules of the branch {branch}", "`permissions: contents: read`"
        )

    def set_status(
        self, sha: str, *, state: str, context: str, description: str, target_url: str | None
    ) -> None:
        """Set a commit status (e.g. `podium/<model>`: success/failure) on `sha`."""
        commit = self._repo.get_commit(sha)
        kwargs: dict[str, Any] = {"state": state, "context": context}
        kwargs["description"] = description if len(description) <= 140 else description[:139] + "…"
        if target_url:
            kwargs["target_url"] = target_url
        self._call(
            lambda: commit.create_status(**kwargs),
            f"set the commit status {context} on {sha[:7]}",
            "`permissions: statuses: write`",
        )

    def run_approvals(self, run_id: str) -> list[Review]:
        """The review history of a workflow run's protected environments: who approved
        (or rejected) which environment (`actions: read`)."""
        from github import GithubException

        def read() -> list[Review]:
            status, headers, data = self._client.requester.requestJson(
                "GET", f"{self._repo.url}/actions/runs/{int(run_id)}/approvals"
            )
            found = _parsed(data)
            if status != 200 or not isinstance(found, list):
                raise GithubException(status, found, headers)
            return [
                Review(
                    login=str((item.get("user") or {}).get("login") or ""),
                    state=str(item.get("state") or ""),
                    environments=tuple(
                        str(e.get("name")) for e in item.get("environments") or [] if e.get("name")
                    ),
                    comment=str(item.get("comment") or ""),
                )
                for item in found
                if isinstance(item, dict)
            ]

        return self._call(
            read,
            f"read who approved workflow run {run_id}",
            "`permissions: actions: read` (run `podium init` to regenerate the workflows)",
        )

    def pull_head_sha(self, pr: int) -> str:
        """The head commit of a pull request (where its checks and statuses live)."""
        pull = self._call(
            lambda: self._repo.get_pull(pr).head.sha,
            f"read pull request #{pr}",
            "`permissions: pull-requests: read`",
            pr=pr,
        )
        return str(pull)

    # ------------------------------------------------------------------ internals

    def _mine(self, body: str | None, user: object, marker: str) -> bool:
        """Whether a comment or issue is podium's: its marker first, its author podium.

        `user` is the author as PyGithub returns it (None for a deleted account)."""
        login = _login(user)
        if not login or login.casefold() != self.author.casefold():  # logins ignore case
            return False
        return (body or "").lstrip().startswith(marker)

    def _find(self, issue: Issue, pr: int, marker: str) -> IssueComment | None:
        """podium's comment for this marker, searching every page; the oldest if several
        (a later copy cannot take its place)."""

        def scan() -> IssueComment | None:
            first = None
            for comment in issue.get_comments():
                if self._mine(comment.body, comment.user, marker) and (
                    first is None or comment.id < first.id
                ):
                    first = comment
            return first

        what = f"read the comments of pull request #{pr}"
        return self._call(scan, what, "`permissions: pull-requests: read`", pr=pr)

    def _find_issue(self, marker: str) -> Issue | None:
        """podium's open issue for this marker (not a pull request), searching every page;
        the oldest if several."""

        def scan() -> Issue | None:
            first = None
            for issue in self._repo.get_issues(state="open"):
                # The issues list includes pull requests; reading `pull_request` on an
                # issue without one would cost a GET per issue (lazy completion).
                if "/pull/" in (issue.html_url or ""):
                    continue
                if self._mine(issue.body, issue.user, marker) and (
                    first is None or issue.number < first.number
                ):
                    first = issue
            return first

        return self._call(scan, "read the open issues", "`permissions: issues: read`")

    def _edit_issue(self, issue: Issue, title: str, body: str, created: bool = False) -> Posted:
        if issue.body != body or issue.title != title:
            self._call(
                lambda: issue.edit(title=title, body=body),
                f"update issue #{issue.number}",
                "`permissions: issues: write`",
            )
        return Posted(issue.number, issue.html_url, created, _login(issue.user))

    def _edit(self, comment: IssueComment, body: str, pr: int, created: bool = False) -> Posted:
        if comment.body != body:
            self._call(
                lambda: comment.edit(body),  # PATCH is idempotent: plain retries are safe
                f"update podium's comment on pull request #{pr}",
                "`permissions: pull-requests: write`",
                pr=pr,
            )
        return Posted(comment.id, comment.html_url, created, _login(comment.user))

    def _call(self, action: Callable[[], T], what: str, need: str, pr: int | None = None) -> T:
        last = len(self.retry_delays)
        for attempt in range(last + 1):
            try:
                return action()
            except Exception as exc:  # classified; unknown ones re-raised
                retry = self._classify(exc, what, need, pr=pr)
            if attempt < last:
                self._sleep(retry, attempt, what)
        raise self._exhausted(retry, what)

    def _sleep(self, retry: _Retry, attempt: int, what: str) -> None:
        wait = max(retry.wait, self.retry_delays[attempt])
        if wait > self.max_wait:
            raise ServiceError(
                f"GitHub ({self.api_url}) asks to wait {wait:.0f} s before trying to {what} "
                f"again ({retry.reason}); re-run the job later"
            )
        time.sleep(wait)

    def _exhausted(self, retry: _Retry, what: str) -> ServiceError:
        return ServiceError(
            f"GitHub ({self.api_url}) failed to {what} after {len(self.retry_delays) + 1} "
            f"attempts ({retry.reason}); try again later"
        )

    def _classify(self, exc: Exception, what: str, need: str, *, pr: int | None) -> _Retry:
        """A retryable failure as _Retry; anything else raised as a podium error."""
        import requests
        from github import GithubException

        if isinstance(exc, requests.exceptions.RequestException):
            return _Retry(0.0, f"{type(exc).__name__}: cannot reach {self.api_url}")
        if not isinstance(exc, GithubException):
            raise exc
        status = exc.status
        headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
        message = _message(exc.data)
        if status >= 500:
            return _Retry(0.0, f"HTTP {status}")
        retry_after = _seconds(headers.get("retry-after"))
        rate_limited = "rate limit" in message.lower()
        if status == 429 or (status == 403 and (retry_after is not None or rate_limited)):
            if retry_after is None and headers.get("x-ratelimit-remaining") == "0":
                reset = _seconds(headers.get("x-ratelimit-reset"))
                retry_after = max(0.0, reset - time.time()) if reset is not None else None
            wait = retry_after if retry_after is not None else 60.0
            return _Retry(wait, f"HTTP {status} rate limit")
        raise self._input_error(status, message, what, need, pr)

    def _input_error(
        self, status: int, message: str, what: str, need: str, pr: int | None
    ) -> PodiumError:
        said = f"{status} {message}".strip()
        if status == 401:
            return BadCredentials(
                f"GitHub ({self.api_url}) rejected the token ({said}) trying to {what}; "
                "pass a valid token with --github-token or GITHUB_TOKEN "
                "(in a workflow: GITHUB_TOKEN: ${{ github.token }})"
            )
        if status == 403:
            return InputError(
                f"GitHub refused to {what} in {self.repository} ({said}); the workflow needs "
                f"{need} (pull requests from forks get a read-only token)"
            )
        if status == 404 and pr is not None:
            return InputError(
                f"pull request #{pr} not found in {self.repository} ({self.api_url}); check "
                f"--pr or the event, and that the token can see the repository ({need})"
            )
        if status == 404:
            return InputError(
                f"GitHub could not {what} in {self.repository} ({said}); check the "
                f"repository and commit, and that the token has {need}"
            )
        return InputError(f"GitHub refused to {what} in {self.repository} ({said})")


def _login(user: object) -> str:
    """The login of an author as PyGithub returns it ("" for a deleted account)."""
    login = getattr(user, "login", None)
    return login if isinstance(login, str) else ""


def _parsed(data: Any) -> Any:
    import json

    try:
        return json.loads(data) if isinstance(data, str) and data else None
    except ValueError:
        return None


def _message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return " ".join(data["message"].split())[:200]
    return ""


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
