"""The report package: podium's markdown for pull requests, job summaries and issues.

- `markdown`: building blocks — numbers, escaped text, code spans, details, sections.
- `sections`: what the comparison report and the monitoring issue share (data checks,
  expectations, drift, metric names, paths).
- `comparison`: the champion/challenger report (`render`, `render_data_failure`), and the
  gates table as plain text for the CLI.
- `monitoring`: the production-monitoring report and issue.

Everything here is a pure function of results and context: no I/O.
"""

from __future__ import annotations

from podium.report.comparison import (
    headline,
    marker,
    metrics_table_cells,
    metrics_table_text,
    render,
    render_data_failure,
)
from podium.report.markdown import GITHUB_COMMENT_LIMIT, size

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "headline",
    "marker",
    "metrics_table_cells",
    "metrics_table_text",
    "render",
    "render_data_failure",
    "size",
]
