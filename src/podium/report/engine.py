"""The report's note on numbers computed inside an engine (`engine: spark`).

Which metrics are exact aggregates over every evaluation row, which are approximate
(how, within what), and which come from a sample of how many rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.report.markdown import details, plural, text

if TYPE_CHECKING:
    from podium.results import Computation


def computed_note(computed: Computation) -> list[str]:
    """A collapsed block: exact, approximate and sampled numbers, and the sample size."""
    summary = f"Computed in {text(computed.engine)} over {plural(computed.rows, 'evaluation row')}"
    body = []
    if computed.exact:
        body.append(f"- exact over every row: {text(', '.join(computed.exact))}")
    for metric, how in computed.approximate.items():
        body.append(f"- {text(metric)}: {text(how)}")
    if computed.sampled:
        body.append(
            f"- on a seeded sample of {plural(computed.sample_rows, 'row')} (the same rows "
            f"for both models): {text(', '.join(computed.sampled))}"
        )
    return details(summary, body)
