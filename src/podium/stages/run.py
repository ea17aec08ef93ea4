"""`podium run`: validate → train → evaluate → report → promote, as the workflows do.

The report is rendered after the promotion attempt so that it states the outcome;
it is rendered whatever the gates said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podium.config import Config
from podium.errors import CheckFailed


@dataclass
class RunResult:
    passed: bool
    promoted: bool
    challenger_version: str | None
    champion_version: str | None
    report_markdown: str | None
    report_path: str | None
    failures: list[str] = field(default_factory=list)


def run(
    *,
    config: Config,
    promote: bool = True,
    say: Callable[[str], None] = lambda _: None,
) -> RunResult:
    """The whole loop; a failed check or gate stops promotion (CheckFailed at the end)."""
    from podium.stages.evaluate import evaluate
    from podium.stages.promote import promote as do_promote
    from podium.stages.report import build_report
    from podium.stages.train import train
    from podium.stages.validate import validate

    say("validate: checking the data")
    try:
        validate(config=config)
    except CheckFailed:  # a failed data check stops here: nothing is trained, but say why
        build_report(config=config)
        raise
    say("train: fitting the challenger")
    trained = train(config=config)
    say(f"train: registered {config.model.name} v{trained.version} (run {trained.run_id[:8]})")
    say("evaluate: scoring challenger and champion on the same evaluation data")
    failures: list[str] = []
    champion_version = None
    try:
        evaluated = evaluate(config=config)
        champion_version = evaluated.champion.version if evaluated.champion else None
    except CheckFailed as failed:
        failures.append(str(failed))
        from podium import results

        written = results.read_optional(config.state_dir, results.EVALUATION) or {}
        champion_version = (written.get("champion") or {}).get("version")
    promoted = False
    if promote and not failures:
        say("promote: moving @champion (compare-and-set)")
        try:
            outcome = do_promote(config=config)
            promoted = outcome.promoted
            champion_version = outcome.champion_version
        except CheckFailed as refused:  # lost a race: someone moved @champion meanwhile
            failures.append(str(refused))
    # The report comes last so it states what actually happened, promotion included.
    rendered = build_report(config=config)
    result = RunResult(
        passed=not failures,
        promoted=promoted,
        challenger_version=trained.version,
        champion_version=champion_version,
        report_markdown=rendered.markdown,
        report_path=str(rendered.path),
        failures=failures,
    )
    return result
