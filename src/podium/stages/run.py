"""`podium run`: validate → train → evaluate → report → promote, as the workflows do.

Each stage's result is handed to the next (no re-reading of `.podium/`). The report is
rendered after the promotion attempt so that it states the outcome; it is rendered
whatever the gates said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from podium.config import Config

if TYPE_CHECKING:
    from podium.stages.report import StageResults


@dataclass
class RunResult:
    passed: bool
    promoted: bool
    challenger_version: str | None
    champion_version: str | None
    report_markdown: str | None
    report_path: str | None
    failures: list[str] = field(default_factory=list)
    data_failed: bool = False  # validation failed: nothing was trained
    # The stages' results, for a terminal's summary (`podium.terminal`)
    found: StageResults | None = None

    @property
    def failure(self) -> str | None:
        """The exit-1 message, None when every check and gate passed."""
        if not self.failures:
            return None
        if self.data_failed:
            return "; ".join(self.failures)
        return "; ".join(self.failures) + " — nothing was promoted"


def run(
    *,
    config: Config,
    promote: bool = True,
    say: Callable[[str], None] = lambda _: None,
    retrain: bool = False,
) -> RunResult:
    """The whole loop; a failed check or gate stops promotion (`passed=False`).

    A run that fails with an exception (exit 2 or 3) leaves `.podium/` as it found it.
    """
    from podium.results import restored_on_error

    with restored_on_error(config.state_dir):
        return _run(config=config, promote=promote, say=say, retrain=retrain)


def _run(*, config: Config, promote: bool, say: Callable[[str], None], retrain: bool) -> RunResult:
    from podium.stages import fitting_modules
    from podium.stages.evaluate import EarlyImportance, evaluate
    from podium.stages.promote import promote_evaluated
    from podium.stages.report import StageResults, build_report
    from podium.stages.train import EarlyProfile, train
    from podium.stages.validate import validate

    say("validate: checking the data")
    # The training data's profile (for later drift checks) begins as soon as validate has
    # prepared the rows, beside its registry and drift work; train takes it.
    profiled = EarlyProfile()
    validated = validate(
        config=config, on_prepared=profiled.begin, then_import=fitting_modules(config)
    )
    if validated.failure:  # a failed data check stops here: nothing is trained, but say why
        rendered = build_report(config=config, found=StageResults(validation=validated))
        return RunResult(
            passed=False,
            promoted=False,
            challenger_version=None,
            champion_version=validated.champion_version,
            report_markdown=rendered.markdown,
            report_path=str(rendered.path),
            failures=[validated.failure],
            data_failed=True,
            found=StageResults(validation=validated),
        )
    say("train: the challenger (fitted unless identical to an earlier version)")
    # The challenger's importance starts as soon as it is fitted, beside its logging.
    early = EarlyImportance(config)
    trained = train(config=config, on_fitted=early.begin, profiled=profiled, retrain=retrain)
    if trained.not_retrained:
        say(f"train: challenger v{trained.version} is {trained.not_retrained}")
    else:
        say(f"train: registered {config.model.name} v{trained.version} (run {trained.run_id[:8]})")
    say("evaluate: scoring challenger and champion on the same evaluation data")
    evaluated = evaluate(config=config, early=early)
    failures = [evaluated.failure] if evaluated.failure else []
    champion_version = evaluated.champion.version if evaluated.champion else None
    promotion = None
    if promote and not failures:
        say("promote: moving @champion (compare-and-set)")
        promotion = promote_evaluated(config=config, evaluation=evaluated)
        champion_version = promotion.champion_version
        if promotion.failure:  # lost a race: someone moved @champion meanwhile
            failures.append(promotion.failure)
    # The report comes last so it states what actually happened, promotion included.
    found = StageResults(
        validation=validated, training=trained, evaluation=evaluated, promotion=promotion
    )
    rendered = build_report(config=config, found=found)
    return RunResult(
        passed=not failures,
        promoted=bool(promotion and promotion.promoted),
        challenger_version=trained.version,
        champion_version=champion_version,
        report_markdown=rendered.markdown,
        report_path=str(rendered.path),
        failures=failures,
        found=found,
    )
