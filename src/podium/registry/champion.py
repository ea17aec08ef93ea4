"""Moving `@champion`: compare-and-set under the promotion lock, recorded in the audit trail.

Under the lock podium re-reads `@champion`, compares it with what the challenger was
evaluated against, and only then records the move and moves the alias.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from podium.clock import now_iso
from podium.errors import CheckFailed, ServiceError
from podium.registry import audit, lock, tags
from podium.registry.audit import Approval, Event

if TYPE_CHECKING:
    from podium.registry.store import Store


def move(
    registry: Store,
    *,
    action: str,
    version: str,
    expected: str | None,
    actor: str,
    reason: str,
    commit: str | None,
    run_url: str | None,
    approval: Approval | None = None,
) -> Event:
    """Compare-and-set `@champion` from `expected` to `version`, and audit the move.

    Raises CheckFailed (exit 1) and moves nothing when `@champion` is no longer
    `expected` — someone else promoted or rolled back in the meantime.
    """
    holder = f"{actor}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with lock.hold(registry, holder):
        current = registry.champion()
        current_version = current.version if current else None
        if current_version != expected:
            raise CheckFailed(
                f"not moved: @champion of '{registry.name}' is now "
                f"{_v(current_version)}, not {_v(expected)} as when this was decided; "
                "re-run evaluate against the new champion"
            )
        trail = audit.history(registry)
        event = Event(
            seq=(trail[-1].seq + 1) if trail else 1,
            action=action,
            version=version,
            previous=current_version,
            actor=actor,
            at=now_iso(),
            reason=reason,
            commit=commit,
            run_url=run_url,
            triggering_actor=approval.triggering_actor if approval else None,
            approvers=approval.approvers if approval else None,
        )
        held = lock.holder_of(registry, lock.lock_name(registry))
        if held is None or held[0] != holder:
            raise ServiceError(
                f"not moved: podium's promotion lock for '{registry.name}' was taken over "
                "while this promotion stalled; run it again"
            )
        # Record first, then move: a crash in between leaves a recorded intent that
        # `history` can show, never an unrecorded champion.
        audit.record(registry, event)
        registry.set_champion(version)
        if action == "rollback":  # the rolled-back model must not come back by itself
            pause = Pause(
                version=version,
                rolled_back=current_version,
                at=event.at,
                by=actor,
                reason=reason,
                commit=commit or "",
            )
            registry.set_model_tag(tags.PAUSED, json.dumps(asdict(pause)), "pausing promotion")
    moved = {
        tags.CHAMPION_SINCE: event.at,
        tags.CHAMPION_BY: actor,
        tags.CHAMPION_REASON: reason[:4000],
        tags.CHAMPION_ACTION: action,
        tags.PREVIOUS_CHAMPION: current_version or "",
    }
    if commit:
        moved[tags.CHAMPION_COMMIT] = commit
    registry.set_version_tags(version, moved)
    if current_version:
        registry.set_version_tags(
            current_version, {tags.RETIRED_AT: event.at, tags.RETIRED_BY_VERSION: version}
        )
    return event


@dataclass(frozen=True)
class Pause:
    """Automatic promotion paused by a rollback: until a new commit or `podium resume`."""

    version: str  # the champion the rollback restored
    rolled_back: str | None  # the champion it replaced
    at: str
    by: str
    reason: str
    commit: str  # the commit the rollback was made at ("" when unknown)

    def describe(self) -> str:
        """'automatic promotion is paused since the rollback from v4 to v1 at … by …: why'."""
        was = f" from {_v(self.rolled_back)}" if self.rolled_back else ""
        return (
            f"automatic promotion is paused since the rollback{was} to v{self.version} at "
            f"{self.at} by {self.by} ({self.reason}); a new commit or `podium resume` lifts it"
        )


def pause_of(model_tags: Mapping[str, str]) -> Pause | None:
    """The pause a rollback left on the registered model, None when promotion is not paused."""
    try:
        loaded = json.loads(model_tags.get(tags.PAUSED) or "null")
        return Pause(**loaded) if isinstance(loaded, dict) else None
    except (ValueError, TypeError):
        return None  # a hand-edited tag: not paused


def paused(registry: Store) -> Pause | None:
    """Whether automatic promotion of the registry's model is paused (and by which rollback)."""
    model = registry.registered_model(registry.name, "reading the promotion pause")
    return pause_of(model.tags) if model is not None else None


def resume(
    registry: Store, *, actor: str, reason: str, commit: str | None, run_url: str | None
) -> Event | None:
    """Lift a rollback's pause, recorded in the audit trail as a `resume` event (which
    moves nothing); None when promotion was not paused."""
    holder = f"{actor}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with lock.hold(registry, holder):
        if paused(registry) is None:
            return None
        current = registry.champion()
        version = current.version if current else ""
        trail = audit.history(registry)
        event = Event(
            seq=(trail[-1].seq + 1) if trail else 1,
            action="resume",
            version=version,
            previous=version or None,
            actor=actor,
            at=now_iso(),
            reason=reason,
            commit=commit,
            run_url=run_url,
        )
        audit.record(registry, event)
        registry.set_model_tag(tags.PAUSED, "", "resuming promotion")
    return event


def _v(version: str | None) -> str:
    return f"v{version}" if version else "unset"
