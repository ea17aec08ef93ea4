"""`podium promote`: move `@champion` to the challenger, only on a passed verdict."""

from __future__ import annotations

from podium import approvals, delivery, gha, results
from podium.config import Config
from podium.errors import CheckFailed, InputError
from podium.registry import champion
from podium.registry.git_branch import change_message
from podium.results import DeliveryMetrics, Evaluation, Promotion
from podium.stages import open_registry


def promote(*, config: Config, reason: str | None = None) -> Promotion:
    """Compare-and-set the champion to the evaluated challenger.

    A refusal (failed gates, or `@champion` moved by someone else meanwhile) is a result
    with `passed=False`, written like any other.
    """
    evaluation = Evaluation.load(config.state_dir, needed_by="promote", model=config.model.name)
    return promote_evaluated(config=config, evaluation=evaluation, reason=reason)


def promote_evaluated(
    *, config: Config, evaluation: Evaluation, reason: str | None = None
) -> Promotion:
    """`promote` for an evaluation already in hand (`podium run` chains it)."""
    if evaluation.tracking_uri != config.registry_label:
        raise InputError(
            f"{config.state_dir / results.EVALUATION}: was made against "
            f"{evaluation.tracking_uri}, not {config.registry_label}; re-run evaluate"
        )
    challenger = evaluation.challenger.version
    expected = evaluation.champion.version if evaluation.champion else None
    if not evaluation.passed:
        failed = f"not promoted: v{challenger} failed its gates: {evaluation.summary}"
        return _finish(config, Promotion.refused(expected, evaluation.summary, failed))
    if expected == challenger:
        return _finish(config, _already(challenger))
    registry = open_registry(config, writes=True)
    # exit 2 naming the version if it was deleted, or a file changed since registration
    registry.verified_files(registry.get_version(challenger))
    current = registry.champion()
    if current is not None and current.version == challenger:
        return _finish(config, _already(challenger))
    why = reason or f"gates passed: {evaluation.summary}"
    provenance = gha.provenance(config.root)
    pause = champion.paused(registry)
    if pause is not None:  # a rollback holds until a new commit or `podium resume`
        commit = provenance.get("git_commit")
        if not (commit and pause.commit and commit != pause.commit):
            held = Promotion(
                promoted=False,
                champion_version=expected,
                previous_version=expected,
                reason=pause.describe(),
                paused=True,
            )
            return _finish(config, held)
        registry.change(
            lambda store: champion.resume(
                store,
                actor=gha.actor(),
                reason=f"new commit {commit[:7]} since the rollback to v{pause.version}",
                commit=commit,
                run_url=provenance.get("workflow_run"),
            ),
            lambda _: change_message(
                f"resume automatic promotion of {config.model.name}", commit=commit, run_url=None
            ),
        )
    try:
        event = registry.move_champion(
            action="promote",
            version=challenger,
            expected=expected,
            actor=gha.actor(),
            reason=why,
            commit=provenance.get("git_commit"),
            run_url=provenance.get("workflow_run"),
            approval=approvals.of_this_run(),
        )
    except CheckFailed as refused:  # lost a race: someone moved @champion meanwhile
        return _finish(config, Promotion.refused(expected, str(refused), str(refused)))
    from podium.stages.card import write_at_promotion

    write_at_promotion(config, registry, event.version, evaluation)  # model_card.md / .json
    moved = Promotion(
        promoted=True, champion_version=event.version, previous_version=event.previous, reason=why
    )
    # The evaluation's delivery line was measured before this move: measured again, the
    # report's footer counts this promotion and names the new champion.
    evaluation.delivery = DeliveryMetrics.model_validate(delivery.of_registry(registry).to_dict())
    evaluation.save(config.state_dir, replaces_downstream=False)
    return _finish(config, moved)


def _already(version: str) -> Promotion:
    return Promotion(
        promoted=False,
        champion_version=version,
        previous_version=version,
        reason="already the champion",
    )


def _finish(config: Config, outcome: Promotion) -> Promotion:
    outcome.save(config.state_dir)
    gha.set_output("promoted", str(outcome.promoted).lower())
    gha.set_output("champion-version", outcome.champion_version or "")
    return outcome
