"""`podium rollback`: move `@champion` back (to the previous champion or a named version)."""

from __future__ import annotations

from podium import approvals, gha
from podium.config import Config
from podium.errors import ConfigError, InputError
from podium.registry import Event, previous_champion, tags
from podium.registry.audit import MOVES
from podium.stages import open_registry


def rollback(*, config: Config, reason: str, to: str | None = None, force: bool = False) -> Event:
    """Compare-and-set the champion back; audited like a promotion.

    The target must have been champion before: a version that never was (it failed its
    gates, or was never promoted) needs `force`, and the reason then says so. A rollback
    pauses automatic promotion of the model until a new commit or `podium resume`.
    """
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
    version = registry.get_version(target)
    registry.verified_files(version)
    if target == current_version:
        raise InputError(f"v{target} is already the champion of '{config.model.name}'")
    reason = reason.strip()
    if not any(e.version == target and e.action in MOVES for e in registry.history()):
        verdict = version.tags.get(tags.VERDICT)
        why = f"v{target} was never champion of '{config.model.name}'" + (
            f" (it failed its gates{_against(version.tags)})"
            if verdict == "failed"
            else " (it was never evaluated)"
            if verdict is None
            else " (it passed its gates but was never promoted)"
        )
        if not force:
            raise InputError(
                f"{why}; roll back to a former champion (podium history), or pass --force "
                "to crown it anyway (recorded with the reason)"
            )
        reason = f"{reason} [forced: {why}]"
    provenance = gha.provenance(config.root)
    event = registry.move_champion(
        action="rollback",
        version=target,
        expected=current_version,
        actor=gha.actor(),
        reason=reason,
        commit=provenance.get("git_commit"),
        run_url=provenance.get("workflow_run"),
        approval=approvals.of_this_run(),
    )
    gha.set_output("champion-version", event.version)
    previous = f"v{event.previous}" if event.previous else "none"
    gha.summary(
        f"### podium rollback · {config.model.name}\n\n"
        f"Champion moved from **{previous}** to **v{event.version}** by {event.actor} "
        f"at {event.at}.\n\nReason: {event.reason}\n\nAutomatic promotion of "
        f"{config.model.name} is paused until a new commit or `podium resume`.\n"
    )
    return event


def _against(version_tags: dict[str, str]) -> str:
    against = version_tags.get(tags.EVALUATED_AGAINST)
    return f" against v{against}" if against else ""
