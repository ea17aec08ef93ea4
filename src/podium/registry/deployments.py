"""What is live where: one alias per environment (`@staging`), and the deployment trail.

`@champion` is the evaluation's decision; an environment's alias says which version is
live there, moved only after the endpoint was verified (compare-and-set under the
promotion lock, like the champion). Every attempt — deployed, failed, restored — is one
registered-model tag `podium.deploy.000001` = the Deployment as JSON, numbered in order;
every look at a live endpoint (`podium status`, `podium monitor`) one `podium.probe.*`
tag. `podium metrics` and `podium status` read these trails alone.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from podium.errors import CheckFailed, ServiceError
from podium.registry import lock
from podium.registry.tags import DEPLOY_PREFIX, PROBE_PREFIX

if TYPE_CHECKING:
    from podium.registry.mlflow_store import Registry

# outcomes of one attempt
DEPLOYED = "deployed"  # verified live; the environment's alias moved to it
FAILED = "failed"  # the command or the verification failed; the alias did not move
RESTORED = "restored"  # after a failure, the previous version was redeployed and verified
NOT_RESTORED = "not-restored"  # … and that failed too (or there was none to restore)


@dataclass(frozen=True)
class Deployment:
    """One deployment attempt of one version to one environment."""

    seq: int
    environment: str
    version: str
    previous: str | None  # what was live there before
    outcome: str
    actor: str
    at: str  # when it ended
    seconds: float  # command and verification, wall time
    reason: str = ""  # why it failed (one line)
    commit: str | None = None
    run_url: str | None = None
    parity: float | None = None  # share of probe rows answered as recorded
    latency_ms: float | None = None  # live p95
    requests: int = 0
    # In Actions: who started the run, and who approved the environment's protected job
    # (None: not recorded; []: no reviewer) — as champion moves record them.
    triggering_actor: str | None = None
    approvers: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Probed:
    """One look at a live endpoint: healthy, and answering as the live version does."""

    at: str
    environment: str
    version: str | None
    healthy: bool
    parity: float | None = None
    latency_ms: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def up(self) -> bool:
        return self.healthy and self.parity == 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def history(registry: Registry) -> list[Deployment]:
    """Every deployment attempt of the model, oldest first."""
    model = registry.registered_model(registry.name, "reading the deployment trail")
    return parse(model.tags) if model is not None else []


def parse(tags: dict[str, str]) -> list[Deployment]:
    """The attempts among a registered model's tags, in order; unreadable ones skipped."""
    found = []
    for key, value in tags.items():
        if key.startswith(DEPLOY_PREFIX):
            try:
                found.append(Deployment(**json.loads(value)))
            except (ValueError, TypeError):
                continue  # a hand-edited tag must not break the trail
    return sorted(found, key=lambda d: d.seq)


def probes(registry: Registry) -> list[Probed]:
    """Every recorded look at a live endpoint, in time order."""
    model = registry.registered_model(registry.name, "reading the endpoint probes")
    found = []
    for key, value in (model.tags if model is not None else {}).items():
        if key.startswith(PROBE_PREFIX):
            try:
                found.append(Probed(**json.loads(value)))
            except (ValueError, TypeError):
                continue
    return sorted(found, key=lambda p: p.at)


def record_probe(registry: Registry, probed: Probed) -> None:
    """Add one look at an endpoint (no lock: keys never collide)."""
    stamp = probed.at.replace("-", "").replace(":", "")
    key = f"{PROBE_PREFIX}{stamp}-{secrets.token_hex(3)}"
    short = {**probed.to_dict(), "reasons": [r[:200] for r in probed.reasons[:3]]}
    registry.set_model_tag(key, json.dumps(short), "recording the endpoint probe")


def record(registry: Registry, attempt: Deployment, *, move: bool, expected: str | None) -> None:
    """Record one attempt under the promotion lock, numbered after the last one; with
    `move`, also point `@<environment>` at its version — only if it still points at
    `expected` (CheckFailed, exit 1, when another deployment moved it meanwhile)."""
    holder = f"{attempt.actor}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with lock.hold(registry, holder):
        if move:
            current = registry.alias(attempt.environment)
            found = current.version if current else None
            if found != expected:
                raise CheckFailed(
                    f"not moved: @{attempt.environment} of '{registry.name}' is now "
                    f"{_v(found)}, not {_v(expected)} as when this deployment began; "
                    "another deployment ran meanwhile — check `podium status`"
                )
        trail = history(registry)
        numbered = Deployment(**{**attempt.to_dict(), "seq": trail[-1].seq + 1 if trail else 1})
        held = lock.holder_of(registry, lock.lock_name(registry))
        if held is None or held[0] != holder:
            raise ServiceError(
                f"not recorded: podium's promotion lock for '{registry.name}' was taken over "
                "while this deployment stalled; run it again"
            )
        registry.set_model_tag(
            f"{DEPLOY_PREFIX}{numbered.seq:06d}",
            json.dumps(numbered.to_dict()),
            "recording the deployment",
        )
        if move:
            registry.set_alias(attempt.environment, attempt.version)


def _v(version: str | None) -> str:
    return f"v{version}" if version else "unset"
