"""GitHub Actions runtime plumbing: outputs, job summary, annotations, provenance.

Everything here is a no-op (or a plain print) outside Actions, so stages call it
unconditionally.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any


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


def summary(markdown: str) -> bool:
    """Append markdown to the job summary; False when not running in Actions."""
    return _append("GITHUB_STEP_SUMMARY", markdown.rstrip("\n") + "\n")


def _escape(message: str) -> str:
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def error(message: str) -> None:
    if in_actions():
        print(f"::error title=podium::{_escape(message)}", flush=True)


def warning(message: str) -> None:
    if in_actions():
        print(f"::warning title=podium::{_escape(message)}", flush=True)


def mask(secret: str) -> None:
    if in_actions() and secret:
        print(f"::add-mask::{secret}", flush=True)


def event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return {}
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def pr_number() -> int | None:
    pull = event().get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    return None


def run_url() -> str | None:
    server = os.environ.get("GITHUB_SERVER_URL")
    repo = os.environ.get("GITHUB_REPOSITORY")
    run_id = os.environ.get("GITHUB_RUN_ID")
    if server and repo and run_id:
        return f"{server}/{repo}/actions/runs/{run_id}"
    return None


def actor() -> str:
    """Who is acting: the Actions actor, else the git user, else the OS user."""
    if os.environ.get("GITHUB_ACTOR"):
        return os.environ["GITHUB_ACTOR"]
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


def workflow_run() -> dict[str, Any] | None:
    """The triggering run of a `workflow_run` event (whose results this job publishes)."""
    run = event().get("workflow_run")
    return run if isinstance(run, dict) else None


def pr_head_sha() -> str | None:
    """The pull request's head commit from the event payload, if this is a PR event."""
    pull = event().get("pull_request")
    if not isinstance(pull, dict):
        return None
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) and sha else None


def git_commit(cwd: Path) -> str | None:
    """The commit being built: the PR's head on pull requests (GITHUB_SHA is a merge
    commit there), GITHUB_SHA otherwise in Actions, else `git rev-parse HEAD`."""
    if pr_head_sha():
        return pr_head_sha()
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
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


def provenance(cwd: Path) -> dict[str, str]:
    """Where a model version came from, as registry tags (only the keys that are known)."""
    found = {
        "git_commit": git_commit(cwd),
        "pr": str(pr_number()) if pr_number() is not None else None,
        "workflow_run": run_url(),
        "ref": os.environ.get("GITHUB_REF"),
        "event": os.environ.get("GITHUB_EVENT_NAME"),
        "repository": os.environ.get("GITHUB_REPOSITORY"),
    }
    return {k: v for k, v in found.items() if v}
