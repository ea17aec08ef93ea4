"""The comparison report: a pure function from stage results to GitHub-flavoured markdown.

No I/O here: `render` takes the `.podium/*.json` payloads (as dicts) and context, and
returns text, so the report is testable without a server and identical locally and in CI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from podium.metrics import METRICS

MARKER = "<!-- podium-report: {name} -->"

# Chart only metrics that share a 0..1 scale, so bars are comparable in one axis.
_UNIT_SCALE = ("roc_auc", "accuracy", "f1", "precision", "recall", "r2")


def marker(model_name: str) -> str:
    """The hidden marker that identifies podium's comment for one model."""
    return MARKER.format(name=model_name)


def _num(value: Any) -> str:
    """Three decimals for scores, two for larger numbers, scientific for tiny ones."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "—"
    number = float(value)
    size = abs(number)
    if size >= 1000:
        return f"{number:,.0f}"
    if size >= 10:
        return f"{number:.1f}"
    if size >= 1:
        return f"{number:.2f}"
    if size != 0 and size < 0.001:
        return f"{number:.1e}"
    return f"{number:.3f}"


def _delta(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = float(value)
    if number == 0:
        return "±0"
    text = _num(abs(number))
    return ("+" if number > 0 else "−") + text


def _metric_label(name: str) -> str:
    if name == "latency_ms":
        return "latency (ms / 1k rows)"
    if name == "model_size_mb":
        return "model size (MB)"
    return name


def _better(name: str, challenger: Any, champion: Any) -> bool | None:
    if challenger is None or champion is None:
        return None
    if challenger == champion:
        return None
    higher = METRICS[name].higher_is_better if name in METRICS else True
    return bool(challenger > champion) if higher else bool(challenger < champion)


def headline(evaluation: Mapping[str, Any], promotion: Mapping[str, Any] | None) -> tuple[str, str]:
    """(title line, one-sentence verdict) for the top of the report."""
    name = evaluation["model_name"]
    chal = f"v{evaluation['challenger']['version']}"
    champion = evaluation.get("champion")
    champ = f"v{champion['version']}" if champion else None
    passed = bool(evaluation.get("passed"))
    summary = str(evaluation.get("summary", ""))
    if promotion and promotion.get("promoted"):
        was = f" (was {champ})" if champ else " (first champion)"
        return (
            f"✅ podium · {name} — challenger **{chal}** is the new champion{was}",
            f"**Promoted** — {summary}.",
        )
    if passed:
        if champ:
            title = f"🏆 podium · {name} — challenger **{chal}** would replace champion **{champ}**"
        else:
            title = f"🏆 podium · {name} — challenger **{chal}** would become the first champion"
        return title, f"**Promotable** — {summary}."
    against = f" champion **{champ}**" if champ else " its gates"
    return (
        f"❌ podium · {name} — challenger **{chal}** does not beat{against}",
        f"**Not promotable** — {summary}.",
    )


def _metrics_table(evaluation: Mapping[str, Any]) -> list[str]:
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    chal_metrics: dict[str, Any] = challenger.get("metrics") or {}
    champ_metrics: dict[str, Any] = (champion or {}).get("metrics") or {}
    checks = {c["metric"]: c for c in evaluation.get("checks", [])}
    order = list(checks) + [m for m in METRICS if m in chal_metrics and m not in checks]
    champ_head = f"champion v{champion['version']}" if champion else "champion"
    head = f"| metric | {champ_head} | challenger v{challenger['version']} | Δ | gate | |"
    lines = [head, "|---|---:|---:|---:|---|:-:|"]
    for name in order:
        chal_value = chal_metrics.get(name)
        champ_value = champ_metrics.get(name)
        delta = (
            chal_value - champ_value
            if chal_value is not None and champ_value is not None
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
        gate = check["bound"] if check else "—"
        mark = ("✅" if check["passed"] else "❌") if check else ""
        lines.append(
            f"| {_metric_label(name)} | {champ_text} | {chal_text} | {_delta(delta)} | {gate} | {mark} |"
        )
    return lines


def _chart(evaluation: Mapping[str, Any]) -> list[str]:
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    chal_metrics: dict[str, Any] = challenger.get("metrics") or {}
    champ_metrics: dict[str, Any] = (champion or {}).get("metrics") or {}
    names = [
        m
        for m in _UNIT_SCALE
        if chal_metrics.get(m) is not None and (not champion or champ_metrics.get(m) is not None)
    ]
    if not names:
        return []
    values = [chal_metrics[m] for m in names] + [champ_metrics[m] for m in names if champion]
    low = max(0.0, math.floor(min(values) * 10) / 10 - 0.1)
    chal = f"v{challenger['version']}"
    title = f"champion v{champion['version']} (left) vs challenger {chal} (right)" if champion else f"challenger {chal}"
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f"    x-axis [{', '.join(names)}]",
        f"    y-axis {low:.1f} --> 1",
    ]
    if champion:
        lines.append(f"    bar [{', '.join(f'{champ_metrics[m]:.4f}' for m in names)}]")
    lines.append(f"    bar [{', '.join(f'{chal_metrics[m]:.4f}' for m in names)}]")
    lines.append("```")
    return lines


def _validation(validation: Mapping[str, Any]) -> list[str]:
    checks = validation.get("checks", [])
    passed = sum(1 for c in checks if c.get("passed"))
    mark = "✅" if validation.get("passed") else "❌"
    train = validation.get("train", {})
    evald = validation.get("eval", {})
    summary = (
        f"Data checks {mark} {passed}/{len(checks)} passed on train "
        f"({train.get('rows', 0):,} rows) and eval ({evald.get('rows', 0):,} rows)"
    )
    lines = [f"<details><summary>{summary}</summary>", "", "| check | result | detail |", "|---|:-:|---|"]
    lines += [f"| {c['name']} | {'✅' if c['passed'] else '❌'} | {c['detail']} |" for c in checks]
    lines += [f"| note | ℹ️ | {note} |" for note in validation.get("notes", [])]
    lines += ["", "</details>"]
    return lines


def _link(tracking_uri: str, name: str, version: str) -> str | None:
    if not tracking_uri.startswith(("http://", "https://")):
        return None
    return f"{tracking_uri.rstrip('/')}/#/models/{name}/versions/{version}"


def render(
    *,
    evaluation: Mapping[str, Any],
    training: Mapping[str, Any] | None = None,
    validation: Mapping[str, Any] | None = None,
    promotion: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> str:
    """The full markdown report (with its hidden marker on the first line)."""
    context = context or {}
    name = evaluation["model_name"]
    title, verdict = headline(evaluation, promotion)
    lines = [marker(name), f"### {title}", "", verdict]
    if evaluation.get("gates_are_default"):
        lines.append(
            "_No gates in podium.yaml: the default gate applies (the primary metric must not regress)._"
        )
    champion = evaluation.get("champion")
    if champion and champion.get("error"):
        lines.append(f"_Champion v{champion['version']} could not be scored: {champion['error']}_")
    lines += ["", *_metrics_table(evaluation), ""]
    chart = _chart(evaluation)
    if chart:
        lines += [*chart, ""]
    if validation:
        lines += [*_validation(validation), ""]
    if training:
        lines += [
            f"<details><summary>Challenger v{training['version']}: {training['estimator']}, "
            f"{len(training.get('feature_types', {}))} features, trained in "
            f"{float(training.get('fit_seconds', 0)):.1f} s</summary>",
            "",
            f"- train data: `{training['train']['path']}` — {training['train']['rows']:,} rows, "
            f"sha256 `{str(training['train']['sha256'])[:12]}`",
            f"- eval data: `{training['eval']['path']}` — {training['eval']['rows']:,} rows, "
            f"sha256 `{str(training['eval']['sha256'])[:12]}`",
            "",
            "</details>",
            "",
        ]
    lines.append(_footer(evaluation, training, promotion, context))
    return "\n".join(lines).rstrip() + "\n"


def _footer(
    evaluation: Mapping[str, Any],
    training: Mapping[str, Any] | None,
    promotion: Mapping[str, Any] | None,
    context: Mapping[str, Any],
) -> str:
    parts = []
    commit = context.get("commit") or ((training or {}).get("provenance") or {}).get("git_commit")
    if commit:
        parts.append(f"commit `{str(commit)[:7]}`")
    run = context.get("run_url") or ((training or {}).get("provenance") or {}).get("workflow_run")
    if run:
        parts.append(f"[workflow run]({run})")
    uri = str(evaluation.get("tracking_uri", ""))
    name = evaluation["model_name"]
    links = []
    chal_link = _link(uri, name, str(evaluation["challenger"]["version"]))
    if chal_link:
        links.append(f"[challenger]({chal_link})")
    champion = evaluation.get("champion")
    if champion:
        champ_link = _link(uri, name, str(champion["version"]))
        if champ_link:
            links.append(f"[champion]({champ_link})")
    if links:
        parts.append("MLflow " + " · ".join(links))
    else:
        parts.append(f"registry `{uri}`")
    parts.append(f"podium {context.get('podium_version', '')}".strip())
    if context.get("pull_request"):
        parts.append("not promoted from pull requests: merge to main to promote")
    elif promotion is not None and not promotion.get("promoted"):
        parts.append(f"not promoted: {promotion.get('reason')}")
    return "<sub>" + " · ".join(parts) + "</sub>"
