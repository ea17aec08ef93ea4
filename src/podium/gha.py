"""GitHub Actions runtime plumbing: the job's environment, outputs, job summary,
annotations, provenance, and the one way to print untrusted text.

Everything here is a no-op (or a plain print) outside Actions, so stages call it
unconditionally. The GitHub environment (GITHUB_* variables and the event payload) is
read in one place, `github_env()`, into a typed `GitHubEnv`.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

# GitHub refuses a step summary above 1 MiB (the step then shows an error instead):
# podium's share stays well below, whatever the results hold.
MAX_SUMMARY_BYTES = 512 * 1024
# What podium prints of a report in a log; the report file always holds all of it.
MAX_PRINTED_LINES = 1_000
MAX_PRINTED_BYTES = 256 * 1024
COMMENT_AUTHOR_ENV = "PODIUM_COMMENT_AUTHOR"


@dataclass(frozen=True)
class GitHubEnv:
    """What GitHub Actions tells a job about itself (empty variables read as None)."""

    in_actions: bool = False
    repository: str | None = None  # owner/name
    server_url: str | None = None  # https://github.com, or a GHES host
    api_url: str | None = None  # https://api.github.com, or GHES's …/api/v3
    token: str | None = None  # GITHUB_TOKEN, when the step passes it
    run_id: str | None = None
    sha: str | None = None  # on pull_request events the merge commit, not the head
    ref: str | None = None
    event_name: str | None = None
    actor: str | None = None
    comment_author: str | None = None  # PODIUM_COMMENT_AUTHOR: the login podium posts as
    event: Mapping[str, Any] = field(default_factory=dict)  # the event payload

    @property
    def run_url(self) -> str | None:
        """This workflow run on the web."""
        if self.server_url and self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None

    @property
    def repository_url(self) -> str | None:
        """The repository on the web."""
        if self.server_url and self.repository:
            return f"{self.server_url.rstrip('/')}/{self.repository}"
        return None

    @property
    def pull_request(self) -> Mapping[str, Any] | None:
        """The event's pull request, if this is a pull-request event."""
        pull = self.event.get("pull_request")
        return pull if isinstance(pull, dict) else None

    @property
    def pr_number(self) -> int | None:
        """The event's pull-request number."""
        pull = self.pull_request
        if pull is not None and isinstance(pull.get("number"), int):
            return int(pull["number"])
        return None

    @property
    def pr_head_sha(self) -> str | None:
        """The pull request's head commit from the event payload, if this is a PR event."""
        head = (self.pull_request or {}).get("head")
        sha = head.get("sha") if isinstance(head, dict) else None
        return sha if isinstance(sha, str) and sha else None

    @property
    def workflow_run(self) -> Mapping[str, Any] | None:
        """The triggering run of a `workflow_run` event (whose results this job publishes)."""
        run = self.event.get("workflow_run")
        return run if isinstance(run, dict) else None


def github_env(environ: Mapping[str, str] | None = None) -> GitHubEnv:
    """Read the job's GitHub environment (os.environ unless given) and its event payload."""
    values = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return values.get(name) or None

    return GitHubEnv(
        in_actions=values.get("GITHUB_ACTIONS") == "true",
        repository=get("GITHUB_REPOSITORY"),
        server_url=get("GITHUB_SERVER_URL"),
        api_url=get("GITHUB_API_URL"),
        token=get("GITHUB_TOKEN"),
        run_id=get("GITHUB_RUN_ID"),
        sha=get("GITHUB_SHA"),
        ref=get("GITHUB_REF"),
        event_name=get("GITHUB_EVENT_NAME"),
        actor=get("GITHUB_ACTOR"),
        comment_author=get(COMMENT_AUTHOR_ENV),
        event=_event(get("GITHUB_EVENT_PATH")),
    )


def _event(path: str | None) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {}
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _append(env_var: str, text: str) -> bool:
    target = os.environ.get(env_var)
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(text)
    return True


def set_output(name: str, value: str) -> None:
    """Write a step output (multi-line safe, using a random heredoc delimiter)."""
    delimiter = f"podium_{uuid.uuid4().hex}"
    _append("GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def summary(markdown: str, *, full: Path | None = None) -> bool:
    """Append markdown to the job summary, capped (the full text is in `full`);
    False when not running in Actions."""
    kept = cap(markdown, max_lines=None, max_bytes=MAX_SUMMARY_BYTES, full=full)
    return _append("GITHUB_STEP_SUMMARY", kept.rstrip("\n") + "\n")


def print_untrusted(text: str, *, full: Path | None = None, stream: TextIO | None = None) -> None:
    """Print text that holds values podium did not write (results a fork uploaded,
    production data), capped, so that the runner never reads a line of it as a
    workflow command: in Actions it is wrapped in `::stop-commands::<random token>` …
    `::<token>::`, a token the text cannot know. `full` names where all of it is."""
    out = stream if stream is not None else sys.stdout
    shown = cap(text, max_lines=MAX_PRINTED_LINES, max_bytes=MAX_PRINTED_BYTES, full=full)
    if not in_actions():
        print(shown, file=out, flush=True)
        return
    token = secrets.token_hex(16)
    while token in shown:  # 128 random bits: never, but then the wrapper would not hold
        token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", file=out)
    print(shown, file=out)
    print(f"::{token}::", file=out, flush=True)


def cap(text: str, *, max_lines: int | None, max_bytes: int, full: Path | None = None) -> str:
    """`text`, or its first lines within `max_lines` and `max_bytes` (UTF-8) followed by
    a line saying what was left out and where the full text is."""
    lines = text.splitlines()
    if len(text.encode("utf-8")) <= max_bytes and (max_lines is None or len(lines) <= max_lines):
        return text
    kept: list[str] = []
    size, cut = 0, False
    for line in lines[:max_lines]:
        encoded = line.encode("utf-8")
        if size + len(encoded) + 1 > max_bytes:
            room = max_bytes - size - 1
            if room > 0:
                kept.append(encoded[:room].decode("utf-8", errors="ignore"))
            cut = True
            break
        kept.append(line)
        size += len(encoded) + 1
    dropped = len(lines) - len(kept)
    note = "… truncated" if cut else "…"
    if dropped:
        more = f"and {dropped} more line{'' if dropped == 1 else 's'}"
        note = f"{note}, {more}" if cut else f"{note} {more}"
    if full is not None:
        note += f"; the full report is in {full}"
    return "\n".join([*kept, "", note])


def one_line(message: str) -> str:
    """A message as one inert log line: every run of whitespace (newlines too) becomes
    one space, and `##[` — which the runner reads as a command anywhere in a line — is
    broken up."""
    line = " ".join(message.split())
    return line.replace("##[", "## [")


def _escape(message: str) -> str:
    """Workflow-command data encoding (the runner decodes %25, %0D and %0A)."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    """Workflow-command property encoding: data encoding plus `:` and `,`."""
    return _escape(value).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, data: str, **properties: str) -> None:
    if not in_actions():
        return
    props = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    print(f"::{name}{' ' + props if props else ''}::{_escape(data)}", flush=True)


def error(message: str) -> None:
    """An error annotation (in Actions)."""
    _command("error", message, title="podium")


def warning(message: str) -> None:
    """A warning annotation (in Actions)."""
    _command("warning", message, title="podium")


def mask(secret: str) -> None:
    if in_actions() and secret:
        print(f"::add-mask::{secret}", flush=True)


def actor(env: GitHubEnv | None = None) -> str:
    """Who is acting: the Actions actor, else the git user, else the OS user."""
    env = env or github_env()
    if env.actor:
        return env.actor
    import getpass
    import subprocess

    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def git_commit(cwd: Path, env: GitHubEnv | None = None) -> str | None:
    """The commit being built: the PR's head on pull requests (GITHUB_SHA is a merge
    commit there), GITHUB_SHA otherwise in Actions, else `git rev-parse HEAD`."""
    env = env or github_env()
    if env.pr_head_sha:
        return env.pr_head_sha
    if env.sha:
        return env.sha
    import subprocess

    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else None


def uncommitted(cwd: Path, env: GitHubEnv | None = None) -> list[str] | None:
    """The repository's files that differ from its commit (`git status`), None outside git.

    Untracked files count on a laptop (a new train.py not added yet); in Actions only
    tracked ones (a runner leaves caches and virtualenvs in the checkout)."""
    import subprocess

    env = env or github_env()
    untracked = "--untracked-files=no" if env.in_actions else "--untracked-files=normal"
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "-z", untracked],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    entries = [e for e in result.stdout.split("\0") if e]
    # "XY path" per entry; a rename is followed by its old path as one more entry
    files = [e[3:] for e in entries if len(e) > 3 and e[2] == " "]
    return sorted(f for f in files if not f.rstrip("/").endswith(".podium"))


def provenance(cwd: Path, env: GitHubEnv | None = None) -> dict[str, str]:
    """Where a model version came from, as registry tags (only the keys that are known).

    `dirty` ("true"/"false") and `dirty_files`: whether the working tree had changes the
    commit does not hold, and which (issue 31: a version tagged with a commit was trained
    from an uncommitted podium.yaml)."""
    env = env or github_env()
    changed = uncommitted(cwd, env)
    shown = (
        ", ".join(changed[:20])
        + (f", … (+{len(changed) - 20})" if changed and len(changed) > 20 else "")
        if changed
        else None
    )
    found = {
        "dirty": None if changed is None else str(bool(changed)).lower(),
        "dirty_files": shown,
        "git_commit": git_commit(cwd, env),
        "pr": str(env.pr_number) if env.pr_number is not None else None,
        "workflow_run": env.run_url,
        "ref": env.ref,
        "event": env.event_name,
        "repository": env.repository,
    }
    return {k: v for k, v in found.items() if v}
