"""The audit trail: MLflow keeps no history of alias moves, so podium records its own.

One registered-model tag per champion move, `podium.audit.000001` = the Event as JSON,
numbered in order. Written under the promotion lock (champion.py), before the alias moves.

Beside it, the champion's health as `podium monitor` saw it: one registered-model tag
per monitor run, `podium.monitor.<UTC time>-<random>` = the Check as JSON (whether
`@champion` loaded, whether the run alerted). Uptime and the feedback loop of
`podium metrics` are computed from these two trails alone, not from GitHub.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.registry.tags import AUDIT_PREFIX, MONITOR_PREFIX

if TYPE_CHECKING:
    from podium.registry.store import Store


# The actions that move @champion; "resume" (automatic promotion resumed after a
# rollback paused it) is recorded in the same trail but moves nothing.
MOVES = frozenset({"promote", "rollback"})


@dataclass(frozen=True)
class Event:
    """One champion move (promotion or rollback), as recorded in the audit trail."""

    seq: int
    action: str  # "promote" | "rollback" | "resume"
    version: str
    previous: str | None
    actor: str
    at: str
    reason: str
    commit: str | None = None
    run_url: str | None = None
    # In Actions: who started the run (a re-run's actor) and who approved its protected
    # environment (None: not known — outside Actions, or GitHub could not be asked).
    triggering_actor: str | None = None
    approvers: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "version": self.version,
            "previous": self.previous,
            "actor": self.actor,
            "at": self.at,
            "reason": self.reason,
            "commit": self.commit,
            "run_url": self.run_url,
            "triggering_actor": self.triggering_actor,
            "approvers": self.approvers,
        }


@dataclass(frozen=True)
class Approval:
    """Who, besides the actor, stands behind a champion move (`podium.approvals`)."""

    triggering_actor: str | None = None
    approvers: list[str] | None = None


def tag_name(seq: int) -> str:
    """The registered-model tag that holds event number `seq`."""
    return f"{AUDIT_PREFIX}{seq:06d}"


def history(registry: Store) -> list[Event]:
    """Every recorded champion move of the model, oldest first; empty before the first."""
    model = registry.registered_model(registry.name, "reading the audit trail")
    return parse(model.tags) if model is not None else []


def parse(tags: dict[str, str]) -> list[Event]:
    """The events among a registered model's tags, in order; unreadable ones skipped."""
    events = []
    for key, value in tags.items():
        if key.startswith(AUDIT_PREFIX):
            try:
                events.append(Event(**json.loads(value)))
            except (ValueError, TypeError):
                continue  # a hand-edited tag must not break the trail
    return sorted(events, key=lambda e: e.seq)


def record(registry: Store, event: Event) -> None:
    """Write one event into the trail (the caller holds the promotion lock)."""
    registry.set_model_tag(
        tag_name(event.seq), json.dumps(event.to_dict()), "recording the audit event"
    )


def previous_champion(events: list[Event], current: str | None) -> str | None:
    """The champion before the current one, replaying the trail as a stack.

    Promotions push; a rollback to a version already on the stack pops back to it, so
    rolling back twice walks back two champions instead of flip-flopping.
    """
    stack: list[str] = []
    for event in events:
        if event.action not in MOVES:  # a resumed promotion moved nothing
            continue
        if event.action == "rollback" and event.version in stack:
            del stack[stack.index(event.version) + 1 :]
        else:
            stack.append(event.version)
    if current is not None and stack and stack[-1] == current:
        stack.pop()
    return stack[-1] if stack else None


@dataclass(frozen=True)
class Check:
    """One `podium monitor` run's look at the champion."""

    at: str
    version: str
    loaded: bool  # @champion pointed at a version that loads
    alert: bool  # a monitoring threshold was crossed (or it did not load)
    reasons: list[str] = field(default_factory=list)  # the alerts, shortened
    drifted_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "version": self.version,
            "loaded": self.loaded,
            "alert": self.alert,
            "reasons": self.reasons,
            "drifted_share": self.drifted_share,
        }


def record_check(registry: Store, check: Check) -> None:
    """Add one monitor run to the champion's health record (no lock: keys never collide)."""
    stamp = check.at.replace("-", "").replace(":", "")
    key = f"{MONITOR_PREFIX}{stamp}-{secrets.token_hex(3)}"
    short = {**check.to_dict(), "reasons": [r[:200] for r in check.reasons[:3]]}
    registry.set_model_tag(key, json.dumps(short), "recording the monitor run")


def checks(registry: Store) -> list[Check]:
    """Every recorded monitor run of the model, oldest first."""
    model = registry.registered_model(registry.name, "reading the monitor record")
    return parse_checks(model.tags) if model is not None else []


def parse_checks(tags: dict[str, str]) -> list[Check]:
    """The monitor runs among a registered model's tags, in time order; unreadable skipped."""
    found = []
    for key, value in tags.items():
        if key.startswith(MONITOR_PREFIX):
            try:
                found.append(Check(**json.loads(value)))
            except (ValueError, TypeError):
                continue
    return sorted(found, key=lambda c: c.at)
