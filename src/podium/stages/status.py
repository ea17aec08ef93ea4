"""`podium status`: per environment, what is live, since when, by whom, and whether its
endpoint is healthy now and still answers the probe as that version does (a model
swapped outside podium, a stale replica). Exit 1 when an endpoint is not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from podium import serving
from podium.config import Config, ServingSection
from podium.errors import ConfigError, InputError
from podium.registry import Registry
from podium.registry.deployments import DEPLOYED, Deployment, history
from podium.stages import open_registry
from podium.stages.deploy import load_probe, targets

PING_SECONDS = 10.0  # a live endpoint answers /ping at once; it is not starting up


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    url: str | None
    version: str | None  # live there (`@<environment>`), None before the first deployment
    since: str | None = None
    by: str | None = None
    healthy: bool | None = None
    parity: float | None = None  # probe rows answered as the live version does
    latency_ms: float | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class Status:
    model_name: str
    champion: str | None
    environments: list[EnvironmentStatus] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        bad = [e for e in self.environments if e.problem]
        return "; ".join(f"{e.environment}: {e.problem}" for e in bad) or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "champion": self.champion,
            "environments": [asdict(e) for e in self.environments],
        }

    def lines(self) -> list[str]:
        champion = f"v{self.champion}" if self.champion else "none"
        out = [f"{self.model_name}: @champion {champion}"]
        for e in self.environments:
            live = f"v{e.version}" if e.version else "nothing live"
            since = f" since {e.since} by {e.by}" if e.since else ""
            pending = (
                f" (champion v{self.champion} not deployed yet)"
                if self.champion and e.version != self.champion
                else ""
            )
            if e.problem:
                health = f"PROBLEM: {e.problem}"
            elif e.parity is not None:
                health = f"healthy, answers as v{e.version} (p95 {e.latency_ms:.1f} ms)"
            else:
                health = "healthy"
            out.append(f"  {e.environment:<12} {live}{since}{pending} — {health}")
        return out


def status(*, config: Config) -> Status:
    """Look at every configured environment now (read-only)."""
    chosen = targets(config, None)
    registry = open_registry(config)
    champion = registry.champion()
    trail = history(registry)
    found = Status(config.model.name, champion.version if champion else None)
    settings = config.serving or ServingSection()
    for target in chosen:
        found.environments.append(look(registry, target, trail, settings))
    return found


def look(
    registry: Registry, target: Any, trail: list[Deployment], settings: ServingSection
) -> EnvironmentStatus:
    """One environment now: its live version, last deployment, health and probe answers."""
    live = registry.alias(target.environment)
    version = live.version if live else None
    last = next(
        (
            d
            for d in reversed(trail)
            if d.environment == target.environment
            and d.version == version
            and d.outcome == DEPLOYED
        ),
        None,
    )
    base = {
        "environment": target.environment,
        "version": version,
        "since": last.at if last else None,
        "by": last.actor if last else None,
    }
    try:
        url = target.live_url()
    except ConfigError as exc:
        return EnvironmentStatus(url=None, problem=str(exc), **base)
    try:
        serving.wait_healthy(url, timeout_seconds=PING_SECONDS, what="the endpoint")
    except serving.ServingFailed as exc:
        return EnvironmentStatus(url=url, healthy=False, problem=str(exc), **base)
    if live is None:
        return EnvironmentStatus(url=url, healthy=True, **base)
    try:
        probe = load_probe(registry, live)
    except InputError as exc:
        return EnvironmentStatus(url=url, healthy=True, problem=str(exc), **base)
    checked = serving.verify(
        url, probe, requests=settings.requests, timeout_seconds=settings.timeout_seconds
    )
    problem = checked.failure
    if problem and checked.error is None:
        problem = f"does not answer as v{version}: {problem}"
    return EnvironmentStatus(
        url=url,
        healthy=checked.error is None,
        parity=checked.parity,
        latency_ms=checked.latency_ms,
        problem=problem,
        **base,
    )
