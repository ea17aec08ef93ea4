"""A loopback GitHub held to GitHub's own OpenAPI description.

A small threaded HTTP server (one per test) that implements the few REST endpoints
podium uses: pull requests, issue comments and issues (with real Link-header
pagination), commit statuses and workflow_dispatch. Every request podium sends and every response the fake returns is
validated with openapi-core against `shared/github-openapi/api.github.com.json`;
a violation is recorded and fails the test (see `serve`).

Response bodies start from GitHub's own examples in that description, with the
fields each test needs filled in and every URL pointing back at the fake (PyGithub
refuses to follow URLs outside its base URL). Responses with a status the
description does not document for the operation (502 from the load balancer, 401,
429 secondary rate limits) are GitHub behaviour the description is silent about:
requests are still validated, those responses are not.

Every token is a login: the job's token (`fake.token`) posts as `fake.bot`
(`github-actions[bot]`, or a GitHub App's `<slug>[bot]`), and `fake.add_user(login)`
hands out a token that posts as someone else. Comments and issues carry their
author in `user.login`, as GitHub's do, and every edit is recorded with who made it
(`fake.edits`), so a test can prove podium never edited a comment it did not write.

Faults are scripted per operation: `fake.fail("create_comment", 502, after=True)`
makes the next create return 502 *after* storing the comment, as a real GitHub
answering 5xx to a POST that succeeded does.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.github_openapi.subset import CUT

# GitHub's full description sits beside the repository on a developer's machine; the
# committed cut (tests/github_openapi) holds the same operations wherever it does not.
_SPEC_IN_SHARED = Path("shared") / "github-openapi" / "api.github.com.json"


def _full_spec_path() -> Path:
    """PODIUM_GITHUB_OPENAPI, else shared/ beside the checkout (CI) or above it (worktrees)."""
    if "PODIUM_GITHUB_OPENAPI" in os.environ:
        return Path(os.environ["PODIUM_GITHUB_OPENAPI"])
    checkout = Path(__file__).resolve().parents[1]
    candidates = [folder / _SPEC_IN_SHARED for folder in checkout.parents]
    return next((path for path in candidates if path.is_file()), candidates[0])


FULL_SPEC_PATH = _full_spec_path()
SPEC_PATH = FULL_SPEC_PATH if FULL_SPEC_PATH.is_file() else CUT
SPEC_HOST = "https://api.github.com"  # the server the description is written for
TOKEN = "ghs_podiumTestToken0123456789"
BOT = "github-actions[bot]"  # the login GitHub gives a job's GITHUB_TOKEN

_ROUTES = [
    ("GET", "get_pull", re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<n>\d+)$")),
    (
        "GET",
        "list_comments",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<n>\d+)/comments$"),
    ),
    (
        "POST",
        "create_comment",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<n>\d+)/comments$"),
    ),
    (
        "PATCH",
        "update_comment",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/comments/(?P<id>\d+)$"),
    ),
    ("GET", "list_issues", re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues$")),
    ("POST", "create_issue", re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues$")),
    (
        "PATCH",
        "update_issue",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<n>\d+)$"),
    ),
    (
        "GET",
        "get_branch_rules",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/rules/branches/(?P<branch>[^/]+)$"),
    ),
    (
        "POST",
        "start_workflow",
        re.compile(
            r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/workflows/(?P<workflow>[^/]+)"
            r"/dispatches$"
        ),
    ),
    (
        "GET",
        "run_approvals",
        re.compile(
            r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/runs/(?P<run_id>\d+)/approvals$"
        ),
    ),
    (
        "POST",
        "create_status",
        re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/statuses/(?P<sha>[0-9a-fA-F]+)$"),
    ),
]


_Answer = tuple[int, dict[str, str], bytes, str]  # status, headers, body, content type


@functools.cache
def _spec() -> dict[str, Any]:
    loaded = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@functools.cache
def _openapi() -> Any:
    from openapi_core import Config, OpenAPI

    # The description itself is GitHub's and trusted; checking it costs seconds.
    return OpenAPI.from_dict(_spec(), config=Config(spec_validator_cls=None))


def _example(name: str) -> dict[str, Any]:
    value = _spec()["components"]["examples"][name]["value"]
    assert isinstance(value, dict)
    return copy.deepcopy(value)


def _documented_statuses(method: str, path: str) -> set[str]:
    for template, item in _spec()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return set(item[method.lower()]["responses"])
    return set()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Request:
    """openapi-core's Request protocol, as GitHub sees the call (host api.github.com)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes | None
    content_type: str
    host_url: str = SPEC_HOST
    parameters: Any = None

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.method = self.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in self.query.items() for v in vs]),
            header=Headers(self.headers),
        )


@dataclass
class _Response:
    status_code: int
    data: bytes
    headers: Any
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Fault:
    operation: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    times: int = 1
    after: bool = False  # carry the operation out, then answer with the fault


@dataclass
class Seen:
    """One request the fake answered (for assertions)."""

    method: str
    path: str  # without the GHES prefix
    query: dict[str, list[str]]
    operation: str | None
    status: int
    body: Any


class FakeGitHub:
    """State of one fake GitHub: repository, pull requests, comments, statuses."""

    def __init__(self, *, prefix: str = "", owner: str = "acme", repo: str = "churn") -> None:
        self.prefix = prefix.rstrip("/")
        self.owner, self.repo = owner, repo
        self.token = TOKEN  # the job's token; it posts as `bot`
        self.bot = BOT
        self.users: dict[str, str] = {}  # other tokens -> the login each posts as
        self.edits: list[tuple[str, int, str]] = []  # (comment|issue, id or number, editor)
        self.pulls: dict[int, str] = {}  # number -> head sha
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.issues: dict[int, dict[str, Any]] = {}  # number -> issue, as GitHub returns it
        # workflow_dispatch requests received: {"workflow": file name, "ref": …, "inputs": …}
        self.dispatches: list[dict[str, Any]] = []
        # run id -> the review history of its protected environments, as GitHub returns it
        self.approvals: dict[str, list[dict[str, Any]]] = {}
        # branch -> the ruleset rules in force on it, as GitHub lists them
        self.branch_rules: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self._faults: list[Fault] = []
        self._next_id = 1000
        self._scripted_now = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle and addresses

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def web_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.web_url + self.prefix

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    def env(self, *, pr: int | None = None, sha: str | None = None, **extra: str) -> dict[str, str]:
        """The environment of a GitHub Actions job on this fake (an event file if `pr`)."""
        values = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": self.web_url,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_SHA": "f" * 40,  # on pull_request events: the merge commit, not the head
            "GITHUB_TOKEN": self.token,
        }
        values.update(extra)
        return values

    # -- scripting

    def add_pull(self, number: int, head_sha: str = "a1b2c3d" + "0" * 33) -> None:
        self.pulls[number] = head_sha
        self.comments.setdefault(number, [])

    def add_user(self, login: str) -> str:
        """A token that posts as `login` (another user, or another app's bot)."""
        token = f"ghp_{len(self.users):04d}" + "x" * 32
        self.users[token] = login
        return token

    def review(
        self,
        run_id: str,
        login: str,
        environment: str = "production",
        state: str = "approved",
        comment: str = "",
    ) -> None:
        """`login` approved (or rejected) the run's deployment to `environment`."""
        example = copy.deepcopy(
            _spec()["components"]["examples"]["environment-approvals-items"]["value"][0]
        )
        place = dict(example["environments"][0], name=environment)
        place["url"] = f"{self.api_url}/repos/{self.repository}/environments/{environment}"
        entry = {
            "state": state,
            "comment": comment,
            "environments": [place],
            "user": self._user(example["user"], login),
        }
        with self._lock:
            self.approvals.setdefault(str(run_id), []).append(entry)

    def add_comment(self, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        """A comment already on the PR, written by `login`."""
        with self._lock:
            return self._store_comment(number, body, login)

    def fail(
        self,
        operation: str,
        status: int,
        *,
        times: int = 1,
        after: bool = False,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` calls of `operation` answer `status` (after doing it if `after`)."""
        if status >= 500:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            content_type = "text/html"
        else:
            body = json.dumps(
                {"message": message or "Error", "documentation_url": "https://docs.github.com/rest"}
            ).encode()
            content_type = "application/json; charset=utf-8"
        self._faults.append(
            Fault(operation, status, headers or {}, body, content_type, times, after)
        )

    def secondary_rate_limit(self, operation: str, retry_after: int = 1) -> None:
        self.fail(
            operation,
            403,
            headers={"Retry-After": str(retry_after), "X-RateLimit-Remaining": "4999"},
            message="You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
        )

    def add_issue(
        self, title: str, body: str, state: str = "open", login: str = "someone"
    ) -> dict[str, Any]:
        """An issue already in the repository, opened by `login`."""
        with self._lock:
            issue = self._store_issue(title, body, login)
            issue["state"] = state
            return issue

    def podium_issues(self, login: str | None = None) -> list[dict[str, Any]]:
        """Issues carrying a monitoring marker (only those `login` opened, if given)."""
        return [
            i
            for i in self.issues.values()
            if "<!-- podium-monitor:" in (i["body"] or "")
            and (login is None or i["user"]["login"] == login)
        ]

    def podium_comments(self, number: int, login: str | None = None) -> list[dict[str, Any]]:
        """Comments carrying a report marker (only those `login` wrote, if given)."""
        return [
            c
            for c in self.comments.get(number, [])
            if "<!-- podium-report:" in c["body"] and (login is None or c["user"]["login"] == login)
        ]

    def foreign_edits(self) -> list[tuple[str, int, str]]:
        """Edits made to a comment or issue by someone other than its author."""
        authors = {
            ("comment", c["id"]): c["user"]["login"]
            for comments in self.comments.values()
            for c in comments
        }
        authors |= {("issue", n): i["user"]["login"] for n, i in self.issues.items()}
        return [e for e in self.edits if authors.get((e[0], e[1])) != e[2]]

    def count(self, operation: str) -> int:
        return sum(1 for r in self.requests if r.operation == operation)

    # -- objects, as GitHub returns them (GitHub's examples, pointed at this fake)

    def _localise(self, value: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(value)
        text = text.replace(SPEC_HOST, self.api_url).replace("https://github.com", self.web_url)
        text = text.replace("octocat/Hello-World", self.repository)
        result = json.loads(text)
        assert isinstance(result, dict)
        return result

    def _store_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        self._next_id += 1
        cid = self._next_id
        comment = self._localise(_example("issue-comment"))
        comment.update(
            id=cid,
            node_id=f"IC_{cid}",
            url=f"{self.api_url}/repos/{self.repository}/issues/comments/{cid}",
            html_url=f"{self.web_url}/{self.repository}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{self.api_url}/repos/{self.repository}/issues/{number}",
            body=body,
            created_at=_now(),
            updated_at=_now(),
        )
        comment["user"] = self._user(comment["user"], login)
        self.comments.setdefault(number, []).append(comment)
        return comment

    def _store_issue(self, title: str, body: str | None, login: str) -> dict[str, Any]:
        # Issues and pull requests share one sequence of numbers on GitHub.
        number = max([0, *self.pulls, *self.issues]) + 1
        issue = self._localise(_example("issue"))
        issue.pop("pull_request", None)  # GitHub's example is an issue on a pull request
        issue.update(
            id=100_000 + number,
            node_id=f"I_{number}",
            number=number,
            title=title,
            body=body,
            state="open",
            comments=0,
            labels=[],
            url=f"{self.api_url}/repos/{self.repository}/issues/{number}",
            html_url=f"{self.web_url}/{self.repository}/issues/{number}",
            created_at=_now(),
            updated_at=_now(),
            closed_at=None,
        )
        issue["user"] = self._user(issue["user"], login)
        self.issues[number] = issue
        return issue

    @staticmethod
    def _user(example: dict[str, Any], login: str) -> dict[str, Any]:
        user = dict(example, login=login)
        if login.endswith("[bot]"):  # GitHub Apps (github-actions included) are bots
            user["type"] = "Bot"
        return user

    def _login(self, authorization: str) -> str | None:
        """Who a request's token posts as; None for a token GitHub does not know."""
        scheme, _, token = authorization.partition(" ")
        if scheme not in {"token", "Bearer"}:
            return None
        if token == self.token:
            return self.bot
        return self.users.get(token)

    def _pull(self, number: int) -> dict[str, Any]:
        pull = self._localise(_example("pull-request"))
        pull["number"] = number
        pull["url"] = f"{self.api_url}/repos/{self.repository}/pulls/{number}"
        pull["html_url"] = f"{self.web_url}/{self.repository}/pull/{number}"
        pull["head"]["sha"] = self.pulls[number]
        # GitHub's example omits `type`, which its own team-simple schema requires.
        for team in pull.get("requested_teams") or []:
            team.setdefault("type", "organization")
        return pull

    def _status(self, sha: str, payload: dict[str, Any]) -> dict[str, Any]:
        status = self._localise(_example("status"))
        status.update(
            id=len(self.statuses) + 1,
            url=f"{self.api_url}/repos/{self.repository}/statuses/{sha}",
            state=payload["state"],
            description=payload.get("description"),
            target_url=payload.get("target_url"),
            context=payload.get("context", "default"),
            created_at=_now(),
            updated_at=_now(),
        )
        return status

    # -- request handling

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        split = urlsplit(raw_path)
        query = parse_qs(split.query)
        path = split.path
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                self.violations.append(f"{method} {path}: not under the API prefix {self.prefix}")
                return self._error(404, "Not Found")
            path = path[len(self.prefix) :]
        request = _Request(
            method, path, query, headers, body or None, headers.get("Content-Type", "")
        )
        valid = self._validate_request(request)
        operation, params = self._route(method, path)
        with self._lock:
            if valid:
                status, out_headers, data, content_type = self._dispatch(
                    operation, params, query, headers, body
                )
            else:  # answered the way GitHub answers a malformed request
                status, out_headers, data, content_type = self._error(422, "Validation Failed")
            scripted = self._scripted_now
            self._scripted_now = False
            payload: Any = None
            if body:
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = body
            self.requests.append(Seen(method, path, query, operation, status, payload))
        if str(status) in _documented_statuses(method, path):
            response = _Response(status, data, out_headers, content_type)
            self._validate_response(request, response)
        elif operation is not None and not scripted and status != 401:
            # Only a scripted fault (or bad credentials, which every endpoint can answer)
            # may fall outside what the description documents for the operation.
            self.violations.append(f"{method} {path}: answered {status}, not in the description")
        return status, out_headers, data, content_type

    def _route(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for verb, name, pattern in _ROUTES:
            match = pattern.match(path)
            if verb == method and match:
                return name, match.groupdict()
        self.violations.append(f"{method} {path}: the fake does not implement this endpoint")
        return None, {}

    def _dispatch(
        self,
        operation: str | None,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> _Answer:
        if operation is None:
            return self._error(404, "Not Found")
        login = self._login(headers.get("Authorization", ""))
        if login is None:
            return self._error(401, "Bad credentials")
        if (params["owner"], params["repo"]) != (self.owner, self.repo):
            return self._error(404, "Not Found")
        fault = next((f for f in self._faults if f.operation == operation and f.times > 0), None)
        if fault is not None:
            fault.times -= 1
            self._scripted_now = True
            if fault.after:
                self._do(operation, params, query, body, login)
            return fault.status, dict(fault.headers), fault.body, fault.content_type
        return self._do(operation, params, query, body, login)

    def _do(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: bytes,
        login: str,
    ) -> _Answer:
        if operation == "get_pull":
            number = int(params["n"])
            if number not in self.pulls:
                return self._error(404, "Not Found")
            return self._json(200, self._pull(number))
        if operation == "list_comments":
            number = int(params["n"])
            if number not in self.pulls:
                return self._error(404, "Not Found")
            return self._page(number, query)
        if operation == "create_comment":
            number = int(params["n"])
            if number not in self.pulls:
                return self._error(404, "Not Found")
            text = json.loads(body)["body"]
            if len(text) > 65536:  # GitHub's limit, answered like GitHub answers it
                return self._error(422, "Validation Failed")
            return self._json(201, self._store_comment(number, text, login))
        if operation == "update_comment":
            cid = int(params["id"])
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == cid:
                        text = json.loads(body)["body"]
                        if len(text) > 65536:
                            return self._error(422, "Validation Failed")
                        comment["body"], comment["updated_at"] = text, _now()
                        self.edits.append(("comment", cid, login))
                        return self._json(200, comment)
            return self._error(404, "Not Found")
        if operation == "list_issues":
            state = query.get("state", ["open"])[0]
            items = [i for i in self.issues.values() if state == "all" or i["state"] == state]
            base = f"{self.api_url}/repos/{self.repository}/issues"
            return self._paged(items, base, query)
        if operation == "create_issue":
            payload = json.loads(body)
            if len(payload.get("body") or "") > 65536:
                return self._error(422, "Validation Failed")
            issue = self._store_issue(payload["title"], payload.get("body"), login)
            return self._json(201, issue)
        if operation == "update_issue":
            number = int(params["n"])
            if number not in self.issues:
                return self._error(404, "Not Found")
            payload = json.loads(body)
            if len(payload.get("body") or "") > 65536:
                return self._error(422, "Validation Failed")
            issue = self.issues[number]
            for key in ("title", "body", "state"):
                if key in payload:
                    issue[key] = payload[key]
            issue["updated_at"] = _now()
            self.edits.append(("issue", number, login))
            return self._json(200, issue)
        if operation == "get_branch_rules":
            from urllib.parse import unquote

            return self._json(200, self.branch_rules.get(unquote(params["branch"]), []))
        if operation == "start_workflow":
            self.dispatches.append({"workflow": params["workflow"], **json.loads(body)})
            return 204, {}, b"", "application/json; charset=utf-8"
        if operation == "run_approvals":
            return self._json(200, self.approvals.get(params["run_id"], []))
        if operation == "create_status":
            payload = json.loads(body)
            status = self._status(params["sha"], payload)
            self.statuses.append({"sha": params["sha"], **payload})
            return self._json(201, status)
        raise AssertionError(operation)

    def _page(self, number: int, query: dict[str, list[str]]) -> _Answer:
        base = f"{self.api_url}/repos/{self.repository}/issues/{number}/comments"
        return self._paged(self.comments[number], base, query)

    def _paged(self, items: list[Any], base: str, query: dict[str, list[str]]) -> _Answer:
        per_page = min(100, int(query.get("per_page", ["30"])[0]))
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(to: int, rel: str) -> str:
            kept = {k: v[0] for k, v in query.items() if k not in {"page", "per_page"}}
            args = urlencode({**kept, "per_page": per_page, "page": to})
            return f'<{base}?{args}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        status, headers, data, content_type = self._json(200, chunk)
        if links:
            headers["Link"] = ", ".join(links)
        return status, headers, data, content_type

    @staticmethod
    def _json(status: int, value: Any) -> _Answer:
        return status, {}, json.dumps(value).encode(), "application/json; charset=utf-8"

    @staticmethod
    def _error(status: int, message: str) -> _Answer:
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return status, {}, json.dumps(body).encode(), "application/json; charset=utf-8"

    # -- validation

    def _validate_request(self, request: _Request) -> bool:
        try:
            _openapi().validate_request(request)
        except Exception as exc:
            self.violations.append(f"request {request.method.upper()} {request.path}: {_why(exc)}")
            return False
        return True

    def _validate_response(self, request: _Request, response: _Response) -> None:
        from werkzeug.datastructures import Headers

        response.headers = Headers(response.headers)
        try:
            _openapi().validate_response(request, response)
        except Exception as exc:
            self.violations.append(
                f"response {response.status_code} to {request.method.upper()} {request.path}: "
                f"{_why(exc)}"
            )


def _why(exc: BaseException) -> str:
    """openapi-core's error and the schema errors underneath it, short, on one line."""
    parts = [type(exc).__name__]
    pending: list[Any] = [exc.__cause__, *getattr(exc, "schema_errors", ())]
    while pending:
        inner = pending.pop(0)
        if inner is None:
            continue
        where = "/".join(str(p) for p in getattr(inner, "absolute_path", ()))
        message = getattr(inner, "message", None) or str(inner).splitlines()[0]
        parts.append(f"{where or '.'}: {message[:200]}")
        pending += [inner.__cause__, *getattr(inner, "schema_errors", ())]
        pending += list(getattr(inner, "context", None) or ())
    return " | ".join(parts)


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            status, out_headers, data, content_type = fake.handle(
                self.command, self.path, headers, body
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler


def serve(*, prefix: str = "") -> Iterator[FakeGitHub]:
    """Run a fake for one test (use with `yield from`); fails the test on a violation."""
    fake = FakeGitHub(prefix=prefix).start()
    try:
        yield fake
    finally:
        fake.stop()
    if fake.violations:
        pytest.fail(
            "the fake GitHub saw calls outside GitHub's API description:\n"
            + "\n".join(fake.violations),
            pytrace=False,
        )
