"""`podium resume`: lift the pause a rollback put on automatic promotion."""

from __future__ import annotations

from podium import gha
from podium.config import Config
from podium.errors import ConfigError, InputError
from podium.registry import Event, champion
from podium.registry.git_branch import change_message
from podium.stages import open_registry


def resume(*, config: Config, reason: str) -> Event:
    """Let promotions move `@champion` again after a rollback; audited as a `resume` event."""
    if not reason or not reason.strip():
        raise ConfigError('resume needs --reason "why" (it is recorded in the audit trail)')
    registry = open_registry(config, writes=True)
    provenance = gha.provenance(config.root)
    commit = provenance.get("git_commit")
    event = registry.change(
        lambda store: champion.resume(
            store,
            actor=gha.actor(),
            reason=reason.strip(),
            commit=commit,
            run_url=provenance.get("workflow_run"),
        ),
        lambda _: change_message(
            f"resume automatic promotion of {config.model.name}: {reason.strip()}",
            commit=commit,
            run_url=provenance.get("workflow_run"),
        ),
    )
    if event is None:
        raise InputError(
            f"automatic promotion of '{config.model.name}' is not paused (only a rollback "
            "pauses it)"
        )
    return event
