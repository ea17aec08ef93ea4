"""The report's "Serving" section: the candidate behind MLflow's scoring server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.report.markdown import Section, code, finite, num, text

if TYPE_CHECKING:
    from podium.results import Evaluation


def serving_sections(evaluation: Evaluation) -> list[Section]:
    """One section when the serving check ran (or was skipped), else none."""
    served = evaluation.serving
    if served is None:
        return []
    manager = code(f"--env-manager {served.env_manager}")
    if served.skipped:
        return [
            Section("serving", f"#### Serving ➖\n\nNot checked: {text(served.skipped)}.", True)
        ]
    lines = [f"#### Serving {'✅' if served.passed else '❌'}", ""]
    if served.error:
        lines.append(f"MLflow scoring server ({manager}) failed: {text(served.error)}")
        return [Section("serving", "\n".join(lines), optional=False)]
    started = f"healthy in {num(served.start_seconds)} s; " if finite(served.start_seconds) else ""
    parity = served.parity if served.parity is not None and finite(served.parity) else 0.0
    same = round(parity * served.rows)
    lines.append(
        f"MLflow scoring server ({manager}): {started}{same} of {served.rows} probe rows "
        f"(`dataframe_split`) answered as podium predicted in-process "
        f"(serving parity {parity:.1%}); p95 latency {num(served.latency_ms)} ms over "
        f"{served.requests} requests."
    )
    if served.mismatch:
        lines += ["", f"First difference: {text(served.mismatch)}"]
    lines += [
        "",
        "_The probe rows and answers are stored with the version: deployments are "
        "verified against them._",
    ]
    return [Section("serving", "\n".join(lines), optional=not served.mismatch)]
