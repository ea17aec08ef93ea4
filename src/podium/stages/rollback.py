"""`podium rollback`: move `@champion` back (to the previous champion or a named version)."""

from __future__ import annotations

from podium import gha
from podium.config import Config
from podium.errors import ConfigError, InputError
from podium.registry import Event, previous_champion
from podium.stages import open_registry


def rollback(*, config: Config, reason: str, to: str | None = None) -> Event:
    """Compare-and-set the champion back; audited like a promotion."""
    if not reason or not reason.strip():
        raise ConfigError('rollback needs --reason "why" (it is recorded in the audit trail)')
    registry = open_registry(config, writes=True)
    current = registry.champion()
    current_version = current.version if current else None
    if to is None:
        target = previous_champion(registry.history(), current_version)
        if target is None:
            raise InputError(
                f"model '{config.model.name}' has no previous champion on record; "
                "name one with --to VERSION"
            )
    else:
        target = to.removeprefix("v")
        if not target.isdigit():
            raise InputError(f"--to '{to}' is not a model version number; e.g. --to 3")
    # exit 2 naming the version when unknown, or a file changed since registration
    registry.verified_files(registry.get_version(target))
    if target == current_version:
        raise InputError(f"v{target} is already the champion of '{config.model.name}'")
    provenance = gha.provenance(config.root)
    event = registry.move_champion(
        action="rollback",
        version=target,
        expected=current_version,
        actor=gha.actor(),
        reason=reason.strip(),
        commit=provenance.get("git_commit"),
        run_url=provenance.get("workflow_run"),
    )
    gha.set_output("champion-version", event.version)
    previous = f"v{event.previous}" if event.previous else "none"
    gha.summary(
        f"### podium rollback · {config.model.name}\n\n"
        f"Champion moved from **{previous}** to **v{event.version}** by {event.actor} "
        f"at {event.at}.\n\nReason: {event.reason}\n"
    )
    return event
