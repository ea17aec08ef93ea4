"""Moving `@champion`: compare-and-set under the promotion lock, recorded in the audit trail.

Under the lock podium re-reads `@champion`, compares it with what the challenger was
evaluated against, and only then records the move and moves the alias.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

from podium.clock import now_iso
from podium.errors import CheckFailed, ServiceError
from podium.registry import audit, lock, tags
from podium.registry.audit import Event

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


def _v(version: str | None) -> str:
    return f"v{version}" if version else "unset"
