"""Who stands behind a champion move in GitHub Actions, for the audit trail.

GITHUB_ACTOR is who the run is attributed to; GITHUB_TRIGGERING_ACTOR who started it (a
re-run's actor may differ); and a job bound to a protected environment waited for its
reviewers: the workflow run's approvals endpoint (`actions: read`) says who approved.
Outside Actions nothing of this exists, and the move records only its actor.
"""

from __future__ import annotations

import sys

from podium import gha
from podium.errors import PodiumError
from podium.registry.audit import Approval


def of_this_run(env: gha.GitHubEnv | None = None) -> Approval:
    """The triggering actor and the approvers of this workflow run (None where unknown).

    GitHub failing to say who approved does not undo a move the gates allowed: it is
    recorded as unknown, with a warning that names the missing permission.
    """
    import os

    env = env or gha.github_env()
    if not env.in_actions:
        return Approval()
    triggering = os.environ.get("GITHUB_TRIGGERING_ACTOR") or None
    if not (env.token and env.repository and env.run_id and env.run_id.isdigit()):
        return Approval(triggering_actor=triggering)
    from podium.github import GitHub

    try:
        reviews = GitHub(
            token=env.token, repository=env.repository, api_url=env.api_url
        ).run_approvals(env.run_id)
    except PodiumError as exc:
        message = f"who approved this run is not recorded: {exc}"
        print(f"podium: warning: {message}", file=sys.stderr)
        gha.warning(message)
        return Approval(triggering_actor=triggering)
    approvers: list[str] = []
    for review in reviews:
        if review.state == "approved" and review.login and review.login not in approvers:
            approvers.append(review.login)
    return Approval(triggering_actor=triggering, approvers=approvers)
