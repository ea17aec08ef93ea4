"""`podium report`: render the comparison; print it and write it locally, summary in CI.

Posting the PR comment and the commit status (through the GitHub adapter) is the
report issue's; this stage already renders the same markdown everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podium import __version__, gha, report, results
from podium.config import Config


@dataclass
class ReportResult:
    markdown: str
    path: Path
    in_summary: bool


def build_report(*, config: Config) -> ReportResult:
    """Render `.podium/` results to `.podium/report.md` (and the job summary in Actions)."""
    state = config.state_dir
    evaluation = results.read(state, results.EVALUATION, needed_by="report", produced_by="evaluate")
    training = results.read_optional(state, results.TRAINING)
    if training and str(training.get("version")) != str(evaluation["challenger"]["version"]):
        training = None  # a stale training result must not describe another version
    context = {
        "podium_version": __version__,
        "commit": gha.git_commit(config.root),
        "run_url": gha.run_url(),
        "pull_request": gha.pr_number(),
    }
    markdown = report.render(
        evaluation=evaluation,
        training=training,
        validation=results.read_optional(state, results.VALIDATION),
        promotion=results.read_optional(state, results.PROMOTION),
        context=context,
    )
    path = results.write_text(state, results.REPORT, markdown)
    in_summary = gha.summary(markdown)
    return ReportResult(markdown=markdown, path=path, in_summary=in_summary)
