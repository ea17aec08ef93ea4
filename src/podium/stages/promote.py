"""`podium promote`: move `@champion` to the challenger, only on a passed verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from podium import gha, results
from podium.config import Config
from podium.errors import CheckFailed, InputError
from podium.stages import open_registry


@dataclass
class PromotionResult:
    promoted: bool
    champion_version: str | None
    previous_version: str | None
    reason: str


def promote(*, config: Config, reason: str | None = None) -> PromotionResult:
    """Compare-and-set the champion to the evaluated challenger; CheckFailed otherwise."""
    evaluation = results.read(
        config.state_dir, results.EVALUATION, needed_by="promote", produced_by="evaluate"
    )
    if evaluation.get("model_name") != config.model.name:
        raise InputError(
            f"{config.state_dir / results.EVALUATION}: is for model "
            f"'{evaluation.get('model_name')}', not '{config.model.name}'; re-run evaluate"
        )
    if evaluation.get("tracking_uri") != config.tracking_uri:
        raise InputError(
            f"{config.state_dir / results.EVALUATION}: was made against "
            f"{evaluation.get('tracking_uri')}, not {config.tracking_uri}; re-run evaluate"
        )
    results.invalidate(config.state_dir, results.PROMOTION)
    challenger = str(evaluation["challenger"]["version"])
    champion = evaluation.get("champion")
    expected = str(champion["version"]) if champion else None
    if not evaluation.get("passed"):
        outcome = PromotionResult(False, expected, expected, str(evaluation.get("summary")))
        _finish(config, outcome)
        raise CheckFailed(f"not promoted: v{challenger} failed its gates: {outcome.reason}")
    if expected == challenger:
        outcome = PromotionResult(False, challenger, challenger, "already the champion")
        _finish(config, outcome)
        return outcome
    registry = open_registry(config)
    registry.get_version(challenger)  # exit 2 naming the version if it was deleted
    current = registry.champion()
    if current is not None and current.version == challenger:
        outcome = PromotionResult(False, challenger, challenger, "already the champion")
        _finish(config, outcome)
        return outcome
    why = reason or f"gates passed: {evaluation.get('summary')}"
    provenance = gha.provenance(config.root)
    try:
        event = registry.move_champion(
            action="promote",
            version=challenger,
            expected=expected,
            actor=gha.actor(),
            reason=why,
            commit=provenance.get("git_commit"),
            run_url=provenance.get("workflow_run"),
        )
    except CheckFailed as refused:
        outcome = PromotionResult(False, expected, expected, str(refused))
        _finish(config, outcome)
        raise
    outcome = PromotionResult(True, event.version, event.previous, why)
    _finish(config, outcome)
    return outcome


def _finish(config: Config, outcome: PromotionResult) -> None:
    results.write(config.state_dir, results.PROMOTION, asdict(outcome))
    gha.set_output("promoted", str(outcome.promoted).lower())
    gha.set_output("champion-version", outcome.champion_version or "")
