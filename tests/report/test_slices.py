"""The report's Slices section: worst first, escaped, collapsed when passing, bounded."""

from __future__ import annotations

import re
from typing import Any

from podium.report.markdown import GITHUB_COMMENT_LIMIT, size
from tests.report.test_comparison import evaluation, render


def _slice(label: str, rows: int, before: float, now: float, passed: bool | None) -> dict[str, Any]:
    return {
        "slicing": "region",
        "slice": label,
        "rows": rows,
        "challenger": {"f1": now},
        "champion": {"f1": before},
        "intervals": {},
        "passed": passed,
        "reasons": [] if passed is not False else [f"f1 regresses for {label} (n={rows})"],
    }


def _sliced(slices: list[dict[str, Any]], passed: bool) -> dict[str, Any]:
    failures = [r for s in slices for r in s["reasons"]]
    return evaluation(
        passed=passed,
        summary="every gate passes" if passed else "; ".join(failures[:3]),
        slices={
            "min_rows": 30,
            "slicings": ["region"],
            "metrics": ["f1"],
            "slices": slices,
            "gaps": [],
            "passed": passed,
            "failures": failures,
            "guard": "slices under 30 rows are shown, never gated",
            "seconds": 0.5,
        },
    )


def test_a_failing_slice_is_open_worst_first_and_named_in_the_verdict() -> None:
    found = render(
        evaluation=_sliced(
            [
                _slice("region=south", 412, 0.71, 0.63, False),
                _slice("region=north", 380, 0.70, 0.74, True),
                _slice("region=tiny", 5, 0.5, 0.1, None),
            ],
            passed=False,
        )
    )
    assert "**Not promotable** — f1 regresses for region=south (n=412)." in found
    assert "**Slices ❌ 1 of 2 gated slices failed · 3 slices of region**" in found
    assert "| `region=south` | 412 | 0.710 | 0.630 | −0.080 | ❌ |" in found
    assert found.index("`region=south`") < found.index("`region=north`")
    assert "| `region=tiny` | 5 | 0.500 | 0.100 | −0.400 | — |" in found  # shown, not gated
    assert "<details><summary>Slices" not in found


def test_passing_slices_are_collapsed_and_no_slices_change_nothing() -> None:
    found = render(evaluation=_sliced([_slice("region=north", 380, 0.7, 0.74, True)], True))
    assert "<details><summary>Slices ✅ 0 of 1 gated slice failed" in found
    assert "Slices" not in render(evaluation=evaluation())


def test_slice_values_from_the_data_are_inert() -> None:
    hostile = "region=<img src=x onerror=alert(1)> @admin #1 [x](https://evil) |"
    found = render(evaluation=_sliced([_slice(hostile, 100, 0.7, 0.5, False)], False))
    outside_code = re.sub(r"`[^`]*`", "", found)  # a code span shows its text literally
    assert "<img" not in outside_code and "&lt;img" in outside_code
    assert "@admin" not in outside_code and "(https://evil)" not in outside_code
    assert "(n=100)." in found


def test_hundreds_of_slices_fit_a_comment_and_point_to_the_file() -> None:
    slices = [_slice(f"region=r{i:03d}", 100, 0.7, 0.6, False) for i in range(600)]
    found = render(evaluation=_sliced(slices, False), limit=GITHUB_COMMENT_LIMIT)
    assert size(found) <= GITHUB_COMMENT_LIMIT
    assert "`region=r000`" in found and "`region=r599`" not in found
    assert "… and 560 slices more (all of them in `.podium/evaluation.json`)" in found


def test_slices_computed_in_spark_say_so_and_show_each_slices_sample_rows() -> None:
    south = _slice("region=south", 41_200, 0.71, 0.63, False) | {"sample_rows": 2_060}
    sliced = _sliced([south], passed=False)
    computed = "computed in spark: every slice's metrics over all of its rows; the bootstrap"
    sliced["slices"]["computed"] = computed
    found = render(evaluation=sliced)
    assert f"_{computed}._" in found
    assert "| `region=south` | 41,200 (2,060) | 0.710 | 0.630 | −0.080 | ❌ |" in found
