"""The comparison report: a pure function from stage results to GitHub-flavoured markdown.

No I/O here: `render` takes the `.podium/*.json` payloads (as dicts) and context, and
returns text, so the report is testable without a server and identical locally and in CI.

The report is a list of sections (headline, gates table, chart, collapsed details,
footer). When a size limit is given (a GitHub comment holds 65,536 characters) whole
sections are dropped from the end, never cut in the middle, and a note says where the
full report is.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from podium import delivery, importance
from podium.metrics import METRICS

MARKER = "<!-- podium-report: {name} -->"

# The most characters a GitHub issue/PR comment body may hold.
GITHUB_COMMENT_LIMIT = 65_536

# Chart only metrics that share a 0..1 scale, so bars are comparable on one axis.
_UNIT_SCALE = ("roc_auc", "accuracy", "f1", "precision", "recall", "r2")

# Colours of the chart's two series: readable on GitHub's light and dark themes.
_CHAMPION_COLOUR, _CHALLENGER_COLOUR = "#8b949e", "#2f81f7"

# Long tables stay readable (and comments small): failures first, then this many rows.
MAX_ROWS = 40


def marker(model_name: str) -> str:
    """The hidden marker that identifies podium's comment for one model."""
    return MARKER.format(name=model_name)


def size(text: str) -> int:
    """Length as GitHub counts it, conservatively (UTF-16 code units ≥ characters)."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------- formatting


def _finite(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not (math.isnan(number) or math.isinf(number))


def _float(value: Any) -> float:
    """A finite number, or 0 for anything else (sorting keys)."""
    return float(value) if _finite(value) else 0.0


def _num(value: Any) -> str:
    """Three decimals for scores, fewer for larger numbers, scientific for tiny ones."""
    if not _finite(value):
        return "—"
    number = float(value)
    if number < 0:
        return "−" + _num(-number)  # a typographic minus, like the deltas
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    if magnitude >= 10:
        return f"{number:.1f}"
    if magnitude >= 1:
        return f"{number:.2f}"
    if magnitude != 0 and magnitude < 0.001:
        return f"{number:.1e}"
    return f"{number:.3f}"


def _delta(value: Any) -> str:
    if not _finite(value):
        return "—"
    number = float(value)
    if number == 0:
        return "±0"
    magnitude = abs(number)
    # A delta below 0.001 still reads as a plain decimal (+0.0007), not as 7.0e-04.
    text = f"{magnitude:.4f}" if 0.0001 <= magnitude < 0.001 else _num(magnitude)
    return ("+" if number > 0 else "−") + text


def _interval(check: Mapping[str, Any] | None) -> str | None:
    """'95% CI +0.004 … +0.020' from a check's bootstrap interval, if it has one."""
    interval = (check or {}).get("interval")
    if not isinstance(interval, Mapping):
        return None
    low, high = interval.get("low"), interval.get("high")
    if not (_finite(low) and _finite(high)):
        return None
    level = _float(interval.get("confidence")) or 0.95
    return f"{level:.0%} CI {_delta(low)} … {_delta(high)}"


def _text(value: Any) -> str:
    """User-supplied text inside markdown/HTML: no tags, no table breaks, one line."""
    escaped = html.escape(" ".join(str(value).split()), quote=False)
    return escaped.replace("|", "\\|")


def _code(value: Any) -> str:
    """Inline code that survives any content (backticks, pipes, HTML)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _short(value: Any, limit: int = 60) -> str:
    """A JSON value on one short line (observed values, examples)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _metric_label(name: str) -> str:
    if name == "latency_ms":
        return "latency (ms / 1k rows)"
    if name == "model_size_mb":
        return "model size (MB)"
    return _text(name)


def _higher_is_better(name: str) -> bool:
    return METRICS[name].higher_is_better if name in METRICS else True


def _better(name: str, challenger: Any, champion: Any) -> bool | None:
    if not (_finite(challenger) and _finite(champion)) or challenger == champion:
        return None
    higher = _higher_is_better(name)
    return bool(challenger > champion) if higher else bool(challenger < champion)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# ------------------------------------------------------------------------------ headline


def headline(evaluation: Mapping[str, Any], promotion: Mapping[str, Any] | None) -> tuple[str, str]:
    """(title line, one-sentence verdict) for the top of the report."""
    name = _text(evaluation["model_name"])
    chal = f"v{evaluation['challenger']['version']}"
    champion = evaluation.get("champion")
    champ = f"v{champion['version']}" if champion else None
    passed = bool(evaluation.get("passed"))
    why = _why(evaluation)
    if promotion and promotion.get("promoted"):
        was = f" (was {champ})" if champ else " (first champion)"
        return (
            f"✅ podium · {name} — challenger **{chal}** is the new champion{was}",
            f"**Promoted** — {why}.",
        )
    if passed:
        if champ:
            title = f"🏆 podium · {name} — challenger **{chal}** would replace champion **{champ}**"
        else:
            title = f"🏆 podium · {name} — challenger **{chal}** would become the first champion"
        return title, f"**Promotable** — {why}."
    against = f" champion **{champ}**" if champ else " its gates"
    return (
        f"❌ podium · {name} — challenger **{chal}** does not beat{against}",
        f"**Not promotable** — {why}.",
    )


def _why(evaluation: Mapping[str, Any]) -> str:
    """The verdict's reason in one sentence: the gates' summary plus the headline metric."""
    summary = _text(evaluation.get("summary", "")).rstrip(".") or "no gate was evaluated"
    if not evaluation.get("passed"):
        return summary
    checks = evaluation.get("checks") or []
    if not checks:
        return summary
    first = checks[0]
    metric = str(first.get("metric"))
    chal, champ = first.get("challenger"), first.get("champion")
    if _finite(chal) and _finite(champ):
        delta = float(chal) - float(champ)
        better = _better(metric, chal, champ)
        verb = "improves" if better else ("is unchanged" if better is None else "changes")
        by = "" if better is None else f" by {_delta(delta)}"
        ci = _interval(first)
        detail = f"{ci}; " if ci else ""
        return f"{summary}; {_text(metric)} {verb}{by} ({detail}{_num(champ)} → {_num(chal)})"
    if _finite(chal):
        return f"{summary}; {_text(metric)} {_num(chal)}"
    return summary


def _status_line(validation: Mapping[str, Any] | None) -> str | None:
    """'Validation: …' one-liner under the verdict (data checks, expectations, drift)."""
    if not validation:
        return None
    parts = []
    checks = validation.get("checks") or []
    if checks:
        ok = sum(1 for c in checks if c.get("passed"))
        parts.append(f"data checks {ok}/{len(checks)} passed")
    expectations = validation.get("expectations")
    if isinstance(expectations, Mapping):
        evaluated = int(expectations.get("evaluated") or 0)
        failed = int(expectations.get("failed") or 0)
        parts.append(f"expectations {evaluated - failed}/{evaluated} passed")
    drift = validation.get("drift")
    if isinstance(drift, Mapping):
        features = drift.get("features") or []
        drifted = [f for f in features if f.get("drifted")]
        text = f"drift: {len(drifted)} of {_plural(len(features), 'feature')} drifted"
        if drifted:
            worst = max(drifted, key=lambda f: _float(f.get("psi")))
            text += f" ({_code(worst.get('feature'))}, PSI {_num(worst.get('psi'))}"
            text += ", …)" if len(drifted) > 1 else ")"
        parts.append(text)
    return "Validation: " + " · ".join(parts) + "." if parts else None


# ------------------------------------------------------------------------- gates and chart


def _metrics_table(evaluation: Mapping[str, Any]) -> list[str]:
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    chal_metrics: dict[str, Any] = challenger.get("metrics") or {}
    champ_metrics: dict[str, Any] = (champion or {}).get("metrics") or {}
    checks: dict[str, dict[str, Any]] = {}
    for c in evaluation.get("checks", []):  # two gates on one metric share its row
        seen = checks.get(c["metric"])
        checks[c["metric"]] = (
            dict(c)
            if seen is None
            else {
                **seen,
                "bound": f"{seen['bound']}; {c['bound']}",
                "passed": seen["passed"] and c["passed"],
            }
        )
    known = [m for m in METRICS if m in chal_metrics and m not in checks]
    extra = [m for m in chal_metrics if m not in METRICS and m not in checks]
    order = [*checks, *known, *extra]
    champ_head = f"champion v{champion['version']}" if champion else "champion"
    head = f"| metric | {champ_head} | challenger v{challenger['version']} | Δ | gate | |"
    lines = [head, "|---|---:|---:|---:|---|:-:|"]
    for name in order:
        chal_value = chal_metrics.get(name)
        champ_value = champ_metrics.get(name)
        delta = (
            _float(chal_value) - _float(champ_value)
            if _finite(chal_value) and _finite(champ_value)
            else None
        )
        better = _better(name, chal_value, champ_value)
        chal_text = _num(chal_value)
        champ_text = _num(champ_value)
        if better is True:
            chal_text = f"**{chal_text}**"
        elif better is False:
            champ_text = f"**{champ_text}**"
        check = checks.get(name)
        gate = _text(check["bound"]) if check else "—"
        mark = ("✅" if check["passed"] else "❌") if check else ""
        ci = _interval(check) if delta is not None else None
        delta_text = f"{_delta(delta)} ({ci})" if ci else _delta(delta)
        lines.append(
            f"| {_metric_label(name)} | {champ_text} | {chal_text} | {delta_text} "
            f"| {gate} | {mark} |"
        )
    return lines


def _chart(evaluation: Mapping[str, Any]) -> list[str]:
    """Champion vs challenger as a Mermaid bar chart (GitHub renders it; no image host).

    Mermaid's xychart draws every bar series at the same position, so two series would
    hide each other. Each metric gets two slots instead, one per model, and each series
    sits below the axis (-1: not drawn) in the other's slot; a 0 would still show as a
    sliver. Bars are horizontal so that the labels never overlap, on a 0..1 axis so that
    no difference is exaggerated.
    """
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    chal_metrics: dict[str, Any] = challenger.get("metrics") or {}
    champ_metrics: dict[str, Any] = (champion or {}).get("metrics") or {}

    def charted(value: Any) -> bool:
        return _finite(value) and 0.0 <= float(value) <= 1.0

    names = [
        m
        for m in _UNIT_SCALE
        if charted(chal_metrics.get(m)) and (not champion or charted(champ_metrics.get(m)))
    ]
    if not names:
        return []
    chal = f"v{challenger['version']}"
    palette = f"{_CHAMPION_COLOUR}, {_CHALLENGER_COLOUR}" if champion else _CHALLENGER_COLOUR
    init = {"themeVariables": {"xyChart": {"plotColorPalette": palette}}}
    lines = ["```mermaid", f"%%{{init: {json.dumps(init)}}}%%", "xychart-beta horizontal"]

    def bar(values: list[float]) -> str:
        return "    bar [" + ", ".join("-1" if v < 0 else f"{v:.4f}" for v in values) + "]"

    if champion:
        champ = f"v{champion['version']}"
        labels = [label for m in names for label in (f"{m} {champ}", f"{m} {chal}")]
        lines += [
            f'    title "champion {champ} (grey) vs challenger {chal} (blue)"',
            f"    x-axis [{', '.join(json.dumps(label) for label in labels)}]",
            '    y-axis "score" 0 --> 1',
            bar([v for m in names for v in (float(champ_metrics[m]), -1.0)]),
            bar([v for m in names for v in (-1.0, float(chal_metrics[m]))]),
        ]
    else:
        lines += [
            f'    title "challenger {chal} (no champion yet)"',
            f"    x-axis [{', '.join(json.dumps(m) for m in names)}]",
            '    y-axis "score" 0 --> 1',
            bar([float(chal_metrics[m]) for m in names]),
        ]
    lines.append("```")
    return lines


# ------------------------------------------------------------------------------- details


def _details(summary: str, body: Sequence[str]) -> list[str]:
    # Blank lines around the body let GitHub render the markdown inside <details>.
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _more(shown: int, total: int, what: str) -> list[str]:
    if total <= shown:
        return []
    rest = _plural(total - shown, what)
    return ["", f"_… and {rest} more (all of them in `.podium/validation.json`)._"]


def _rows_of(dataset: Mapping[str, Any]) -> str:
    rows = dataset.get("rows")
    return f"{int(rows):,} rows" if isinstance(rows, int | float) else "? rows"


def _validation(validation: Mapping[str, Any]) -> list[str]:
    checks = validation.get("checks") or []
    passed = sum(1 for c in checks if c.get("passed"))
    mark = "✅" if validation.get("passed") else "❌"
    train = validation.get("train") or {}
    evald = validation.get("eval") or {}
    summary = (
        f"Data checks {mark} {passed}/{len(checks)} passed on train "
        f"({_rows_of(train)}) and eval ({_rows_of(evald)})"
    )
    body = ["| check | result | detail |", "|---|:-:|---|"]
    notes = list(validation.get("notes") or [])
    checks = sorted(checks, key=lambda c: bool(c.get("passed")))  # failures first
    for c in checks[:MAX_ROWS]:
        mark = "✅" if c.get("passed") else "❌"
        body.append(f"| {_text(c.get('name'))} | {mark} | {_text(c.get('detail'))} |")
    body += [f"| note | ℹ️ | {_text(note)} |" for note in notes[:MAX_ROWS]]
    body += _more(min(len(checks), MAX_ROWS), len(checks), "check")
    body += _more(min(len(notes), MAX_ROWS), len(notes), "note")
    return _details(summary, body)


def _bound(kwargs: Mapping[str, Any], low: str = "min_value", high: str = "max_value") -> str:
    lo, hi = kwargs.get(low), kwargs.get(high)
    if lo is not None and hi is not None:
        return f"between {_short(lo, 20)} and {_short(hi, 20)}"
    if lo is not None:
        return f"≥ {_short(lo, 20)}"
    if hi is not None:
        return f"≤ {_short(hi, 20)}"
    return "within bounds"


def describe_expectation(kind: str, kwargs: Mapping[str, Any]) -> str:
    """A GX expectation in words: 'values between 0 and 120', 'no missing values'."""
    described: dict[str, Callable[[], str]] = {
        "expect_column_values_to_be_between": lambda: f"values {_bound(kwargs)}",
        "expect_column_values_to_not_be_null": lambda: "no missing values",
        "expect_column_values_to_be_null": lambda: "only missing values",
        "expect_column_values_to_be_unique": lambda: "unique values",
        "expect_column_to_exist": lambda: "column exists",
        "expect_column_values_to_be_in_set": lambda: (
            "values in " + _short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_values_to_not_be_in_set": lambda: (
            "values not in " + _short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_distinct_values_to_be_in_set": lambda: (
            "distinct values in " + _short(_set_text(kwargs.get("value_set")), 50)
        ),
        "expect_column_values_to_match_regex": lambda: f"values match {kwargs.get('regex')!s}",
        "expect_column_values_to_be_of_type": lambda: f"type {kwargs.get('type_')!s}",
        "expect_column_values_to_be_in_type_list": lambda: (
            "type in " + _short(_set_text(kwargs.get("type_list")), 50)
        ),
        "expect_column_mean_to_be_between": lambda: f"mean {_bound(kwargs)}",
        "expect_column_median_to_be_between": lambda: f"median {_bound(kwargs)}",
        "expect_column_stdev_to_be_between": lambda: f"standard deviation {_bound(kwargs)}",
        "expect_column_min_to_be_between": lambda: f"minimum {_bound(kwargs)}",
        "expect_column_max_to_be_between": lambda: f"maximum {_bound(kwargs)}",
        "expect_column_unique_value_count_to_be_between": lambda: (
            "distinct values " + _bound(kwargs)
        ),
        "expect_column_proportion_of_unique_values_to_be_between": lambda: (
            f"share of distinct values {_bound(kwargs)}"
        ),
        "expect_table_row_count_to_be_between": lambda: f"row count {_bound(kwargs)}",
        "expect_table_row_count_to_equal": lambda: f"row count = {_short(kwargs.get('value'), 20)}",
        "expect_table_column_count_to_equal": lambda: f"{_short(kwargs.get('value'), 20)} columns",
        "expect_table_columns_to_match_set": lambda: (
            "columns " + _short(_set_text(kwargs.get("column_set")), 50)
        ),
        "expect_table_columns_to_match_ordered_list": lambda: (
            "columns in order " + _short(_set_text(kwargs.get("column_list")), 50)
        ),
        "expect_column_value_lengths_to_be_between": lambda: f"lengths {_bound(kwargs)}",
    }
    make = described.get(kind)
    if make is not None:
        text = make()
    else:
        plain = kind.removeprefix("expect_").replace("_", " ")
        shown = {k: v for k, v in kwargs.items() if k not in {"column", "mostly", "batch_id"}}
        args = ", ".join(f"{k}={_short(v, 20)}" for k, v in shown.items())
        text = f"{plain} ({args})" if args else plain
    mostly = kwargs.get("mostly")
    if _finite(mostly) and _float(mostly) < 1:
        text += f" (≥ {_float(mostly):.0%} of rows)"
    return text


def _set_text(values: Any) -> str:
    if isinstance(values, list | tuple | set):
        return "{" + ", ".join(str(v) for v in values) + "}"
    return _short(values, 50)


def _expectations(expectations: Mapping[str, Any]) -> list[str]:
    results = list(expectations.get("results") or [])
    evaluated = int(expectations.get("evaluated") or len(results))
    failed = int(expectations.get("failed") or sum(1 for r in results if not r.get("success")))
    mark = "✅" if expectations.get("passed") else "❌"
    suite = expectations.get("suite")
    of_suite = f" ({_text(suite)})" if suite else ""
    summary = f"Expectations {mark} {evaluated - failed}/{evaluated} passed{of_suite}"
    results.sort(key=lambda r: bool(r.get("success")))  # failures first, order kept otherwise
    body = ["| data | column | expectation | observed | result |", "|---|---|---|---|:-:|"]
    for r in results[:MAX_ROWS]:
        observed = "" if r.get("observed") is None else _code(_short(r.get("observed")))
        examples = r.get("unexpected_examples") or []
        if not r.get("success") and examples:
            observed += (" — e.g. " if observed else "e.g. ") + ", ".join(
                _code(_short(e, 30)) for e in examples[:5]
            )
        column = _code(r["column"]) if r.get("column") else "—"
        what = _text(describe_expectation(str(r.get("expectation", "")), r.get("kwargs") or {}))
        body.append(
            f"| {_text(r.get('dataset', ''))} | {column} | {what} | {observed} "
            f"| {'✅' if r.get('success') else '❌'} |"
        )
    body += _more(min(len(results), MAX_ROWS), len(results), "expectation")
    return _details(summary, body)


def _drift(drift: Mapping[str, Any]) -> list[str]:
    features = list(drift.get("features") or [])
    drifted = sum(1 for f in features if f.get("drifted"))
    mark = "⚠️" if drifted or not drift.get("passed", True) else "✅"
    reference = drift.get("reference_version")
    against = f"champion v{_text(reference)}'s" if reference else "the reference"
    summary = (
        f"Drift {mark} {drifted} of {_plural(len(features), 'feature')} drifted "
        f"against {against} training data"
    )
    share = drift.get("max_drifted_share")
    body: list[str] = []
    if _finite(share):
        body += [
            f"Drifted share {float(drift.get('drifted_share') or 0):.0%} "
            f"(allowed: at most {_float(share):.0%}).",
            "",
        ]
    body += ["| feature | kind | PSI | test | statistic | p-value | drifted |"]
    body += ["|---|---|---:|---|---:|---:|:-:|"]
    features.sort(key=lambda f: (not f.get("drifted"), -_float(f.get("psi"))))
    for f in features[:MAX_ROWS]:
        test = "χ²" if f.get("test") == "chi2" else _text(f.get("test", ""))
        body.append(
            f"| {_code(f.get('feature'))} | {_text(f.get('kind', ''))} | {_num(f.get('psi'))} "
            f"| {test} | {_num(f.get('statistic'))} | {_num(f.get('p_value'))} "
            f"| {'⚠️' if f.get('drifted') else ''} |"
        )
    body += _more(min(len(features), MAX_ROWS), len(features), "feature")
    return _details(summary, body)


def _rankings(
    evaluation: Mapping[str, Any],
) -> tuple[Mapping[str, Any], list[dict[str, Any]], bool] | None:
    """(challenger's ranking, its features with champion ranks, has a champion ranking)."""
    found = evaluation.get("importance")
    if not isinstance(found, Mapping):
        return None
    challenger = found.get("challenger")
    if not isinstance(challenger, Mapping) or not challenger.get("features"):
        return None
    champion = found.get("champion")
    champion_features = champion.get("features") if isinstance(champion, Mapping) else None
    compared = importance.compare(challenger["features"], champion_features)
    return challenger, compared, champion_features is not None


def _importance_what(ranking: Mapping[str, Any]) -> str:
    metric = str(ranking.get("metric", ""))
    moved = "drop" if _higher_is_better(metric) else "rise"
    return f"{moved} in {_text(metric)} when shuffled"


def _importance_line(evaluation: Mapping[str, Any]) -> str | None:
    """'Top features: `tenure_months` (rose from 4th to 1st) · …' under the verdict."""
    found = _rankings(evaluation)
    if found is None:
        return None
    ranking, compared, _ = found
    parts = []
    for item in compared[:3]:
        change = f" ({_text(item['change'])})" if item.get("change") else ""
        parts.append(f"{_code(item['feature'])}{change}")
    return f"Top features ({_importance_what(ranking)}): " + " · ".join(parts) + "."


def _importance(evaluation: Mapping[str, Any]) -> list[str]:
    found = _rankings(evaluation)
    if found is None:
        return []
    ranking, compared, with_champion = found
    champion = evaluation.get("champion") or {}
    version = f"v{_text(evaluation['challenger']['version'])}"
    summary = (
        f"Feature importance of challenger {version} — {_importance_what(ranking)}, "
        f"{_plural(int(ranking.get('rows') or 0), 'row')} × {int(ranking.get('repeats') or 0)} "
        "shuffles"
    )
    head = "| rank | feature | importance |"
    rule = "|---:|---|---:|"
    if with_champion:
        head += f" champion v{_text(champion.get('version', '?'))} | change |"
        rule += "---:|---|"
    body = [head, rule]
    for item in compared[:MAX_ROWS]:
        row = (
            f"| {int(item['rank'])} | {_code(item['feature'])} "
            f"| {_num(item.get('importance'))} ± {_num(item.get('std'))} |"
        )
        if with_champion:
            old = item.get("champion_rank")
            row += f" {importance.ordinal(int(old)) if old else '—'} | {_text(item['change'])} |"
        body.append(row)
    if len(compared) > MAX_ROWS:
        body += ["", f"_… and {_plural(len(compared) - MAX_ROWS, 'feature')} more._"]
    return _details(summary, body)


def _shown_path(path: Any, root: str | None) -> str:
    text = str(path)
    if root:
        prefix = root.rstrip("/") + "/"
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _training(training: Mapping[str, Any], root: str | None) -> list[str]:
    summary = (
        f"Challenger v{_text(training['version'])}: {_text(training.get('estimator', ''))}, "
        f"{_plural(len(training.get('feature_types') or {}), 'feature')}, trained in "
        f"{float(training.get('fit_seconds') or 0):.1f} s"
    )
    body = []
    for label in ("train", "eval"):
        data = training.get(label) or {}
        if data:
            body.append(
                f"- {label} data: {_code(_shown_path(data.get('path', '?'), root))} — "
                f"{_rows_of(data)}, sha256 `{str(data.get('sha256', ''))[:12]}`"
            )
    return _details(summary, body)


# ---------------------------------------------------------------------------------- links


def _public_base(tracking_uri: str) -> str | None:
    """The tracking server's web address, without credentials; None if not http(s)."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _run_link(base: str, run_id: Any, experiment_id: Any) -> str:
    if experiment_id:
        return f"{base}/#/experiments/{quote(str(experiment_id))}/runs/{quote(str(run_id))}"
    return f"{base}/#/runs/{quote(str(run_id))}"


def _version_link(base: str, name: str, version: Any) -> str:
    return f"{base}/#/models/{quote(name, safe='')}/versions/{quote(str(version))}"


def _model_links(base: str, name: str, role: str, model: Mapping[str, Any], experiment: Any) -> str:
    """'[challenger v14](version page) ([run](run page))' in the MLflow UI."""
    version = model["version"]
    text = f"[{role} v{version}]({_version_link(base, name, version)})"
    if model.get("run_id"):
        text += f" ([run]({_run_link(base, model['run_id'], experiment)}))"
    return text


def _footer(
    evaluation: Mapping[str, Any],
    training: Mapping[str, Any] | None,
    promotion: Mapping[str, Any] | None,
    context: Mapping[str, Any],
) -> str:
    parts = []
    provenance = (training or {}).get("provenance") or {}
    commit = context.get("commit") or provenance.get("git_commit")
    if commit:
        short = f"`{_text(str(commit)[:7])}`"
        repo_url = context.get("repository_url")
        linked = f"[{short}]({repo_url}/commit/{commit})" if repo_url else short
        parts.append(f"commit {linked}")
    run = context.get("run_url") or provenance.get("workflow_run")
    if run:
        parts.append(f"[workflow run]({run})")
    uri = str(evaluation.get("tracking_uri", ""))
    name = str(evaluation["model_name"])
    base = _public_base(uri)
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    if base:
        experiment = (training or {}).get("experiment_id")
        links = [_model_links(base, name, "challenger", challenger, experiment)]
        if champion:
            links.append(_model_links(base, name, "champion", champion, None))
        parts.append("MLflow: " + " · ".join(links))
    elif uri:
        parts.append(f"registry {_code(uri)}")
    parts.append(f"podium {_text(context.get('podium_version', ''))}".strip())
    if context.get("pull_request"):
        parts.append("not promoted from pull requests: merge to main to promote")
    elif promotion is not None and not promotion.get("promoted"):
        parts.append(f"not promoted: {_text(promotion.get('reason'))}")
    return "<sub>" + " · ".join(parts) + "</sub>"


# --------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class _Section:
    name: str  # what a truncation note calls it
    text: str
    optional: bool  # may be left out to fit a size limit


def _sections(
    evaluation: Mapping[str, Any],
    training: Mapping[str, Any] | None,
    validation: Mapping[str, Any] | None,
    promotion: Mapping[str, Any] | None,
    context: Mapping[str, Any],
) -> list[_Section]:
    name = evaluation["model_name"]
    title, verdict = headline(evaluation, promotion)
    top = [marker(name), f"### {title}", "", verdict]
    status = _status_line(validation)
    if status:
        top += ["", status]
    features = _importance_line(evaluation)
    if features:
        top += ["", features]
    if evaluation.get("gates_are_default"):
        top += [
            "",
            "_No gates in podium.yaml: the default gate applies "
            "(the primary metric must not regress)._",
        ]
    champion = evaluation.get("champion")
    if champion and champion.get("error"):
        top += [
            "",
            f"_Champion v{champion['version']} could not be scored: {_text(champion['error'])}_",
        ]
    sections = [
        _Section("verdict", "\n".join(top), optional=False),
        _Section("gates", "\n".join(_metrics_table(evaluation)), optional=False),
    ]
    chart = _chart(evaluation)
    if chart:
        sections.append(_Section("chart", "\n".join(chart), optional=True))
    explained = _importance(evaluation)
    if explained:
        sections.append(_Section("feature importance", "\n".join(explained), optional=True))
    if validation:
        sections += _data_sections(validation, optional=True)
    if training:
        root = context.get("root")
        sections.append(
            _Section("training", "\n".join(_training(training, str(root) if root else None)), True)
        )
    found = evaluation.get("delivery")
    if isinstance(found, Mapping):
        line = f"<sub>{_text(delivery.summary(dict(found)))}.</sub>"
        sections.append(_Section("delivery", line, optional=False))
    sections.append(_Section("footer", _footer(evaluation, training, promotion, context), False))
    return sections


def _data_sections(validation: Mapping[str, Any], *, optional: bool) -> list[_Section]:
    """Data checks, then expectations and drift when validation.json has them."""
    sections = [_Section("data checks", "\n".join(_validation(validation)), optional)]
    expectations = validation.get("expectations")
    if isinstance(expectations, Mapping):
        sections.append(_Section("expectations", "\n".join(_expectations(expectations)), optional))
    drift = validation.get("drift")
    if isinstance(drift, Mapping):
        sections.append(_Section("drift", "\n".join(_drift(drift)), optional))
    return sections


def render_data_failure(
    *,
    model_name: str,
    validation: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> str:
    """The report when the data failed validation, so nothing was trained or compared.

    Same marker as `render`: on a pull request it replaces (or becomes) the one comment.
    """
    context = context or {}
    failed = [c for c in validation.get("checks") or [] if not c.get("passed")]
    why = "; ".join(_text(c.get("detail")) for c in failed[:3]) or "see the checks below"
    top = [
        marker(model_name),
        f"### ❌ podium · {_text(model_name)} — the data did not pass validation",
        "",
        f"**Not trained** — {why}.",
    ]
    status = _status_line(validation)
    if status:
        top += ["", status]
    sections = [
        _Section("verdict", "\n".join(top), optional=False),
        *_data_sections(validation, optional=False),
    ]
    parts = []
    commit = context.get("commit")
    if commit:
        parts.append(f"commit `{_text(str(commit)[:7])}`")
    run = context.get("run_url")
    if run:
        parts.append(f"[workflow run]({run})")
    parts.append(f"podium {_text(context.get('podium_version', ''))}".strip())
    parts.append("fix the data (or the expectation suite) and push again")
    sections.append(_Section("footer", "<sub>" + " · ".join(parts) + "</sub>", False))
    return _join(sections)


def _join(sections: Sequence[_Section]) -> str:
    return "\n\n".join(s.text for s in sections).rstrip() + "\n"


def _truncation_note(dropped: Sequence[str], context: Mapping[str, Any]) -> str:
    run = context.get("run_url")
    where = f"the [job summary]({run})" if run else "the job summary"
    return (
        f"> [!NOTE]\n> Shortened to fit a GitHub comment ({', '.join(dropped)} left out): "
        f"the full report is in {where} and in `.podium/report.md`."
    )


def _cut(text: str, budget: int) -> str:
    """Whole lines of `text` that fit in `budget` (last resort: only required sections left)."""
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        cost = size(line) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept)


def render(
    *,
    evaluation: Mapping[str, Any],
    training: Mapping[str, Any] | None = None,
    validation: Mapping[str, Any] | None = None,
    promotion: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> str:
    """The full markdown report (with its hidden marker on the first line).

    With `limit`, the result is at most `limit` characters (as GitHub counts them):
    optional sections are left out from the end, whole, and a note says so.
    """
    context = context or {}
    sections = _sections(evaluation, training, validation, promotion, context)
    full = _join(sections)
    if limit is None or size(full) <= limit:
        return full
    *body, footer = sections
    dropped: list[str] = []
    while any(s.optional for s in body):
        index = max(i for i, s in enumerate(body) if s.optional)
        dropped.insert(0, body.pop(index).name)
        notice = _Section("note", _truncation_note(dropped, context), False)
        candidate = _join([*body, notice, footer])
        if size(candidate) <= limit:
            return candidate
    # Even the required sections are too long (e.g. thousands of gates): keep whole lines.
    note = _truncation_note([*dropped, "table rows"], context)
    tail = f"\n\n{note}\n\n{footer.text}\n"
    head = _cut(_join(body), limit - size(tail))
    return head + tail
