"""The escaping discipline: every value from the results, however hostile, reaches the
markdown as inert text — checked on the helpers and through whole rendered reports parsed
as GitHub-flavoured markdown (markdown-it with tables and raw HTML, as GitHub parses it).

The comment workflow renders results a fork uploaded, so each string of the corpus below
is placed in every field of the results at once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from podium import report
from podium.report import monitoring
from podium.report.markdown import (
    MAX_ROWS,
    chart_label,
    code,
    count,
    is_true,
    link,
    num,
    one_line,
    text,
    version_label,
)
from tests.report.test_comparison import (
    CONTEXT,
    evaluation,
    failed_validation,
    training,
    validation,
)
from tests.unchecked import MODELS, unchecked, unchecked_inputs

CORPUS = [
    "<img src=x onerror=alert(1)>",
    "``<img src=x onerror=alert(1)>``",
    "`` ` ``",
    "```",
    "-->",
    "<!-- podium-report: other -->",
    "]( javascript:alert(1))",
    "[x](https://evil.example)",
    "![x](https://evil.example/pixel.png)",
    "<https://evil.example>",
    "see https://evil.example or www.evil.example",
    "@octocat",
    "@org/team and cc @octocat",
    "mail me: someone@evil.example",
    "fixes #123",
    "```\n</details>\n<script>alert(1)</script>",
    "\n::warning::x",
    "x\n::stop-commands::token\n::set-output name=a::b",
    "|",
    "\\|",
    "a | b || c \\\\| d",
    '"quoted" and \\"escaped\\"',
    "%%{init: {}}%%",
    "#quot; #35; &quot; &#64;octocat &lt;img&gt;",
    "\u202eevil\u202c and \u2066isolated\u2069",
    "\x1b[31mred\x1b[0m\x00",
    "</sub></details><details open><summary>fake",
    "<details><summary>ok</summary>\n\n[x](https://evil.example)\n\n</details>",
    "x" * 20_000,
]

MODEL = "churn-classifier"
TRACKING = "https://mlflow.example.com/"
# The only targets a link may have: this repository (context) and the configured MLflow.
ALLOWED_TARGETS = ("https://github.com/acme/churn/", "https://mlflow.example.com/")
# podium's own HTML: the marker, collapsed blocks, the footer's small print.
ALLOWED_TAGS = {"<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>"}


def _hostile(value: str) -> dict[str, Any]:
    """Results (evaluation, training, validation, promotion) with `value` in every string."""
    evaluated = evaluation(model_name=value, tracking_uri=value, summary=value)
    evaluated["passed"] = float("nan")  # never a pass
    challenger, champion = evaluated["challenger"], evaluated["champion"]
    challenger.update(version=value, run_id=value)
    champion.update(version=value, run_id=value, error=value)
    challenger["metrics"][value] = 0.5
    champion["metrics"][value] = 0.4
    for check in evaluated["checks"]:
        check.update(bound=value)
    evaluated["checks"].append({**evaluated["checks"][0], "metric": value, "passed": False})
    features = [
        {"feature": value, "importance": 0.1, "std": 0.01, "rank": 1},
        {"feature": "plan", "importance": 0.05, "std": 0.01, "rank": 2},
    ]
    ranking = {"metric": value, "rows": 100, "repeats": 2, "features": features}
    evaluated["importance"] = {"challenger": ranking, "champion": copy.deepcopy(ranking)}
    trained = training()
    trained.update(model_name=value, version=value, estimator=value, experiment_id=value)
    trained["train"].update(path=value, sha256=value)
    trained["provenance"] = {"git_commit": value, "workflow_run": value}
    checked = validation()
    checked["checks"].append({"name": value, "passed": False, "detail": value})
    checked["notes"].append(value)
    expectations = checked["expectations"]
    expectations["suite"] = value
    expectations["results"].append(
        {
            "dataset": value,
            "expectation": value,
            "column": value,
            "kwargs": {"column": value, "value_set": [value], "min_value": value},
            "success": False,
            "observed": value,
            "unexpected_examples": [value, value],
        }
    )
    expectations["results"].append(
        {
            **expectations["results"][1],
            "kwargs": {"column": value, "value_set": [value, "x"], "mostly": 0.9},
            "success": False,
            "unexpected_examples": [value],
        }
    )
    checked["drift"]["reference_version"] = value
    checked["drift"]["features"].append(
        {**checked["drift"]["features"][0], "feature": value, "kind": value, "test": value}
    )
    promotion = {"promoted": False, "reason": value, "champion_version": value}
    return {
        "evaluation": evaluated,
        "training": trained,
        "validation": checked,
        "promotion": promotion,
    }


def _render_unchecked(**inputs: Any) -> str:
    """`report.render` of results dicts taken as they are, unchecked by the schema."""
    return report.render(**unchecked_inputs(inputs))


def _render(value: str, **context: Any) -> str:
    return _render_unchecked(
        model_name=MODEL,
        tracking_uri=TRACKING,
        **_hostile(value),
        context={**CONTEXT, "pull_request": None, **context},
    )


def _tokens(markdown: str) -> list[Token]:
    return list(MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown))


def _walk(tokens: list[Token]) -> Iterator[tuple[Token, bool]]:
    """Every token, inline children included, with whether it sits inside a link."""
    for token in tokens:
        yield token, False
        depth = 0
        for child in token.children or []:
            if child.type == "link_close":
                depth -= 1
            yield child, depth > 0
            if child.type == "link_open":
                depth += 1


def assert_inert(markdown: str, *, marker: str, targets: tuple[str, ...] = ALLOWED_TARGETS) -> None:
    """Nothing in `markdown` is markup, a link, a mention or HTML that podium did not write;
    every link goes to one of `targets` (what podium builds from config and context)."""
    # Exactly one marker, podium's, on the first line; no other HTML comment anywhere.
    assert markdown.count("<!--") == 1, markdown[:300]
    assert markdown.startswith(marker + "\n")
    assert not re.search("[\u202a-\u202e\u2066-\u2069\x00-\x08\x1b]", markdown)
    assert not any(line.lstrip().startswith("::") for line in markdown.splitlines())
    tokens = _tokens(markdown)
    for token, in_link in _walk(tokens):
        if token.type in {"html_block", "html_inline"}:
            content = token.content.replace(marker, "")
            tags = re.findall(r"<[^>]*>", content)
            assert set(tags) <= ALLOWED_TAGS, tags
            assert re.sub(r"<[^>]*>", "", content).strip() == "" or token.type == "html_block"
        elif token.type == "link_open":
            href = str(token.attrs["href"])
            assert href.startswith(targets), href
        elif token.type == "image":
            raise AssertionError(f"an image: {token.attrs}")
        elif token.type == "text" and not in_link:
            # GitHub would make these live: mentions, #references, bare URLs, e-mails.
            assert not re.search(r"(?<![\w\u200b])@\w", token.content), token.content
            assert not re.search(r"(?<![\w&\u200b])#\d", token.content), token.content
            assert not re.search(r"(?i)(https?|ftp)://|www\.", token.content), token.content
        elif token.type == "fence":
            assert token.info == "mermaid"
            _assert_chart(token.content)
    # Every table row has its header's cells (GFM would drop extra ones silently).
    rows: list[int] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(len(re.findall(r"(?<!\\)\|", line)))
        else:
            assert len(set(rows)) <= 1, (rows, line)
            rows = []
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<img" not in html and "<script" not in html
    assert html.count("<details>") == html.count("</details>")
    assert html.count("<summary>") == html.count("</summary>")


_CHART_LINE = re.compile(
    r'%%\{init: .*\}%%|xychart-beta horizontal|    title "[^"\n]*"'
    r'|    x-axis \[("[^"\n]*"(, )?)+\]|    y-axis "score" 0 --> 1|    bar \[[-0-9., ]+\]'
)


def _assert_chart(chart: str) -> None:
    for line in chart.splitlines():
        assert _CHART_LINE.fullmatch(line), line


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: repr(v[:30]))
def test_a_hostile_value_in_every_field_stays_text(value: str) -> None:
    rendered = _render(value)
    assert_inert(rendered, marker=report.marker(MODEL))
    # Without a commit and run in the context, the results' provenance is all there is.
    assert_inert(_render(value, commit=None, run_url=None), marker=report.marker(MODEL))
    # The model name and the MLflow links are podium.yaml's, not the results'.
    assert "### ❌ podium · churn-classifier — challenger" in rendered
    assert "https://mlflow.example.com/#/models/churn-classifier/versions/" in rendered
    cut = _render_unchecked(
        model_name=MODEL,
        tracking_uri=TRACKING,
        **_hostile(value),
        context=CONTEXT,
        limit=report.GITHUB_COMMENT_LIMIT,
    )
    assert report.size(cut) <= report.GITHUB_COMMENT_LIMIT
    assert_inert(cut, marker=report.marker(MODEL))


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: repr(v[:30]))
def test_a_hostile_value_in_a_forks_report_stays_text_under_the_warning(value: str) -> None:
    rendered = _render(value, fork=value)
    assert_inert(rendered, marker=report.marker(MODEL))
    assert "> **Unverified results** — computed by the fork's own workflow run" in rendered


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: repr(v[:30]))
def test_a_hostile_value_in_a_data_failure_report_stays_text(value: str) -> None:
    checked = failed_validation()
    hostile = _hostile(value)["validation"]
    checked["checks"] += hostile["checks"]
    checked["notes"] += hostile["notes"]
    checked["expectations"] = hostile["expectations"]
    checked["drift"] = hostile["drift"]
    rendered = report.render_data_failure(
        model_name=MODEL,
        validation=unchecked(MODELS["validation"], checked),
        context={**CONTEXT, "commit": value, "fork": value},
    )
    assert_inert(rendered, marker=report.marker(MODEL))


@pytest.mark.parametrize("value", CORPUS, ids=lambda v: repr(v[:30]))
def test_a_hostile_value_in_the_monitoring_report_stays_text(value: str) -> None:
    drift = _hostile(value)["validation"]["drift"]
    result = {
        "model_name": MODEL,
        "champion_version": value,
        "passed": False,
        "alerts": [value, "PSI too high"],
        "dispatched": False,
        "data": {"path": value},
        "rows": 100,
        "labelled_rows": 10,
        "checked_at": value,
        "notes": [value],
        "metrics": [{"metric": value, "champion": 0.9, "live": 0.7, "drop": 0.2, "alert": True}],
        "max_metric_drop": 0.05,
        "drift": drift,
    }
    result = unchecked(MODELS["monitor"], result)
    rendered = monitoring.render(result, {"podium_version": value, "run_url": value})
    assert_inert(
        rendered, marker=monitoring.marker(MODEL).replace("podium-monitor", "podium-monitor")
    )
    assert "\n" not in monitoring.title(result) and "\u202e" not in monitoring.title(result)


@pytest.mark.parametrize(
    "leak",
    [
        "<img src=x onerror=alert(1)>",
        "`` ``<img src=x>`` ``",  # what the old code span made of "``<img src=x>``"
        "[x](https://evil.example)",
        "![x](https://evil.example/p.png)",
        "cc @octocat",
        "fixes #123",
        "see www.evil.example",
        "<!-- podium-report: other -->",
        "x\n::warning::y",
        "\u202eevil",
        "```mermaid\nxychart-beta horizontal\n```\n\n<script>x</script>",
        "| a | b |\n|---|---|\n| 1 | 2 | 3 |",
    ],
)
def test_the_inertness_check_catches_each_leak(leak: str) -> None:
    """The check above must be able to fail: each of these, written raw, is caught."""
    marker = report.marker(MODEL)
    with pytest.raises(AssertionError):
        assert_inert(f"{marker}\ntitle\n\n{leak}\n", marker=marker)
    assert_inert(f"{marker}\ntitle\n\n{text(leak)}\n", marker=marker)


# ----------------------------------------------------------------------------- the helpers


def test_text_leaves_no_markup() -> None:
    assert text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert text("a|b") == "a\\|b" and text("a\\|b") == "a\\\\\\|b"
    assert text("[x](https://e.x)") == "\\[x\\](https&#8203;://e.x)"
    assert text("`x`") == "\\`x\\`"
    assert text("@octocat, @org/team #12") == "@&#8203;octocat, @&#8203;org/team #&#8203;12"
    assert text("line\none\tline") == "line one line"
    assert text("\u202eabc") == "\ufffdabc"
    assert text("x" * 5000).endswith("…") and len(text("x" * 5000)) == 1000
    # Benign text is unchanged (the golden reports stay as they were).
    assert (
        text("roc_auc ≥ 0.8 and Δ no worse than 0.005") == "roc_auc ≥ 0.8 and Δ no worse than 0.005"
    )


def test_a_code_span_is_fenced_longer_than_any_backtick_run_inside() -> None:
    assert code("plan") == "`plan`"
    assert code("a`b") == "``a`b``"
    assert code("``<img>``") == "``` ``<img>`` ```"
    assert code("` ` `") == "`` ` ` ` ``"
    assert code("a|b") == "`a\\|b`"
    assert code("") == "—"
    for value in ["``<img src=x>``", "x```y````z", "`", "`` ` ``"]:
        [paragraph] = [t for t in _tokens(code(value)) if t.type == "inline"]
        assert [c.type for c in paragraph.children or []] == ["code_inline"], value
        assert paragraph.children and paragraph.children[0].content == value


def test_a_link_is_made_only_for_an_http_address_and_cannot_be_broken_out_of() -> None:
    assert link("run", "https://github.com/a/b/actions/runs/1") == (
        "[run](https://github.com/a/b/actions/runs/1)"
    )
    assert link("run", "javascript:alert(1)") == "run"
    assert link("run", "data:text/html,<script>") == "run"
    assert link("run", "//evil.example") == "run"
    assert link("run", "http://[::1") == "run"
    assert link("run", None) == "run"
    assert link("x", "https://e.x/a b)(c<d>|`") == "[x](https://e.x/a%20b%29%28c%3Cd%3E%7C%60)"


def test_versions_are_digits_or_escaped_text() -> None:
    assert version_label("14") == "v14" and version_label(14) == "v14"
    assert version_label("[x](https://e.x)") == "v\\[x\\](https&#8203;://e.x)"
    assert version_label("1\n::warning::x", plain=True) == "v1 ::warning::x"
    assert version_label("١٤") == "v١٤"  # not ASCII digits: escaped (nothing to escape here)


def test_chart_labels_cannot_end_the_string_the_line_or_the_chart() -> None:
    assert chart_label("roc_auc v12") == '"roc_auc v12"'
    assert chart_label('a"b\n```\n%%{init}%% #quot;') == '"ab  init quot"'


def test_only_true_passes_and_counts_are_finite() -> None:
    assert is_true(True)
    assert not any(is_true(v) for v in (float("nan"), "true", 1, None, "yes", [1]))
    assert count(1e999) == 0 and count("many") == 0 and count(12.7) == 12
    assert num(1e300) == "1.00e+300" and num(float("inf")) == "—" and num(12052) == "12,052"
    assert one_line("a\nb\x1bc" + "x" * 200, 10) == "a b\ufffdcxxxx…"


# ---------------------------------------------------------------------------------- caps


def test_five_thousand_fake_metrics_are_a_capped_table() -> None:
    evaluated = evaluation()
    evaluated["challenger"]["metrics"].update({f"fake_{i:04d}": 0.5 for i in range(5000)})
    rendered = _render_unchecked(
        model_name=MODEL,
        tracking_uri=TRACKING,
        evaluation=evaluated,
        context=CONTEXT,
        limit=report.GITHUB_COMMENT_LIMIT,
    )
    assert report.size(rendered) <= report.GITHUB_COMMENT_LIMIT
    rows = [line for line in rendered.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + MAX_ROWS  # the header, then at most MAX_ROWS metrics
    assert rows[1].startswith("| roc_auc |")  # gated metrics first
    assert "_… and 4,968 metrics more (all of them in `.podium/evaluation.json`)._" in rendered


def test_a_failed_gate_is_never_the_row_left_out() -> None:
    evaluated = evaluation(passed=False)
    checks = evaluated["checks"]
    for i in range(100):
        checks.append({**checks[0], "metric": f"gate_{i:03d}", "passed": i != 99})
        evaluated["challenger"]["metrics"][f"gate_{i:03d}"] = 0.5
    table = _render_unchecked(model_name=MODEL, tracking_uri=TRACKING, evaluation=evaluated)
    rows = [line for line in table.splitlines() if line.startswith("| gate_")]
    assert rows[0].startswith("| gate_099 |") and rows[0].endswith("❌ |")


def test_every_other_table_is_capped() -> None:
    checked = validation()
    checked["checks"] += [{"name": f"c{i}", "passed": True, "detail": "ok"} for i in range(500)]
    checked["notes"] += [f"note {i}" for i in range(500)]
    results = checked["expectations"]["results"]
    results += [copy.deepcopy(results[0]) for _ in range(500)]
    features = checked["drift"]["features"]
    features += [{**features[0], "feature": f"f{i}"} for i in range(500)]
    evaluated = evaluation()
    ranked = [
        {"feature": f"f{i}", "importance": 0.1, "std": 0.0, "rank": i + 1} for i in range(500)
    ]
    evaluated["importance"] = {
        "challenger": {"metric": "roc_auc", "rows": 10, "repeats": 1, "features": ranked}
    }
    rendered = _render_unchecked(
        model_name=MODEL, tracking_uri=TRACKING, evaluation=evaluated, validation=checked
    )
    for table in rendered.split("</details>")[:-1]:
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert len(rows) <= 1 + 2 * MAX_ROWS, table[:200]  # checks and notes share a table
    for what in ("checks", "notes", "expectations", "features"):
        assert re.search(rf"_… and [\d,]+ {what} more", rendered), what

    monitored = {
        "model_name": MODEL,
        "champion_version": "12",
        "passed": False,
        "alerts": [f"alert {i}" for i in range(500)],
        "notes": [f"note {i}" for i in range(500)],
        "metrics": [
            {"metric": f"m{i}", "champion": 1, "live": 0, "drop": 1, "alert": True}
            for i in range(500)
        ],
        "drift": checked["drift"],
        "data": {"path": "/repo/prod.csv", "rows": 100, "columns": 3, "sha256": "ab"},
        "rows": 100,
        "labelled_rows": 100,
        "max_metric_drop": 0.05,
        "checked_at": "2026-12-01T00:00:00Z",
    }
    shown = monitoring.render(MODELS["monitor"].model_validate(monitored))
    assert len([line for line in shown.splitlines() if line.startswith("| m")]) == 1 + MAX_ROWS
    assert "_… and 460 metrics more" in shown and "_… and 460 notes more" in shown
    assert "; … and 460 more." in shown


def test_a_registry_uri_is_shown_without_its_credentials() -> None:
    rendered = _render_unchecked(
        model_name=MODEL,
        tracking_uri="postgresql://mlflow:s3cret@db.example:5432/mlflow",
        evaluation=evaluation(),
    )
    assert "registry `postgresql://db.example:5432/mlflow`" in rendered
    assert "s3cret" not in rendered
