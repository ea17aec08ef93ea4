"""Sections shared by the comparison report and the monitoring issue.

Data checks, expectations and drift read the same in a pull request's comment and in a
production alert; so do metric names and file paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.expectation_words import describe_expectation, describe_observed
from podium.report.markdown import (
    MAX_ROWS,
    Section,
    as_float,
    code,
    details,
    finite,
    more,
    num,
    plural,
    short,
    text,
    version_label,
)
from podium.scoring import METRICS

if TYPE_CHECKING:
    from podium.results import DataSummary, Drift, Expectations, Validation

VALIDATION_FILE = ".podium/validation.json"


def metric_title(name: str) -> str:
    """A metric's name as a table row says it ('latency (ms / 1k rows)'), plain text."""
    return METRICS[name].label if name in METRICS else name


def metric_label(name: str) -> str:
    """`metric_title`, escaped for markdown."""
    return text(metric_title(name))


def higher_is_better(name: str) -> bool:
    """Unknown (custom) metrics are taken as higher-is-better."""
    return METRICS[name].higher_is_better if name in METRICS else True


def better(name: str, challenger: Any, champion: Any) -> bool | None:
    """Whether the challenger's value is the better one; None when equal or not comparable."""
    if not (finite(challenger) and finite(champion)) or challenger == champion:
        return None
    higher = higher_is_better(name)
    return bool(challenger > champion) if higher else bool(challenger < champion)


def shown_path(path: Any, root: str | None) -> str:
    """A path as the reader knows it: relative to the repository when it lies inside it."""
    shown = str(path)
    if root:
        prefix = root.rstrip("/") + "/"
        if shown.startswith(prefix):
            return shown[len(prefix) :]
    return shown


def rows_of(dataset: DataSummary) -> str:
    """'4,000 rows' from a dataset description."""
    return f"{dataset.rows:,} rows"


def drift_table(drift: Drift, *, where: str = VALIDATION_FILE) -> list[str]:
    """Per-feature drift (PSI and the two-sample test) in a collapsed block, drifted first."""
    features = list(drift.features)
    drifted = sum(1 for f in features if f.drifted)
    mark = "⚠️" if drifted or drift.passed is False else "✅"
    reference = drift.reference_version
    against = f"champion {version_label(reference)}'s" if reference else "the reference"
    summary = (
        f"Drift {mark} {drifted} of {plural(len(features), 'feature')} drifted "
        f"against {against} training data"
    )
    share = drift.max_drifted_share
    body: list[str] = []
    if finite(share):
        body += [
            f"Drifted share {as_float(drift.drifted_share):.0%} "
            f"(allowed: at most {as_float(share):.0%}).",
            "",
        ]
    body += ["| feature | kind | PSI | test | statistic | p-value | drifted |"]
    body += ["|---|---|---:|---|---:|---:|:-:|"]
    features.sort(key=lambda f: (not f.drifted, -as_float(f.psi)))
    for f in features[:MAX_ROWS]:
        test = "χ²" if f.test == "chi2" else text(f.test)
        body.append(
            f"| {code(f.feature)} | {text(f.kind)} | {num(f.psi)} "
            f"| {test} | {num(f.statistic)} | {num(f.p_value)} "
            f"| {'⚠️' if f.drifted else ''} |"
        )
    body += more(min(len(features), MAX_ROWS), len(features), "feature", where)
    return details(summary, body)


def _checks_table(validation: Validation) -> list[str]:
    checks = validation.checks
    passed = sum(1 for c in checks if c.passed is True)
    mark = "✅" if validation.passed is True else "❌"
    summary = (
        f"Data checks {mark} {passed}/{len(checks)} passed on train "
        f"({rows_of(validation.train)}) and eval ({rows_of(validation.eval)})"
    )
    body = ["| check | result | detail |", "|---|:-:|---|"]
    notes = validation.notes
    checks = sorted(checks, key=lambda c: c.passed is True)  # failures first
    for c in checks[:MAX_ROWS]:
        mark = "✅" if c.passed is True else "❌"
        body.append(f"| {text(c.name)} | {mark} | {text(c.detail)} |")
    body += [f"| note | ℹ️ | {text(note)} |" for note in notes[:MAX_ROWS]]
    body += more(min(len(checks), MAX_ROWS), len(checks), "check", VALIDATION_FILE)
    body += more(min(len(notes), MAX_ROWS), len(notes), "note", VALIDATION_FILE)
    return details(summary, body)


def _expectations_table(expectations: Expectations, root: str | None) -> list[str]:
    results = list(expectations.results)
    evaluated = expectations.evaluated or len(results)
    failed = expectations.failed or sum(1 for r in results if r.success is not True)
    mark = "✅" if expectations.passed is True else "❌"
    suite = expectations.suite
    of_suite = f" ({text(shown_path(suite, root))})" if suite else ""
    summary = f"Expectations {mark} {evaluated - failed}/{evaluated} passed{of_suite}"
    results.sort(key=lambda r: r.success is True)  # failures first, order kept otherwise
    body = ["| data | column | expectation | observed | result |", "|---|---|---|---|:-:|"]
    for r in results[:MAX_ROWS]:
        kind = r.expectation
        observed = text(describe_observed(kind, r.observed))
        examples = r.unexpected_examples
        if r.success is not True and examples:
            observed += (" — e.g. " if observed else "e.g. ") + ", ".join(
                code(short(e, 30)) for e in examples[:5]
            )
        column = code(r.column) if r.column else "—"
        what = text(describe_expectation(kind, r.kwargs))
        body.append(
            f"| {text(r.dataset)} | {column} | {what} | {observed} "
            f"| {'✅' if r.success is True else '❌'} |"
        )
    body += more(min(len(results), MAX_ROWS), len(results), "expectation", VALIDATION_FILE)
    return details(summary, body)


def data_sections(validation: Validation, *, optional: bool, root: str | None) -> list[Section]:
    """Data checks, then expectations and drift when the validation result has them."""
    sections = [Section("data checks", "\n".join(_checks_table(validation)), optional)]
    if validation.expectations is not None:
        table = _expectations_table(validation.expectations, root)
        sections.append(Section("expectations", "\n".join(table), optional))
    if validation.drift is not None:
        sections.append(Section("drift", "\n".join(drift_table(validation.drift)), optional))
    return sections


def status_line(validation: Validation | None) -> str | None:
    """'Validation: …' one-liner under the verdict (data checks, expectations, drift)."""
    if not validation:
        return None
    parts = []
    checks = validation.checks
    if checks:
        ok = sum(1 for c in checks if c.passed is True)
        parts.append(f"data checks {ok}/{len(checks)} passed")
    expectations = validation.expectations
    if expectations is not None:
        evaluated, failed = expectations.evaluated, expectations.failed
        parts.append(f"expectations {evaluated - failed}/{evaluated} passed")
    drift = validation.drift
    if drift is not None:
        features = drift.features
        drifted = [f for f in features if f.drifted]
        line = f"drift: {len(drifted)} of {plural(len(features), 'feature')} drifted"
        if drifted:
            worst = max(drifted, key=lambda f: as_float(f.psi))
            line += f" ({code(worst.feature)}, PSI {num(worst.psi)}"
            line += ", …)" if len(drifted) > 1 else ")"
        parts.append(line)
    return "Validation: " + " · ".join(parts) + "." if parts else None
