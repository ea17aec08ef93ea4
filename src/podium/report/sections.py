"""Sections shared by the comparison report and the monitoring issue.

Data checks, expectations and drift read the same in a pull request's comment and in a
production alert; so do metric names and file paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.expectation_words import describe_expectation, describe_observed
from podium.metrics import METRICS
from podium.report.markdown import (
    MAX_ROWS,
    Section,
    as_float,
    code,
    count,
    details,
    finite,
    is_true,
    more,
    num,
    plural,
    short,
    text,
    version_label,
)

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


def rows_of(dataset: Mapping[str, Any]) -> str:
    """'4,000 rows' from a dataset description."""
    rows = dataset.get("rows")
    return f"{int(as_float(rows)):,} rows" if finite(rows) else "? rows"


def drift_table(drift: Mapping[str, Any], *, where: str = VALIDATION_FILE) -> list[str]:
    """Per-feature drift (PSI and the two-sample test) in a collapsed block, drifted first."""
    features = list(drift.get("features") or [])
    drifted = sum(1 for f in features if f.get("drifted"))
    mark = "⚠️" if drifted or drift.get("passed", True) is not True else "✅"
    reference = drift.get("reference_version")
    against = f"champion {version_label(reference)}'s" if reference else "the reference"
    summary = (
        f"Drift {mark} {drifted} of {plural(len(features), 'feature')} drifted "
        f"against {against} training data"
    )
    share = drift.get("max_drifted_share")
    body: list[str] = []
    if finite(share):
        body += [
            f"Drifted share {as_float(drift.get('drifted_share')):.0%} "
            f"(allowed: at most {as_float(share):.0%}).",
            "",
        ]
    body += ["| feature | kind | PSI | test | statistic | p-value | drifted |"]
    body += ["|---|---|---:|---|---:|---:|:-:|"]
    features.sort(key=lambda f: (not f.get("drifted"), -as_float(f.get("psi"))))
    for f in features[:MAX_ROWS]:
        test = "χ²" if f.get("test") == "chi2" else text(f.get("test", ""))
        body.append(
            f"| {code(f.get('feature'))} | {text(f.get('kind', ''))} | {num(f.get('psi'))} "
            f"| {test} | {num(f.get('statistic'))} | {num(f.get('p_value'))} "
            f"| {'⚠️' if f.get('drifted') else ''} |"
        )
    body += more(min(len(features), MAX_ROWS), len(features), "feature", where)
    return details(summary, body)


def _checks_table(validation: Mapping[str, Any]) -> list[str]:
    checks = validation.get("checks") or []
    passed = sum(1 for c in checks if is_true(c.get("passed")))
    mark = "✅" if is_true(validation.get("passed")) else "❌"
    train = validation.get("train") or {}
    evald = validation.get("eval") or {}
    summary = (
        f"Data checks {mark} {passed}/{len(checks)} passed on train "
        f"({rows_of(train)}) and eval ({rows_of(evald)})"
    )
    body = ["| check | result | detail |", "|---|:-:|---|"]
    notes = list(validation.get("notes") or [])
    checks = sorted(checks, key=lambda c: is_true(c.get("passed")))  # failures first
    for c in checks[:MAX_ROWS]:
        mark = "✅" if is_true(c.get("passed")) else "❌"
        body.append(f"| {text(c.get('name'))} | {mark} | {text(c.get('detail'))} |")
    body += [f"| note | ℹ️ | {text(note)} |" for note in notes[:MAX_ROWS]]
    body += more(min(len(checks), MAX_ROWS), len(checks), "check", VALIDATION_FILE)
    body += more(min(len(notes), MAX_ROWS), len(notes), "note", VALIDATION_FILE)
    return details(summary, body)


def _expectations_table(expectations: Mapping[str, Any], root: str | None) -> list[str]:
    results = list(expectations.get("results") or [])
    evaluated = count(expectations.get("evaluated") or len(results))
    failed = count(
        expectations.get("failed") or sum(1 for r in results if not is_true(r.get("success")))
    )
    mark = "✅" if is_true(expectations.get("passed")) else "❌"
    suite = expectations.get("suite")
    of_suite = f" ({text(shown_path(suite, root))})" if suite else ""
    summary = f"Expectations {mark} {evaluated - failed}/{evaluated} passed{of_suite}"
    results.sort(key=lambda r: is_true(r.get("success")))  # failures first, order kept otherwise
    body = ["| data | column | expectation | observed | result |", "|---|---|---|---|:-:|"]
    for r in results[:MAX_ROWS]:
        kind = str(r.get("expectation", ""))
        observed = text(describe_observed(kind, r.get("observed")))
        examples = r.get("unexpected_examples") or []
        if not is_true(r.get("success")) and examples:
            observed += (" — e.g. " if observed else "e.g. ") + ", ".join(
                code(short(e, 30)) for e in examples[:5]
            )
        column = code(r["column"]) if r.get("column") else "—"
        what = text(describe_expectation(kind, r.get("kwargs") or {}))
        body.append(
            f"| {text(r.get('dataset', ''))} | {column} | {what} | {observed} "
            f"| {'✅' if is_true(r.get('success')) else '❌'} |"
        )
    body += more(min(len(results), MAX_ROWS), len(results), "expectation", VALIDATION_FILE)
    return details(summary, body)


def data_sections(
    validation: Mapping[str, Any], *, optional: bool, root: str | None
) -> list[Section]:
    """Data checks, then expectations and drift when the validation result has them."""
    sections = [Section("data checks", "\n".join(_checks_table(validation)), optional)]
    expectations = validation.get("expectations")
    if isinstance(expectations, Mapping):
        table = _expectations_table(expectations, root)
        sections.append(Section("expectations", "\n".join(table), optional))
    drift = validation.get("drift")
    if isinstance(drift, Mapping):
        sections.append(Section("drift", "\n".join(drift_table(drift)), optional))
    return sections


def status_line(validation: Mapping[str, Any] | None) -> str | None:
    """'Validation: …' one-liner under the verdict (data checks, expectations, drift)."""
    if not validation:
        return None
    parts = []
    checks = validation.get("checks") or []
    if checks:
        ok = sum(1 for c in checks if is_true(c.get("passed")))
        parts.append(f"data checks {ok}/{len(checks)} passed")
    expectations = validation.get("expectations")
    if isinstance(expectations, Mapping):
        evaluated = count(expectations.get("evaluated"))
        failed = count(expectations.get("failed"))
        parts.append(f"expectations {evaluated - failed}/{evaluated} passed")
    drift = validation.get("drift")
    if isinstance(drift, Mapping):
        features = drift.get("features") or []
        drifted = [f for f in features if f.get("drifted")]
        line = f"drift: {len(drifted)} of {plural(len(features), 'feature')} drifted"
        if drifted:
            worst = max(drifted, key=lambda f: as_float(f.get("psi")))
            line += f" ({code(worst.get('feature'))}, PSI {num(worst.get('psi'))}"
            line += ", …)" if len(drifted) > 1 else ")"
        parts.append(line)
    return "Validation: " + " · ".join(parts) + "." if parts else None
