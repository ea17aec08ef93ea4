"""The comparison report: a pure function from stage results to GitHub-flavoured markdown.

No I/O here: `render` takes the stage results (`podium.results` models) and context, and
returns text, so the report is testable without a server and identical locally and in CI.

The report is a list of sections (headline, gates table, chart, collapsed details,
footer). When a size limit is given (a GitHub comment holds 65,536 characters) whole
sections are dropped from the end, never cut in the middle, and a note says where the
full report is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from podium import delivery, importance
from podium.report.markdown import (
    MAX_ROWS,
    Section,
    as_float,
    chart_label,
    code,
    count,
    cut,
    delta,
    details,
    finite,
    join,
    link,
    more,
    num,
    one_line,
    plural,
    short,
    size,
    text,
    version_label,
)
from podium.report.sections import (
    better,
    data_sections,
    higher_is_better,
    metric_label,
    metric_title,
    rows_of,
    shown_path,
    status_line,
)
from podium.report.serving import serving_sections
from podium.report.slices import slice_sections
from podium.scoring import METRICS

if TYPE_CHECKING:
    from podium.results import (
        Evaluation,
        GateResult,
        ImportanceRanking,
        ModelScore,
        Promotion,
        Training,
        Validation,
    )

MARKER = "<!-- podium-report: {name} -->"
EVALUATION_FILE = ".podium/evaluation.json"

# A commit as podium links it: hex only, so a commit from the results cannot change the link.
_COMMIT = re.compile("[0-9a-f]{7,64}")

# Chart only metrics that share a 0..1 scale, so bars are comparable on one axis.
_UNIT_SCALE = tuple(name for name, m in METRICS.items() if m.zero_to_one)

# Colours of the chart's two series: readable on GitHub's light and dark themes.
_CHAMPION_COLOUR, _CHALLENGER_COLOUR = "#8b949e", "#2f81f7"


def marker(model_name: str) -> str:
    """The hidden marker that identifies podium's comment for one model.

    `model_name` is podium.yaml's (validated: letters, digits, '.', '_', '-'), never a
    name from the results: a result file must not choose which comment podium edits.
    """
    return MARKER.format(name=model_name)


def _interval(check: GateResult | None) -> str | None:
    """'95% CI +0.004 … +0.020' from a check's bootstrap interval, if it has one."""
    interval = check.interval if check is not None else None
    if interval is None:
        return None
    low, high = interval.low, interval.high
    if not (finite(low) and finite(high)):
        return None
    level = as_float(interval.confidence) or 0.95
    return f"{level:.0%} CI {delta(low)} … {delta(high)}"


# ------------------------------------------------------------------------------ headline


def headline(
    evaluation: Evaluation,
    promotion: Promotion | None,
    *,
    model_name: str,
    plain: bool = False,
) -> tuple[str, str]:
    """(title line, one-sentence verdict) for the top of the report; `plain`: for a terminal.

    `model_name` is podium.yaml's: the results do not name the model in the report.
    """
    say = _plain_text if plain else text

    def strong(words: str) -> str:
        return words if plain else f"**{words}**"

    name = say(model_name)
    chal = strong(version_label(evaluation.challenger.version, plain=plain))
    champion = evaluation.champion
    champ = version_label(champion.version, plain=plain) if champion else None
    passed = evaluation.passed is True  # only a real True passes, whatever the file said
    why = _why(evaluation, say)
    if promotion and promotion.promoted is True:
        was = f" (was {champ})" if champ else " (first champion)"
        return (
            f"✅ podium · {name} — challenger {chal} is the new champion{was}",
            f"{strong('Promoted')} — {why}.",
        )
    if champion and _is_champion(evaluation.challenger.version, champion.version):
        # Re-evaluated after its promotion: compared with itself, nothing could replace it.
        return (
            f"ℹ️ podium · {name} — challenger {chal} is already the champion",
            f"{strong('Nothing to promote')} — {version_label(champion.version, plain=plain)} "
            "was compared with itself; train a new challenger (podium train) to compare.",
        )
    if passed:
        if champ:
            title = f"🏆 podium · {name} — challenger {chal} would replace champion {strong(champ)}"
        else:
            title = f"🏆 podium · {name} — challenger {chal} would become the first champion"
        return title, f"{strong('Promotable')} — {why}."
    against = f" champion {strong(champ)}" if champ else " its gates"
    return (
        f"❌ podium · {name} — challenger {chal} does not beat{against}",
        f"{strong('Not promotable')} — {why}.",
    )


def _is_champion(challenger: Any, champion: Any) -> bool:
    """Whether both are the same real model version (digits; anything else is not a version)."""
    return re.fullmatch("[0-9]+", str(challenger)) is not None and str(challenger) == str(champion)


def _plain_text(value: Any) -> str:
    return one_line(value)


def _why(evaluation: Evaluation, say: Callable[[Any], str]) -> str:
    """The verdict's reason in one sentence: the gates' summary plus the headline metric."""
    summary = say(evaluation.summary).rstrip(".") or "no gate was evaluated"
    if evaluation.passed is not True:
        return summary
    checks = evaluation.checks
    if not checks:
        return summary
    first = checks[0]
    metric = first.metric
    chal, champ = first.challenger, first.champion
    if finite(chal) and finite(champ):
        gained = better(metric, chal, champ)
        verb = "improves" if gained else ("is unchanged" if gained is None else "changes")
        by = "" if gained is None else f" by {delta(as_float(chal) - as_float(champ))}"
        ci = _interval(first)
        detail = f"{ci}; " if ci else ""
        return f"{summary}; {say(metric)} {verb}{by} ({detail}{num(champ)} → {num(chal)})"
    if finite(chal):
        return f"{summary}; {say(metric)} {num(chal)}"
    return summary


# ------------------------------------------------------------------------- gates and chart


@dataclass(frozen=True)
class _Row:
    """One metric of the gates table, before it is written as markdown or plain text."""

    name: str
    champion: str
    challenger: str
    delta: str
    gate: str | None  # None: no gate on this metric
    passed: bool | None
    winner: str | None  # "challenger" / "champion": whose value is the better one


def _rows(evaluation: Evaluation, *, plain: bool) -> tuple[str, str, list[_Row]]:
    """(champion header, challenger header, rows): gated metrics first, then the rest."""
    challenger = evaluation.challenger
    champion = evaluation.champion
    chal_metrics = challenger.metrics
    champ_metrics = champion.metrics if champion else {}
    checks: dict[str, GateResult] = {}
    for c in evaluation.checks:  # two gates on one metric share its row
        seen = checks.get(c.metric)
        checks[c.metric] = (
            c
            if seen is None
            else seen.model_copy(
                update={
                    "bound": f"{seen.bound}; {c.bound}",
                    "passed": seen.passed is True and c.passed is True,
                }
            )
        )
    known = [m for m in METRICS if m in chal_metrics and m not in checks]
    extra = [m for m in chal_metrics if m not in METRICS and m not in checks]
    rows = []
    for name in [*checks, *known, *extra]:
        chal_value = chal_metrics.get(name)
        champ_value = champ_metrics.get(name)
        difference = (
            as_float(chal_value) - as_float(champ_value)
            if finite(chal_value) and finite(champ_value)
            else None
        )
        check = checks.get(name)
        ci = _interval(check) if difference is not None else None
        winner = {True: "challenger", False: "champion", None: None}[
            better(name, chal_value, champ_value)
        ]
        rows.append(
            _Row(
                name=name,
                champion=num(champ_value),
                challenger=num(chal_value),
                delta=f"{delta(difference)} ({ci})" if ci else delta(difference),
                gate=check.bound if check else None,
                passed=check.passed is True if check else None,
                winner=winner,
            )
        )
    champ_head = "champion"
    if champion:
        champ_head += " " + version_label(champion.version, plain=plain)
    return champ_head, f"challenger {version_label(challenger.version, plain=plain)}", rows


def metrics_table(evaluation: Evaluation) -> list[str]:
    """The gates table in markdown: the better value in bold, a mark per gated metric.

    At most `MAX_ROWS` rows (failed gates kept first when rows are left out).
    """
    champ_head, chal_head, rows = _rows(evaluation, plain=False)
    total = len(rows)
    if total > MAX_ROWS:
        rows = sorted(rows, key=lambda row: row.passed is not False)[:MAX_ROWS]
    lines = [
        f"| metric | {champ_head} | {chal_head} | Δ | gate | |",
        "|---|---:|---:|---:|---|:-:|",
    ]
    for row in rows:
        chal_text = f"**{row.challenger}**" if row.winner == "challenger" else row.challenger
        champ_text = f"**{row.champion}**" if row.winner == "champion" else row.champion
        gate = text(row.gate) if row.gate is not None else "—"
        mark = "" if row.passed is None else ("✅" if row.passed else "❌")
        lines.append(
            f"| {metric_label(row.name)} | {champ_text} | {chal_text} | {row.delta} "
            f"| {gate} | {mark} |"
        )
    return lines + more(len(rows), total, "metric", EVALUATION_FILE)


def metrics_table_cells(evaluation: Evaluation) -> list[list[str]]:
    """The gates table as plain cells, the header first: metric, champion, challenger,
    Δ, gate, ✓/✗ (a terminal's table, `podium.terminal`)."""
    champ_head, chal_head, rows = _rows(evaluation, plain=True)
    table = [["metric", champ_head, chal_head, "Δ", "gate", ""]]
    for row in rows:
        mark = "" if row.passed is None else ("✓" if row.passed else "✗")
        label = one_line(metric_title(row.name))
        gate = one_line(row.gate) if row.gate is not None else "—"
        table.append([label, row.champion, row.challenger, row.delta, gate, mark])
    return table


def metrics_table_text(evaluation: Evaluation) -> list[str]:
    """The gates table as aligned plain text for a terminal (`podium evaluate`)."""
    table = metrics_table_cells(evaluation)
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    right = {1, 2, 3}  # numbers are right-aligned

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    return [line(table[0]), *(line(cells) for cells in table[1:])]


def _chart(evaluation: Evaluation) -> list[str]:
    """Champion vs challenger as a Mermaid bar chart (GitHub renders it; no image host).

    Mermaid's xychart draws every bar series at the same position, so two series would
    hide each other. Each metric gets two slots instead, one per model, and each series
    sits below the axis (-1: not drawn) in the other's slot; a 0 would still show as a
    sliver. Bars are horizontal so that the labels never overlap, on a 0..1 axis so that
    no difference is exaggerated.
    """
    challenger = evaluation.challenger
    champion = evaluation.champion
    chal_metrics = challenger.metrics
    champ_metrics = champion.metrics if champion else {}

    def charted(value: Any) -> bool:
        return finite(value) and 0.0 <= float(value) <= 1.0

    names = [
        m
        for m in _UNIT_SCALE
        if charted(chal_metrics.get(m)) and (not champion or charted(champ_metrics.get(m)))
    ]
    if not names:
        return []
    chal = version_label(challenger.version, plain=True)
    palette = f"{_CHAMPION_COLOUR}, {_CHALLENGER_COLOUR}" if champion else _CHALLENGER_COLOUR
    init = {"themeVariables": {"xyChart": {"plotColorPalette": palette}}}
    lines = ["```mermaid", f"%%{{init: {json.dumps(init)}}}%%", "xychart-beta horizontal"]

    def bar(values: list[float]) -> str:
        return "    bar [" + ", ".join("-1" if v < 0 else f"{v:.4f}" for v in values) + "]"

    if champion:
        champ = version_label(champion.version, plain=True)
        labels = [label for m in names for label in (f"{m} {champ}", f"{m} {chal}")]
        lines += [
            f"    title {chart_label(f'champion {champ} (grey) vs challenger {chal} (blue)')}",
            f"    x-axis [{', '.join(chart_label(label) for label in labels)}]",
            '    y-axis "score" 0 --> 1',
            bar([v for m in names for v in (as_float(champ_metrics[m]), -1.0)]),
            bar([v for m in names for v in (-1.0, as_float(chal_metrics[m]))]),
        ]
    else:
        lines += [
            f"    title {chart_label(f'challenger {chal} (no champion yet)')}",
            f"    x-axis [{', '.join(chart_label(m) for m in names)}]",
            '    y-axis "score" 0 --> 1',
            bar([as_float(chal_metrics[m]) for m in names]),
        ]
    lines.append("```")
    return lines


def _rankings(
    evaluation: Evaluation,
) -> tuple[ImportanceRanking, list[dict[str, Any]], bool] | None:
    """(challenger's ranking, its features with champion ranks, has a champion ranking)."""
    from podium.results import ImportanceRanking

    found = evaluation.importance
    if found is None:
        return None
    challenger = found.challenger
    if not isinstance(challenger, ImportanceRanking) or not challenger.features:
        return None
    champion = found.champion
    champion_features = (
        [f.model_dump() for f in champion.features]
        if isinstance(champion, ImportanceRanking)
        else None
    )
    compared = importance.compare([f.model_dump() for f in challenger.features], champion_features)
    return challenger, compared, champion_features is not None


def _importance_what(ranking: ImportanceRanking) -> str:
    metric = ranking.metric
    moved = "drop" if higher_is_better(metric) else "rise"
    return f"{moved} in {text(metric)} when shuffled"


def _importance_line(evaluation: Evaluation) -> str | None:
    """'Top features: `tenure_months` (rose from 4th to 1st) · …' under the verdict."""
    found = _rankings(evaluation)
    if found is None:
        return None
    ranking, compared, _ = found
    parts = []
    for item in compared[:3]:
        change = f" ({text(item['change'])})" if item.get("change") else ""
        parts.append(f"{code(item['feature'])}{change}")
    return f"Top features ({_importance_what(ranking)}): " + " · ".join(parts) + "."


def _importance(evaluation: Evaluation) -> list[str]:
    found = _rankings(evaluation)
    if found is None:
        return []
    ranking, compared, with_champion = found
    champion = evaluation.champion
    version = version_label(evaluation.challenger.version)
    summary = (
        f"Feature importance of challenger {version} — {_importance_what(ranking)}, "
        f"{plural(ranking.rows, 'row')} × {ranking.repeats} shuffles"
    )
    head = "| rank | feature | importance |"
    rule = "|---:|---|---:|"
    if with_champion:
        head += f" champion {version_label(champion.version if champion else '?')} | change |"
        rule += "---:|---|"
    body = [head, rule]
    for item in compared[:MAX_ROWS]:
        row = (
            f"| {count(item.get('rank'))} | {code(item['feature'])} "
            f"| {num(item.get('importance'))} ± {num(item.get('std'))} |"
        )
        if with_champion:
            old = item.get("champion_rank")
            row += f" {importance.ordinal(count(old)) if old else '—'} | {text(item['change'])} |"
        body.append(row)
    if len(compared) > MAX_ROWS:
        body += ["", f"_… and {plural(len(compared) - MAX_ROWS, 'feature')} more._"]
    return details(summary, body)


def _training(training: Training, root: str | None) -> list[str]:
    if training.not_retrained:  # the same data, config and commit as an earlier version
        summary = f"Challenger {version_label(training.version)}: {text(training.not_retrained)}"
    else:
        summary = (
            f"Challenger {version_label(training.version)}: {text(training.estimator)}, "
            f"{plural(len(training.feature_types), 'feature')}, trained in "
            f"{as_float(training.fit_seconds):.1f} s"
        )
    body = [
        f"- {label} data: {code(shown_path(data.path, root))} — "
        f"{rows_of(data)}, sha256 {code(data.sha256[:12])}"
        for label, data in (("train", training.train), ("eval", training.eval))
    ]
    if training.train_sample is not None:  # engine: spark
        body.append(f"- fitted on a seeded sample of {training.train_sample:,} training rows")
    return details(summary, body)


# ---------------------------------------------------------------------------------- links


def _public_base(tracking_uri: str) -> str | None:
    """The tracking server's web address, without credentials; None if not http(s)."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _without_credentials(uri: str) -> str:
    """A non-web registry URI as it may be shown (e.g. `postgresql://host/db`, no password)."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        return uri.rsplit("@", 1)[-1]
    if not (parts.username or parts.password):
        return uri
    netloc = (host or "") + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _run_link(base: str, run_id: Any, experiment_id: Any) -> str:
    run = quote(one_line(run_id, 100), safe="")
    if experiment_id:
        return f"{base}/#/experiments/{quote(one_line(experiment_id, 100), safe='')}/runs/{run}"
    return f"{base}/#/runs/{run}"


def _version_link(base: str, name: str, version: Any) -> str:
    return (
        f"{base}/#/models/{quote(name, safe='')}/versions/{quote(one_line(version, 40), safe='')}"
    )


def _model_links(base: str, name: str, role: str, model: ModelScore, experiment: Any) -> str:
    """'[challenger v14](version page) ([run](run page))' in the MLflow UI.

    `base` and `name` are podium.yaml's; the version and run id from the results are only
    path segments (percent-encoded) under that server.
    """
    version = model.version
    shown = link(f"{role} {version_label(version)}", _version_link(base, name, version))
    if model.run_id:
        shown += f" ({link('run', _run_link(base, model.run_id, experiment))})"
    return shown


def _commit_link(context: Mapping[str, Any], commit: Any) -> str | None:
    """'commit [`a1b2c3d`](…/commit/a1b2c3d…)' under this repository; None for a non-commit."""
    if not (isinstance(commit, str) and _COMMIT.fullmatch(commit)):
        return None
    shown = code(commit[:7])
    repo_url = context.get("repository_url")
    return "commit " + (link(shown, f"{repo_url}/commit/{commit}") if repo_url else shown)


def _footer(
    evaluation: Evaluation,
    training: Training | None,
    promotion: Promotion | None,
    context: Mapping[str, Any],
    *,
    model_name: str,
    tracking_uri: str,
) -> str:
    parts = []
    provenance = training.provenance if training else {}
    commit = _commit_link(context, context.get("commit") or provenance.get("git_commit"))
    if commit:
        if provenance.get("dirty") == "true":  # trained from changes the commit lacks
            commit += f" + uncommitted changes ({text(short(provenance.get('dirty_files')))})"
        parts.append(commit)
    # Only the context's run: a workflow-run URL in the results would be a link they chose.
    run = context.get("run_url")
    if run:
        parts.append(link("workflow run", run))
    base = _public_base(tracking_uri)
    challenger = evaluation.challenger
    champion = evaluation.champion
    if base:
        experiment = training.experiment_id if training else None
        links = [_model_links(base, model_name, "challenger", challenger, experiment)]
        if champion:
            links.append(_model_links(base, model_name, "champion", champion, None))
        parts.append("MLflow: " + " · ".join(links))
    elif tracking_uri:
        parts.append(f"registry {code(_without_credentials(tracking_uri))}")
    parts.append(f"podium {text(context.get('podium_version', ''))}".strip())
    written = " (model_card.md on its run)" if promotion is not None and promotion.promoted else ""
    card = f"podium card --version {challenger.version}"  # a decimal number (results.py)
    parts.append(f"model card: {code(card)}{written}")
    if context.get("pull_request"):
        parts.append("not promoted from pull requests: merge to main to promote")
    elif promotion is not None and promotion.promoted is not True:
        parts.append(f"not promoted: {text(promotion.reason)}")
    return "<sub>" + " · ".join(parts) + "</sub>"


def unverified_note(fork: Any) -> list[str]:
    """The warning on results a fork's own workflow run computed (and could have forged)."""
    return [
        "> [!WARNING]",
        f"> **Unverified results** — computed by the fork's own workflow run ({code(fork)}), "
        "not by this repository: podium only shows what that run uploaded, and podium's "
        "commit status is never a success from them. The gates are checked for real once "
        "the change is merged and trained on the default branch.",
    ]


# --------------------------------------------------------------------------------- render


def _not_computable(evaluation: Evaluation) -> list[str]:
    """'_roc_auc, log_loss not computable for challenger v3: <why and fix>_' per model."""
    lines: list[str] = []
    for role, model in (("challenger", evaluation.challenger), ("champion", evaluation.champion)):
        if model is None or not model.unavailable:
            continue
        by_reason: dict[str, list[str]] = {}
        for metric, reason in model.unavailable.items():
            by_reason.setdefault(reason, []).append(metric)
        for reason, metrics in by_reason.items():
            names = ", ".join(code(m) for m in metrics)
            lines += [
                "",
                f"_{names} not computable for the {role} {version_label(model.version)}: "
                f"{text(reason)}_",
            ]
    return lines


def _sections(
    evaluation: Evaluation,
    training: Training | None,
    validation: Validation | None,
    promotion: Promotion | None,
    context: Mapping[str, Any],
    *,
    model_name: str,
    tracking_uri: str,
) -> list[Section]:
    title, verdict = headline(evaluation, promotion, model_name=model_name)
    top = [marker(model_name), f"### {title}", ""]
    if context.get("fork"):
        top += [*unverified_note(context["fork"]), ""]
    top.append(verdict)
    if training and training.not_retrained and training.version == evaluation.challenger.version:
        top += [
            "",
            f"♻️ **No change** — challenger {version_label(training.version)} is {text(training.not_retrained)}.",
        ]
    if evaluation.paused:  # a rollback holds: say so, and what lifts it
        top += ["", f"⏸️ **Paused** — {text(evaluation.paused)}."]
    status = status_line(validation)
    if status:
        top += ["", status]
    features = _importance_line(evaluation)
    if features:
        top += ["", features]
    if evaluation.gates_are_default:
        top += [
            "",
            "_No gates in podium.yaml: the default gate applies "
            "(the primary metric must not regress)._",
        ]
    champion = evaluation.champion
    if champion and champion.error:
        top += [
            "",
            f"_Champion {version_label(champion.version)} could not be scored: "
            f"{text(champion.error)}_",
        ]
    top += _not_computable(evaluation)
    gates = metrics_table(evaluation)
    if evaluation.positive_class:  # a script's P(bad) read as P(good) would invert roc_auc
        gates += [
            "",
            f"<sub>Scores are for the positive class {text(evaluation.positive_class)}.</sub>",
        ]
    sections = [
        Section("verdict", "\n".join(top), optional=False),
        Section("gates", "\n".join(gates), optional=False),
        *slice_sections(evaluation),
        *serving_sections(evaluation),
    ]
    chart = _chart(evaluation)
    if chart:
        sections.append(Section("chart", "\n".join(chart), optional=True))
    if evaluation.computed is not None:  # engine: spark — what is exact, what sampled
        from podium.report.engine import computed_note

        sections.append(Section("computed", "\n".join(computed_note(evaluation.computed)), True))
    explained = _importance(evaluation)
    if explained:
        sections.append(Section("feature importance", "\n".join(explained), optional=True))
    root = str(context["root"]) if context.get("root") else None
    if validation:
        sections += data_sections(validation, optional=True, root=root)
    if training:
        sections.append(Section("training", "\n".join(_training(training, root)), True))
    found = evaluation.delivery
    if found is not None:
        line = f"<sub>{text(delivery.summary(found))}.</sub>"
        sections.append(Section("delivery", line, optional=False))
    footer = _footer(
        evaluation,
        training,
        promotion,
        context,
        model_name=model_name,
        tracking_uri=tracking_uri,
    )
    sections.append(Section("footer", footer, False))
    return sections


def render_data_failure(
    *,
    model_name: str,
    validation: Validation,
    context: Mapping[str, Any] | None = None,
) -> str:
    """The report when the data failed validation, so nothing was trained or compared.

    Same marker as `render`: on a pull request it replaces (or becomes) the one comment.
    """
    context = context or {}
    root = str(context["root"]) if context.get("root") else None
    failed = [c for c in validation.checks if c.passed is not True]
    why = "; ".join(text(c.detail) for c in failed[:3]) or "see the checks below"
    top = [
        marker(model_name),
        f"### ❌ podium · {text(model_name)} — the data did not pass validation",
        "",
    ]
    if context.get("fork"):
        top += [*unverified_note(context["fork"]), ""]
    top.append(f"**Not trained** — {why}.")
    status = status_line(validation)
    if status:
        top += ["", status]
    sections = [
        Section("verdict", "\n".join(top), optional=False),
        *data_sections(validation, optional=False, root=root),
    ]
    parts = []
    commit = context.get("commit")
    if isinstance(commit, str) and _COMMIT.fullmatch(commit):
        parts.append(f"commit {code(commit[:7])}")
    run = context.get("run_url")
    if run:
        parts.append(link("workflow run", run))
    parts.append(f"podium {text(context.get('podium_version', ''))}".strip())
    parts.append("fix the data (or the expectation suite) and push again")
    sections.append(Section("footer", "<sub>" + " · ".join(parts) + "</sub>", False))
    return join(sections)


def _truncation_note(dropped: Sequence[str], context: Mapping[str, Any]) -> str:
    run = context.get("run_url")
    where = f"the {link('job summary', run)}" if run else "the job summary"
    return (
        f"> [!NOTE]\n> Shortened to fit a GitHub comment ({', '.join(dropped)} left out): "
        f"the full report is in {where} and in `.podium/report.md`."
    )


def render(
    *,
    model_name: str,
    tracking_uri: str,
    evaluation: Evaluation,
    training: Training | None = None,
    validation: Validation | None = None,
    promotion: Promotion | None = None,
    context: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> str:
    """The full markdown report (with its hidden marker on the first line).

    `model_name` and `tracking_uri` are podium.yaml's: the marker, the title and the
    MLflow links name this repository's things, whatever the results say. With
    `context["fork"]` (the fork's `owner/name`) the report says its results are
    unverified. With `limit`, the result is at most `limit` characters (as GitHub counts
    them): optional sections are left out from the end, whole, and a note says so.
    """
    context = context or {}
    sections = _sections(
        evaluation,
        training,
        validation,
        promotion,
        context,
        model_name=model_name,
        tracking_uri=tracking_uri,
    )
    full = join(sections)
    if limit is None or size(full) <= limit:
        return full
    *body, footer = sections
    dropped: list[str] = []
    while any(s.optional for s in body):
        index = max(i for i, s in enumerate(body) if s.optional)
        dropped.insert(0, body.pop(index).name)
        notice = Section("note", _truncation_note(dropped, context), False)
        candidate = join([*body, notice, footer])
        if size(candidate) <= limit:
            return candidate
    # Even the required sections are too long (e.g. thousands of gates): keep whole lines.
    note = _truncation_note([*dropped, "table rows"], context)
    tail = f"\n\n{note}\n\n{footer.text}\n"
    head = cut(join(body), limit - size(tail))
    return head + tail
