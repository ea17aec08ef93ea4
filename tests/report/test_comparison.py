"""The report renderer: a pure function, checked against golden files and a GFM parser.

Regenerate the golden files after an intended change with
`PODIUM_UPDATE_GOLDEN=1 pytest tests/report/test_comparison.py` and review the diff.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium import report
from podium.results import Evaluation, Promotion, Training, Validation

GOLDEN = Path(__file__).parents[1] / "golden"

MODELS = {
    "evaluation": Evaluation,
    "training": Training,
    "validation": Validation,
    "promotion": Promotion,
}


def typed(inputs: dict[str, Any]) -> dict[str, Any]:
    """The dict fixtures below (the files' JSON), each validated into its result model."""
    return {
        key: MODELS[key].model_validate(value) if key in MODELS and value is not None else value
        for key, value in inputs.items()
    }


def render(**inputs: Any) -> str:
    """`report.render` of dict fixtures, as the stage calls it: the model name and tracking
    URI are podium.yaml's, here the ones these tests' results were made with."""
    evaluated = typed(inputs)["evaluation"]
    inputs.setdefault("model_name", evaluated.model_name)
    inputs.setdefault("tracking_uri", evaluated.tracking_uri)
    return report.render(**typed(inputs))


def evaluation(**overrides: Any) -> dict[str, Any]:
    """An evaluation.json as `podium evaluate` writes it (champion v12, challenger v14)."""
    base: dict[str, Any] = {
        "model_name": "churn-classifier",
        "tracking_uri": "https://mlflow.example.com/",
        "task": "classification",
        "challenger": {
            "version": "14",
            "run_id": "9f1e0000000000000000000000000000",
            "metrics": {
                "roc_auc": 0.8731,
                "accuracy": 0.8224,
                "f1": 0.7093,
                "precision": 0.7401,
                "recall": 0.6811,
                "log_loss": 0.3712,
                "latency_ms": 5.31,
                "model_size_mb": 2.41,
            },
            "error": None,
        },
        "champion": {
            "version": "12",
            "run_id": "77aa0000000000000000000000000000",
            "metrics": {
                "roc_auc": 0.8612,
                "accuracy": 0.8151,
                "f1": 0.7021,
                "precision": 0.7512,
                "recall": 0.6603,
                "log_loss": 0.3881,
                "latency_ms": 4.12,
                "model_size_mb": 1.83,
            },
            "error": None,
        },
        "passed": True,
        "summary": "every gate passes",
        "checks": [
            {
                "metric": "roc_auc",
                "challenger": 0.8731,
                "champion": 0.8612,
                "delta": 0.0119,
                "bound": "≥ 0.8 and Δ no worse than 0.005",
                "passed": True,
                "reasons": [],
            },
            {
                "metric": "latency_ms",
                "challenger": 5.31,
                "champion": 4.12,
                "delta": 1.19,
                "bound": "≤ 10",
                "passed": True,
                "reasons": [],
            },
        ],
        "gates_are_default": False,
        "eval": {"path": "/repo/data/eval.csv", "rows": 12052, "columns": 14, "sha256": "e4" * 32},
        "evaluated_at": "2026-01-02T03:04:05Z",
    }
    base.update(overrides)
    return base


def training() -> dict[str, Any]:
    return {
        "model_name": "churn-classifier",
        "version": "14",
        "run_id": "9f1e0000000000000000000000000000",
        "experiment_id": "3",
        "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
        "feature_types": {f"f{i}": "numeric" for i in range(12)},
        "train": {
            "path": "/repo/data/train.csv",
            "rows": 48210,
            "columns": 14,
            "sha256": "b6" * 32,
        },
        "eval": {"path": "/repo/data/eval.csv", "rows": 12052, "columns": 14, "sha256": "e4" * 32},
        "fit_seconds": 12.34,
        "provenance": {},
    }


def validation() -> dict[str, Any]:
    """validation.json with the data-quality keys (expectations, drift) of the shared schema."""
    return {
        "passed": True,
        "checks": [
            {"name": "train data", "passed": True, "detail": "48,210 rows, 12 features"},
            {"name": "eval data", "passed": True, "detail": "12,052 rows with every feature"},
        ],
        "train": {"path": "/repo/data/train.csv", "rows": 48210, "columns": 14, "sha256": "b6"},
        "eval": {"path": "/repo/data/eval.csv", "rows": 12052, "columns": 14, "sha256": "e4"},
        "champion_version": "12",
        "notes": ["3 eval rows have no target and are skipped"],
        "expectations": {
            "suite": "/repo/expectations/churn.json",  # the runner's absolute path
            "passed": True,
            "evaluated": 3,
            "failed": 0,
            "results": [
                {
                    "dataset": "train",
                    "expectation": "expect_column_values_to_be_between",
                    "column": "age",
                    "kwargs": {"column": "age", "min_value": 0, "max_value": 120},
                    "success": True,
                    "observed": {
                        "unexpected_count": 0,
                        "unexpected_percent": 0.0,
                        "element_count": 48210,
                    },
                    "unexpected_examples": [],
                },
                {
                    "dataset": "train",
                    "expectation": "expect_column_values_to_be_in_set",
                    "column": "plan",
                    "kwargs": {
                        "column": "plan",
                        "value_set": ["monthly", "yearly"],
                        "mostly": 0.95,
                    },
                    "success": True,
                    "observed": None,
                    "unexpected_examples": [],
                },
                {
                    "dataset": "eval",
                    "expectation": "expect_table_row_count_to_be_between",
                    "column": None,
                    "kwargs": {"min_value": 1000},
                    "success": True,
                    "observed": 12052,
                    "unexpected_examples": [],
                },
            ],
        },
        "drift": {
            "reference_version": "12",
            "passed": True,
            "drifted_share": 0.0833,
            "max_drifted_share": 0.3,
            "features": [
                {
                    "feature": "plan",
                    "kind": "categorical",
                    "psi": 0.02,
                    "test": "chi2",
                    "statistic": 1.7,
                    "p_value": 0.41,
                    "drifted": False,
                },
                {
                    "feature": "tenure_months",
                    "kind": "numeric",
                    "psi": 0.21,
                    "test": "KS",
                    "statistic": 0.081,
                    "p_value": 1e-6,
                    "drifted": True,
                },
            ],
        },
    }


CONTEXT = {
    "podium_version": "0.1.0",
    "commit": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    "repository_url": "https://github.com/acme/churn",
    "run_url": "https://github.com/acme/churn/actions/runs/4242",
    "pull_request": 17,
    "root": "/repo",
}


def _failing() -> dict[str, Any]:
    failing = evaluation(
        passed=False,
        summary="roc_auc changed by -0.03 against the champion (higher is better; "
        "required improvement ≥ -0.005)",
    )
    failing["challenger"]["metrics"]["roc_auc"] = 0.8312
    failing["checks"][0].update(challenger=0.8312, delta=-0.03, passed=False)
    return failing


def _first_champion() -> dict[str, Any]:
    first = evaluation(champion=None, summary="first champion: every absolute bound passes")
    first["tracking_uri"] = "sqlite:////repo/.podium/mlflow.db"
    for check in first["checks"]:
        check.update(champion=None, delta=None)
    return first


def _regression() -> dict[str, Any]:
    reg = evaluation(task="regression", gates_are_default=True, summary="every gate passes")
    reg["challenger"]["metrics"] = {"rmse": 12.5, "mae": 9.1, "r2": -0.2, "latency_ms": 3.0}
    reg["champion"]["metrics"] = {"rmse": 13.0, "mae": 9.9, "r2": 0.41, "latency_ms": 2.0}
    reg["checks"] = [
        {
            "metric": "rmse",
            "challenger": 12.5,
            "champion": 13.0,
            "delta": -0.5,
            "bound": "no regression",
            "passed": True,
            "reasons": [],
        }
    ]
    return reg


def _insight() -> dict[str, Any]:
    """Beyond the point estimate: bootstrap intervals (a `significant: true` gate) and
    permutation importance of both models with rank changes."""
    evaluated = evaluation()
    evaluated["checks"][0].update(
        bound="≥ 0.8 and significant improvement",
        interval={
            "low": 0.0041,
            "high": 0.0198,
            "confidence": 0.95,
            "resamples": 1000,
            "rows": 12052,
            "method": "poisson-bootstrap",
        },
    )
    evaluated["checks"].insert(
        1,
        {
            "metric": "f1",
            "challenger": 0.7093,
            "champion": 0.7021,
            "delta": 0.0072,
            "bound": "Δ no worse than 0.01",
            "passed": True,
            "reasons": [],
            "interval": {
                "low": -0.0031,
                "high": 0.0174,
                "confidence": 0.95,
                "resamples": 1000,
                "rows": 12052,
                "method": "poisson-bootstrap",
            },
        },
    )

    def ranking(*pairs: tuple[str, float]) -> dict[str, Any]:
        features = [
            {"feature": name, "importance": value, "std": value / 10, "rank": rank}
            for rank, (name, value) in enumerate(pairs, start=1)
        ]
        return {"metric": "roc_auc", "rows": 5000, "repeats": 5, "features": features}

    evaluated["importance"] = {
        "challenger": ranking(
            ("tenure_months", 0.081), ("plan", 0.034), ("age", 0.022), ("support_calls", 0.0004)
        ),
        "champion": ranking(
            ("age", 0.05), ("plan", 0.03), ("region", 0.02), ("tenure_months", 0.01)
        ),
    }
    evaluated["delivery"] = {
        "model_name": "churn-classifier",
        "window_days": 90,
        "promotions": 3,
        "deployment_frequency": 1.0,
        "candidates": 5,
        "candidates_promoted": 3,
        "success_rate": 0.6,
        "rollbacks": 1,
        "days_since_last_promotion": 2.31,
        "champion_version": "12",
        "champion_age_days": 10.52,
    }
    return evaluated


CASES: dict[str, dict[str, Any]] = {
    "insight": {"evaluation": _insight(), "context": CONTEXT},
    "promotable_pr": {
        "evaluation": evaluation(),
        "training": training(),
        "validation": validation(),
        "context": CONTEXT,
    },
    "not_promotable": {"evaluation": _failing(), "context": {**CONTEXT, "pull_request": None}},
    "first_champion_promoted": {
        "evaluation": _first_champion(),
        "promotion": {"promoted": True, "champion_version": "14", "previous_version": None},
        "context": {"podium_version": "0.1.0"},
    },
    "regression_default_gate": {
        "evaluation": _regression(),
        "context": {"podium_version": "0.1.0"},
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_the_golden_file(case: str) -> None:
    rendered = render(**copy.deepcopy(CASES[case]))
    golden = GOLDEN / f"report_{case}.md"
    if os.environ.get("PODIUM_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with PODIUM_UPDATE_GOLDEN=1"
    assert rendered == golden.read_text(encoding="utf-8")


def test_render_is_pure_and_deterministic() -> None:
    inputs = typed(copy.deepcopy(CASES["promotable_pr"]))
    before = copy.deepcopy(inputs)
    assert render(**inputs) == render(**inputs)
    assert inputs == before  # the results are not modified


def test_the_verdict_says_why_in_one_sentence() -> None:
    text = render(**copy.deepcopy(CASES["promotable_pr"]))
    lines = text.splitlines()
    assert lines[0] == "<!-- podium-report: churn-classifier -->"
    assert lines[1].startswith(
        "### 🏆 podium · churn-classifier — challenger **v14** would replace"
    )
    assert lines[3] == (
        "**Promotable** — every gate passes; roc_auc improves by +0.012 (0.861 → 0.873)."
    )
    assert lines[5].startswith("Validation: data checks 2/2 passed · expectations 3/3 passed")
    assert "drift: 1 of 2 features drifted (`tenure_months`, PSI 0.210)" in lines[5]

    failing = render(evaluation=_failing())
    assert (
        "❌ podium · churn-classifier — challenger **v14** does not beat champion **v12**"
        in failing
    )
    assert "**Not promotable** — roc_auc changed by -0.03 against the champion" in failing
    assert (
        "| roc_auc | **0.861** | 0.831 | −0.030 | ≥ 0.8 and Δ no worse than 0.005 | ❌ |" in failing
    )


def test_links_point_at_the_mlflow_server_without_credentials() -> None:
    secret = evaluation(tracking_uri="https://user:s3cret@mlflow.example.com:8443/prefix/")
    text = render(evaluation=secret, training=training(), context=CONTEXT)
    assert "s3cret" not in text and "user:" not in text
    base = "https://mlflow.example.com:8443/prefix/#/"
    assert (
        f"MLflow: [challenger v14]({base}models/churn-classifier/versions/14) "
        f"([run]({base}experiments/3/runs/9f1e{'0' * 28}))"
    ) in text
    champion_run = f"{base}runs/77aa{'0' * 28}"
    champion_page = f"{base}models/churn-classifier/versions/12"
    assert f"[champion v12]({champion_page}) ([run]({champion_run}))" in text
    assert "[`a1b2c3d`](https://github.com/acme/churn/commit/a1b2c3d4e5f6" in text
    assert "not promoted from pull requests: merge to main to promote" in text
    local = render(evaluation=_first_champion())
    assert "MLflow [" not in local and "registry `sqlite:////repo/.podium/mlflow.db`" in local


def test_user_text_cannot_break_tables_or_details() -> None:
    hostile = validation()
    hostile["drift"]["features"][0]["feature"] = "a|b</details><script>x</script>`"
    hostile["checks"][0]["detail"] = "pipe | and\nnewline <b>bold</b>"
    text = render(evaluation=evaluation(), validation=hostile)
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script>" not in html and "<b>" not in html  # shown as text, not markup
    assert "<code>a|b&lt;/details&gt;&lt;script&gt;x&lt;/script&gt;`</code>" in html
    assert html.count("<details>") == html.count("</details>") == 3
    tokens = _parse(text)
    tables = _tables(tokens)
    assert all(len(set(widths)) == 1 for widths in tables), tables


def test_the_chart_sets_bars_side_by_side_on_an_honest_axis() -> None:
    text = render(**copy.deepcopy(CASES["promotable_pr"]))
    chart = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "xychart-beta horizontal" in chart
    assert '    y-axis "score" 0 --> 1' in chart
    labels = re.search(r"x-axis \[(.*)\]", chart)
    assert labels is not None
    assert labels.group(1).startswith('"roc_auc v12", "roc_auc v14", "accuracy v12"')
    bars = re.findall(r"bar \[(.*)\]", chart)
    champion, challenger = ([float(v) for v in b.split(", ")] for b in bars)
    # Below the axis (not drawn) in the other model's slot: bars never hide each other.
    assert champion[:4] == [0.8612, -1, 0.8151, -1]
    assert challenger[:4] == [-1, 0.8731, -1, 0.8224]
    # Regression: a negative R² cannot sit on a 0..1 axis, so there is no chart at all.
    assert "```mermaid" not in render(evaluation=_regression())


def test_failed_expectations_come_first_with_examples() -> None:
    data = validation()
    results = data["expectations"]["results"]
    results.append(
        {
            "dataset": "eval",
            "expectation": "expect_column_values_to_be_between",
            "column": "age",
            "kwargs": {"column": "age", "min_value": 0, "max_value": 120},
            "success": False,
            "observed": {"unexpected_count": 2, "unexpected_percent": 0.02},
            "unexpected_examples": [-1, 430],
        }
    )
    data["expectations"].update(passed=False, evaluated=4, failed=1)
    text = render(evaluation=evaluation(), validation=data)
    block = text.split("<summary>Expectations ❌ 3/4 passed", 1)[1]
    first_row = next(line for line in block.splitlines() if line.startswith("| eval"))
    assert "❌" in first_row and "e.g. `-1`, `430`" in first_row
    assert "expectations 3/4 passed" in text.splitlines()[5]


def test_expectations_say_the_suite_relative_to_the_repository_and_observed_in_words() -> None:
    rendered = render(**copy.deepcopy(CASES["promotable_pr"]))
    assert "passed (expectations/churn.json)</summary>" in rendered
    assert "/repo/expectations" not in rendered
    assert "| `age` | values between 0 and 120 | 0 of 48,210 unexpected | ✅ |" in rendered
    assert "unexpected_count" not in rendered


# ------------------------------------------------------------------------ size limit


def _big() -> dict[str, Any]:
    inputs = copy.deepcopy(CASES["promotable_pr"])
    features = inputs["validation"]["drift"]["features"]
    for i in range(300):
        features.append({**features[0], "feature": f"generated_feature_{i:04d}_" + "x" * 250})
    return inputs


def test_an_oversized_report_is_cut_at_a_section_boundary() -> None:
    inputs = _big()
    full = render(**inputs)
    # 40 drift rows × ~300 characters: shrink the limit so that drift cannot fit.
    limit = report.size(full) - 5000
    cut = render(**inputs, limit=limit)
    assert report.size(cut) <= limit
    assert cut.startswith("<!-- podium-report: churn-classifier -->")
    assert "| roc_auc |" in cut and "```mermaid" in cut  # required + early sections stay
    assert "Drift ⚠️" not in cut and "Challenger v14:" not in cut  # dropped whole
    assert "(drift, training left out)" in cut
    assert "the full report is in the [job summary](https://github.com/acme/churn/actions" in cut
    assert cut.rstrip().endswith("</sub>")  # the footer (links) always stays
    assert cut.count("<details>") == cut.count("</details>")


@settings(max_examples=40, deadline=None)
@given(limit=st.integers(min_value=1500, max_value=40_000))
def test_any_limit_gives_a_well_formed_report_within_it(limit: int) -> None:
    cut = render(**_big(), limit=limit)
    assert report.size(cut) <= limit
    assert cut.count("<details>") == cut.count("</details>")
    assert cut.count("```") % 2 == 0
    assert cut.startswith("<!-- podium-report: churn-classifier -->")
    assert cut.rstrip().endswith("</sub>")


def test_the_github_limit_counts_what_github_counts() -> None:
    assert report.GITHUB_COMMENT_LIMIT == 65_536
    assert report.size("🏆") == 2  # astral characters take two UTF-16 units
    assert report.size("✅") == 1


# ----------------------------------------------------------------------- GFM rendering


def _parse(text: str) -> list[Any]:
    from markdown_it import MarkdownIt

    return list(MarkdownIt("commonmark", {"html": True}).enable("table").parse(text))


def _tables(tokens: list[Any]) -> list[list[int]]:
    """For each table: the number of cells of each row."""
    tables: list[list[int]] = []
    cells = 0
    for token in tokens:
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            cells = 0
        elif token.type in {"th_open", "td_open"}:
            cells += 1
        elif token.type == "tr_close":
            tables[-1].append(cells)
    return tables


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_is_well_formed_github_markdown(case: str) -> None:
    from markdown_it import MarkdownIt

    text = render(**copy.deepcopy(CASES[case]))
    tokens = _parse(text)
    tables = _tables(tokens)
    assert tables, "the gates table must render as a table"
    for widths in tables:
        assert len(set(widths)) == 1, f"ragged table: {widths}"
    gates = tables[0]
    assert gates[0] == 6 and len(gates) >= 3
    html_blocks = "".join(t.content for t in tokens if t.type == "html_block")
    assert html_blocks.count("<details>") == html_blocks.count("</details>")
    assert text.count("<details>") == html_blocks.count("<details>")  # none swallowed as text
    fences = [t for t in tokens if t.type == "fence"]
    assert all(f.info == "mermaid" for f in fences)
    if fences:
        body = fences[0].content
        assert body.splitlines()[1] == "xychart-beta horizontal" and "bar [" in body
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<table>" in rendered and "<sub>" in rendered
    assert "<!-- podium-report:" in rendered  # the marker survives as a hidden comment
    if "expectations" in (CASES[case].get("validation") or {}):
        assert rendered.count("<summary>") == 4


def test_two_gates_on_one_metric_share_a_row_and_both_must_pass() -> None:
    evaluation = {
        "model_name": "m",
        "tracking_uri": "sqlite:///x.db",
        "task": "classification",
        "challenger": {"version": "2", "run_id": None, "metrics": {"roc_auc": 0.8}},
        "champion": None,
        "passed": False,
        "summary": "roc_auc 0.8 is below the minimum 0.9",
        "checks": [
            {
                "metric": "roc_auc",
                "challenger": 0.8,
                "champion": None,
                "delta": None,
                "bound": "≥ 0.7",
                "passed": True,
                "reasons": [],
            },
            {
                "metric": "roc_auc",
                "challenger": 0.8,
                "champion": None,
                "delta": None,
                "bound": "≥ 0.9",
                "passed": False,
                "reasons": ["below"],
            },
        ],
        "gates_are_default": False,
        "eval": {"path": "e.csv", "rows": 10, "columns": 2, "sha256": "0" * 64},
    }
    rows = [
        line for line in render(evaluation=evaluation).splitlines() if line.startswith("| roc_auc")
    ]
    assert len(rows) == 1
    assert "≥ 0.7; ≥ 0.9" in rows[0] and "❌" in rows[0]


def failed_validation() -> dict[str, Any]:
    checked = validation()
    checked["passed"] = False
    checked["checks"].append(
        {
            "name": "expectations",
            "passed": False,
            "detail": "'age' values between 0 and 120 failed on train",
        }
    )
    checked["expectations"]["passed"] = False
    return checked


def test_a_data_failure_report_says_why_nothing_was_trained() -> None:
    from podium.report import marker, render_data_failure

    text = render_data_failure(
        model_name="churn-classifier",
        validation=Validation.model_validate(failed_validation()),
        context={"podium_version": "9.9", "commit": "a1b2c3d4e5", "run_url": "https://ci/run/1"},
    )
    assert text.startswith(marker("churn-classifier") + "\n")  # same comment as a full report
    assert "the data did not pass validation" in text
    assert "**Not trained** — 'age' values between 0 and 120 failed on train." in text
    assert "<details><summary>Data checks ❌" in text
    assert "commit `a1b2c3d`" in text and "[workflow run](https://ci/run/1)" in text
    assert "podium 9.9" in text


def test_the_cli_gates_table_is_plain_aligned_text() -> None:
    lines = report.metrics_table_text(Evaluation.model_validate(evaluation()))
    assert not any("**" in line or "|" in line for line in lines)
    assert lines[0].split()[:1] == ["metric"] and "challenger v14" in lines[0]
    # every value column starts at the same offset on every row
    start = lines[0].index("Δ")
    assert all(len(line) >= start for line in lines[1:])
    title, verdict = report.headline(
        Evaluation.model_validate(evaluation()), None, model_name="churn-classifier", plain=True
    )
    assert "**" not in title + verdict and "&amp;" not in title
