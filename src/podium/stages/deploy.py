"""`podium deploy`: a version through each environment's own command, verified live.

For each environment of `deploy:` (in order, stopping at the first failure, or only
`--environment`): run its command (never through a shell) with the version to deploy in
`PODIUM_*` variables, then verify the endpoint — `/ping`, the version's probe rows
(stored by the serving check) to `/invocations`, answers compared, p95 latency against
`max_latency_ms`. Success moves `@<environment>` (compare-and-set) and records a
`deployed` attempt; failure records it, redeploys and verifies the previously live
version (`restored` / `not-restored`) and is exit 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from podium import gha, serving
from podium.clock import now_iso
from podium.config import Config, DeployTarget, ServingSection
from podium.errors import ConfigError, InputError, TrainingFailed, closest
from podium.registry import Registry, Version, tags
from podium.registry.deployments import (
    DEPLOYED,
    FAILED,
    NOT_RESTORED,
    RESTORED,
    Deployment,
    record,
)
from podium.registry.git_branch import change_message
from podium.stages import open_registry

PREFIX = "deploy | "
_OIDC = ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL")


@dataclass(frozen=True)
class EnvironmentOutcome:
    """What happened in one environment."""

    environment: str
    version: str
    previous: str | None
    outcome: str  # deployed | failed | unchanged
    verification: serving.Verification | None = None
    reason: str = ""
    restore: str | None = None  # restored | not-restored, after a failure
    restore_failure: str | None = None  # why it could not be restored


@dataclass
class DeployOutcome:
    """Every environment deployed (in order) until the first failure."""

    model_name: str
    version: str
    environments: list[EnvironmentOutcome] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        for env in self.environments:
            if env.outcome == FAILED:
                restored = {
                    RESTORED: f"v{env.previous} restored and verified",
                    NOT_RESTORED: f"v{env.previous} could NOT be restored: {env.restore_failure}",
                    None: "nothing was live there before",
                }[env.restore if env.previous else None]
                return f"deploy to {env.environment} failed: {env.reason} ({restored})"
        return None


def targets(config: Config, environment: str | None) -> list[DeployTarget]:
    """The environments to deploy to, in order (ConfigError when none or unknown)."""
    configured = config.deploy
    if not configured:
        raise ConfigError(
            f"{config.path}: no deploy: section; add one environment, e.g. deploy: "
            "[{environment: staging, command: ./deploy.sh, url: https://staging.example.com}]"
        )
    if environment is None:
        return configured
    chosen = [t for t in configured if t.environment == environment]
    if not chosen:
        names = [t.environment for t in configured]
        hint = closest(environment, names)
        did_you = f" (did you mean '{hint}'?)" if hint else ""
        raise ConfigError(
            f"--environment '{environment}' is not in deploy: of {config.path}{did_you}; "
            f"configured: {', '.join(names)}"
        )
    return chosen


def deployable(registry: Registry, version: str | None) -> Version:
    """The version to deploy: `version` if it passed its gates, else `@champion`."""
    if version is None:
        champion = registry.champion()
        if champion is None:
            raise InputError(
                f"model '{registry.name}' has no @champion to deploy; run `podium run` "
                "(or promote a version) first, or pass --version N"
            )
        return champion
    found = registry.get_version(version.removeprefix("v"))  # exit 2 naming it if unknown
    if found.tags.get(tags.VERDICT) != "passed":
        raise InputError(
            f"v{found.version} of '{registry.name}' never passed its gates "
            f"(verdict: {found.tags.get(tags.VERDICT) or 'not evaluated'}); deploy a version "
            "that did (see `podium history`)"
        )
    return found


def load_probe(registry: Registry, version: Version) -> serving.Probe:
    """The rows and answers the serving check recorded for `version` (exit 2 if none)."""
    payload = registry.run_json(version.run_id, serving.PROBE_ARTIFACT) if version.run_id else None
    if payload is None:
        raise InputError(
            f"v{version.version} of '{registry.name}' has no serving probe (it was evaluated "
            "without serving: or deploy: in podium.yaml); evaluate a new candidate with it"
        )
    try:
        return serving.Probe.from_dict(payload)
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"v{version.version}'s {serving.PROBE_ARTIFACT} is unreadable ({exc}); evaluate "
            "a new candidate"
        ) from None


def deploy(
    *,
    config: Config,
    environment: str | None = None,
    version: str | None = None,
    say: Callable[[str], None] = print,
) -> DeployOutcome:
    """Deploy `version` (default `@champion`) to the environments; see the module doc."""
    chosen = targets(config, environment)
    urls = {t.environment: t.live_url() for t in chosen}  # bad input before anything runs
    registry = open_registry(config, writes=True)
    target_version = deployable(registry, version)
    probe = load_probe(registry, target_version)
    done = DeployOutcome(model_name=config.model.name, version=target_version.version)
    for target in chosen:  # each `after:` checked before its environment's command runs
        _check_after(registry, target, target_version.version)
        found = _one(config, registry, target, urls[target.environment], target_version, probe)
        done.environments.append(found)
        say(_line(found))
        if found.outcome == FAILED:
            break
    gha.set_output("deployed", str(done.failure is None).lower())
    return done


def _check_after(registry: Registry, target: DeployTarget, version: str) -> None:
    if target.after is None:
        return
    live = registry.alias(target.after)
    if live is None or live.version != version:
        now = f"v{live.version}" if live else "nothing"
        raise InputError(
            f"deploy[{target.environment}] comes after {target.after}, where {now} is live, "
            f"not v{version}; deploy v{version} to {target.after} first"
        )


def _one(
    config: Config,
    registry: Registry,
    target: DeployTarget,
    url: str,
    version: Version,
    probe: serving.Probe,
) -> EnvironmentOutcome:
    live = registry.alias(target.environment)
    previous = live.version if live else None
    if previous == version.version:  # already there: verified, not redeployed
        already = _verify(config, target, url, probe)
        if already.failure is None:
            return EnvironmentOutcome(
                target.environment, version.version, previous, "unchanged", already
            )
    started = time.monotonic()
    reason, checked = _attempt(config, registry, target, url, version, previous, probe)
    attempt = _attempt_record(config, target, version.version, previous, started, reason, checked)
    if reason is None:
        registry.change(
            lambda store: record(store, attempt, move=True, expected=previous),
            lambda _: _message(config, attempt),
        )
        return EnvironmentOutcome(target.environment, version.version, previous, DEPLOYED, checked)
    registry.change(
        lambda store: record(store, attempt, move=False, expected=previous),
        lambda _: _message(config, attempt),
    )
    restore, why = None, None
    if previous is not None:
        restore, why = _restore(config, registry, target, url, previous, failed=version.version)
    return EnvironmentOutcome(
        target.environment, version.version, previous, FAILED, checked, reason, restore, why
    )


def _attempt(
    config: Config,
    registry: Registry,
    target: DeployTarget,
    url: str,
    version: Version,
    previous: str | None,
    probe: serving.Probe,
    *,
    latency: bool = True,
) -> tuple[str | None, serving.Verification | None]:
    """Run the command, then verify; (why it failed or None, the verification).

    `latency`: hold it to max_latency_ms (a restore is not: what was live stays the best
    there is, and its answers are still verified)."""
    from podium import command

    env = {
        "PODIUM_MODEL_NAME": config.model.name,
        "PODIUM_MODEL_VERSION": version.version,
        "PODIUM_MODEL_URI": f"models:/{config.model.name}/{version.version}",
        "PODIUM_ENVIRONMENT": target.environment,
        "PODIUM_PREVIOUS_VERSION": previous or "",
        "PODIUM_ENDPOINT_URL": url,
        "MLFLOW_TRACKING_URI": config.tracking_uri,
    }
    # The command's environment is the allowlist every user command gets (command.py),
    # the variables above, and what it is listed to get: `secrets:`, `env:`, OIDC's
    # request variables with `oidc: true`. Credentials podium's own step holds (to record
    # the deployment) never reach it.
    handed = [*target.secrets, *target.env, *(_OIDC if target.oidc else ())]
    try:
        command.run(
            target.argv,
            cwd=config.root,
            env=env,
            passed=handed,
            timeout_seconds=target.timeout_minutes * 60,
            prefix=PREFIX,
            key=f"deploy[{target.environment}].command",
            undone=f"v{version.version} is not live",
        )
    except TrainingFailed as exc:
        return str(exc), None
    checked = _verify(config, target, url, probe)
    return checked.failure or (_too_slow(target, checked) if latency else None), checked


def _verify(
    config: Config, target: DeployTarget, url: str, probe: serving.Probe
) -> serving.Verification:
    settings = config.serving or ServingSection()
    try:
        serving.wait_healthy(
            url, timeout_seconds=settings.timeout_seconds, what=f"{target.environment}'s endpoint"
        )
    except serving.ServingFailed as exc:
        return serving.Verification(url=url, rows=len(probe.data), error=str(exc))
    return serving.verify(
        url, probe, requests=settings.requests, timeout_seconds=settings.timeout_seconds
    )


def _too_slow(target: DeployTarget, checked: serving.Verification) -> str | None:
    limit, p95 = target.max_latency_ms, checked.latency_ms
    if limit is not None and p95 is not None and p95 > limit:
        return (
            f"{checked.url} answered in {p95:.1f} ms (p95 of {checked.requests} requests), "
            f"above deploy[{target.environment}].max_latency_ms {limit:g}"
        )
    return None


def _restore(
    config: Config,
    registry: Registry,
    target: DeployTarget,
    url: str,
    previous: str,
    *,
    failed: str,
) -> tuple[str, str | None]:
    """Redeploy and verify what was live before; recorded as restored / not-restored."""
    started = time.monotonic()
    before = registry.get_version(previous)
    reason: str | None
    checked: serving.Verification | None
    try:
        probe = load_probe(registry, before)
    except InputError as exc:
        reason, checked = str(exc), None
    else:
        reason, checked = _attempt(
            config, registry, target, url, before, failed, probe, latency=False
        )
    outcome = RESTORED if reason is None else NOT_RESTORED
    attempt = _attempt_record(config, target, previous, failed, started, reason, checked, outcome)
    registry.change(
        lambda store: record(store, attempt, move=False, expected=previous),
        lambda _: _message(config, attempt),
    )
    return outcome, reason


def _attempt_record(
    config: Config,
    target: DeployTarget,
    version: str,
    previous: str | None,
    started: float,
    reason: str | None,
    checked: serving.Verification | None,
    outcome: str | None = None,
) -> Deployment:
    from podium import approvals

    provenance = gha.provenance(config.root)
    approval = approvals.of_this_run()
    return Deployment(
        seq=0,  # numbered when recorded
        environment=target.environment,
        version=version,
        previous=previous,
        outcome=outcome or (DEPLOYED if reason is None else FAILED),
        actor=gha.actor(),
        at=now_iso(),
        seconds=round(time.monotonic() - started, 3),
        reason=(reason or "")[:2000],
        commit=provenance.get("git_commit"),
        run_url=provenance.get("workflow_run"),
        parity=checked.parity if checked else None,
        latency_ms=checked.latency_ms if checked else None,
        requests=checked.requests if checked else 0,
        triggering_actor=approval.triggering_actor,
        approvers=approval.approvers,
    )


def _message(config: Config, attempt: Deployment) -> str:
    return change_message(
        f"deploy {config.model.name} v{attempt.version} to {attempt.environment}: "
        f"{attempt.outcome}",
        commit=attempt.commit,
        run_url=attempt.run_url,
        body=attempt.reason,
    )


def _line(found: EnvironmentOutcome) -> str:
    checked = found.verification
    figures = (
        f" — probe {checked.rows} rows, parity {checked.parity:.0%}, "
        f"p95 {checked.latency_ms:.1f} ms"
        if checked and checked.parity is not None and checked.latency_ms is not None
        else ""
    )
    was = f"v{found.previous}" if found.previous else "nothing"
    if found.outcome == "unchanged":
        return f"{found.environment}: v{found.version} already live and verified{figures}"
    if found.outcome == DEPLOYED:
        return f"{found.environment}: v{found.version} deployed and verified (was {was}){figures}"
    return f"{found.environment}: v{found.version} FAILED: {found.reason}"
