"""`podium demo`: a sample project in a temporary folder, run through the loop twice."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from podium import config as config_module
from podium import sample
from podium.errors import CheckFailed
from podium.stages.run import RunResult, run

ROUNDS: tuple[tuple[str, dict[str, object]], ...] = (
    ("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}),
    ("sklearn.ensemble.HistGradientBoostingClassifier", {"max_iter": 200, "learning_rate": 0.05}),
)


@dataclass
class DemoResult:
    folder: Path
    rounds: list[RunResult]
    tracking_uri: str


def demo(
    *,
    folder: Path | None = None,
    model_name: str = "churn-demo",
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Crown a first champion, then train a challenger that is compared, gated, reported."""
    where = folder or Path(tempfile.mkdtemp(prefix="podium-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    rounds: list[RunResult] = []
    tracking_uri = ""
    for number, (estimator, params) in enumerate(ROUNDS, start=1):
        path = sample.write_project(where, model_name, estimator, params, month=number)
        config = config_module.load(path)
        tracking_uri = config.tracking_uri
        say(f"\n== round {number}: {estimator.rsplit('.', 1)[-1]} ==")
        if number == 1:
            from podium.stages.suggest import suggest

            suite = suggest(config=config, force=True)
            say(f"  suggest: wrote {suite.expectations} expectations to {suite.path.name}")
        else:
            say("  (a new month of training data arrived: customers pay more)")
        try:
            outcome = run(config=config, say=lambda line: say(f"  {line}"))
        except CheckFailed as failed:  # the challenger could not be scored at all
            say(f"  stopped: {failed}")
            continue
        if outcome.data_failed:  # a data check failed: part of the demo's story too
            say(f"  stopped: {outcome.failure}")
            continue
        rounds.append(outcome)
        verdict = "promoted" if outcome.promoted else "not promoted"
        say(f"  → v{outcome.challenger_version} {verdict}; champion is v{outcome.champion_version}")
    return DemoResult(folder=where, rounds=rounds, tracking_uri=tracking_uri)
