"""Drift: PSI and two-sample tests against a recorded profile, on synthetic shifts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from podium import drift

TYPES = {"x": "numeric", "plan": "categorical"}


def _frame(
    seed: int,
    n: int = 3000,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    plans: tuple[str, ...] = ("monthly", "yearly", "two_year"),
    p: tuple[float, ...] = (0.55, 0.3, 0.15),
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x": rng.normal(mean, scale, n), "plan": rng.choice(list(plans), size=n, p=list(p))}
    )


def _by_feature(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, drift.FeatureDrift]:
    recorded = json.loads(json.dumps(drift.profile(reference, TYPES)))  # as logged and read back
    return {f.feature: f for f in drift.compare(recorded, current, TYPES)}


def test_identical_distributions_are_not_flagged_over_seeded_repeats() -> None:
    flagged = 0
    p_below = 0
    repeats = 40
    for seed in range(repeats):
        found = _by_feature(_frame(seed), _frame(1000 + seed))
        flagged += sum(f.drifted for f in found.values())
        p_below += sum(f.p_value < 0.05 for f in found.values())
        assert all(f.psi < 0.05 for f in found.values())
    assert flagged == 0
    # the tests themselves are calibrated: about 5% of p-values below 0.05, not more
    assert p_below / (2 * repeats) <= 0.125


@pytest.mark.parametrize(
    ("change", "feature"),
    [
        ({"mean": 0.6}, "x"),
        ({"scale": 1.8}, "x"),
        (
            {"plans": ("monthly", "yearly", "two_year", "weekly"), "p": (0.45, 0.25, 0.15, 0.15)},
            "plan",
        ),
        ({"p": (0.2, 0.3, 0.5)}, "plan"),
    ],
    ids=["mean-shift", "scale-change", "new-category", "category-mix"],
)
def test_synthetic_shifts_are_detected(change: dict[str, object], feature: str) -> None:
    found = _by_feature(_frame(1), _frame(2, **change))  # type: ignore[arg-type]
    assert found[feature].drifted, found[feature]
    assert found[feature].psi >= 0.1
    assert found[feature].p_value < 1e-3
    other = next(name for name in found if name != feature)
    assert not found[other].drifted
    assert drift.drifted_share(list(found.values())) == 0.5


def test_kinds_and_tests_match_the_schema() -> None:
    found = _by_feature(_frame(1), _frame(2))
    assert (found["x"].kind, found["x"].test) == ("numeric", "KS")
    assert (found["plan"].kind, found["plan"].test) == ("categorical", "chi2")
    assert set(found["x"].to_dict()) == {
        "feature",
        "kind",
        "psi",
        "test",
        "statistic",
        "p_value",
        "drifted",
    }


def test_a_jump_in_missing_values_counts_as_drift() -> None:
    current = _frame(2)
    current.loc[current.index[:900], "x"] = np.nan
    found = _by_feature(_frame(1), current)
    assert found["x"].psi > 0.2
    assert found["x"].drifted


def test_a_small_but_significant_shift_on_big_data_is_not_flagged() -> None:
    # 0.05 standard deviations on 200k rows: the test alone would reject; PSI says immaterial
    found = _by_feature(_frame(1, n=200_000), _frame(2, n=200_000, mean=0.05))
    assert found["x"].psi < 0.01
    assert not found["x"].drifted


def test_profile_is_compact_and_has_no_raw_rows() -> None:
    reference = _frame(1, n=100_000)
    recorded = drift.profile(reference, TYPES)
    assert len(json.dumps(recorded)) < 60_000
    numeric = recorded["features"]["x"]
    assert len(numeric["sample"]) == drift.SAMPLE_SIZE
    assert sum(numeric["counts"]) == 100_000
    assert len(numeric["edges"]) == drift.BINS - 1
    assert recorded["features"]["plan"]["counts"].keys() == {"monthly", "yearly", "two_year"}


def test_discrete_numeric_and_high_cardinality_categories() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(
        {
            "x": rng.poisson(1.5, 5000).astype(float),
            "plan": [f"c{i}" for i in rng.integers(0, 500, 5000)],
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.poisson(1.5, 5000).astype(float),
            "plan": [f"c{i}" for i in rng.integers(0, 500, 5000)],
        }
    )
    recorded = drift.profile(ref, TYPES)
    assert len(recorded["features"]["plan"]["counts"]) == drift.MAX_CATEGORIES + 1  # + __other__
    found = {f.feature: f for f in drift.compare(recorded, cur, TYPES)}
    assert not found["x"].drifted
    assert not found["plan"].drifted
    shifted = cur.assign(x=cur["x"] + 2)
    assert {f.feature: f for f in drift.compare(recorded, shifted, TYPES)}["x"].drifted


def test_features_missing_on_one_side_or_changed_kind_are_left_out() -> None:
    recorded = drift.profile(_frame(1), TYPES)
    current = _frame(2).rename(columns={"x": "y"})
    types = {"y": "numeric", "plan": "numeric"}
    assert drift.compare(recorded, current, types) == []
    assert drift.comparable(recorded, types) == (["x", "y"], ["plan"])


def test_psi_of_equal_counts_is_zero_and_grows_with_the_shift() -> None:
    base = np.array([10.0, 20.0, 30.0])
    assert drift.psi(base, base * 3) == pytest.approx(0.0)
    small = drift.psi(base, np.array([12.0, 20.0, 28.0]))
    large = drift.psi(base, np.array([30.0, 20.0, 10.0]))
    assert 0 < small < large
    assert drift.psi(np.zeros(3), base) == 0.0


def test_an_all_missing_current_column_is_drift_not_a_crash() -> None:
    current = _frame(2).assign(x=np.nan)
    found = _by_feature(_frame(1), current)
    assert found["x"].statistic == 0.0  # KS had no values to compare
    assert found["x"].p_value < 1e-6  # the missing share did
    assert found["x"].psi > 1
    assert found["x"].drifted


# -- the judgement --------------------------------------------------------------------


def _flags(drifted: int, total: int) -> list[drift.FeatureDrift]:
    """`total` features, the first `drifted` of them flagged."""
    return [
        drift.FeatureDrift(f"f{i}", "numeric", 0.2, "KS", 0.5, 0.01, True)
        if i < drifted
        else drift.FeatureDrift(f"f{i}", "numeric", 0.01, "KS", 0.01, 0.9, False)
        for i in range(total)
    ]


@pytest.mark.parametrize(
    ("drifted", "total", "bound", "passed"),
    [
        (3, 10, 0.3, True),  # exactly at the bound
        (4, 10, 0.3, False),
        (1, 3, 0.333333333333333, True),  # a third, written out: float noise, not drift
        (1, 3, 0.3333, False),
        (0, 0, 0.0, True),  # nothing compared
        (10, 10, None, True),  # no bound on the share
    ],
)
def test_a_drifted_share_at_its_bound_passes(
    drifted: int, total: int, bound: float | None, passed: bool
) -> None:
    verdict = drift.judge(_flags(drifted, total), max_drifted_share=bound, max_psi=None)
    assert verdict.passed is passed
    assert verdict.too_many is not passed
    assert verdict.share == (drifted / total if total else 0.0)
    assert [f.feature for f in verdict.drifted] == [f"f{i}" for i in range(drifted)]
    assert verdict.over_psi == [] and verdict.worst is None


def test_any_feature_above_max_psi_fails_and_the_worst_is_named() -> None:
    found = _flags(0, 4)
    found[1] = drift.FeatureDrift("plan", "categorical", 0.6, "chi2", 9.0, 0.2, False)
    found[3] = drift.FeatureDrift("age", "numeric", 0.9, "KS", 0.3, 0.2, False)
    verdict = drift.judge(found, max_drifted_share=0.0, max_psi=0.5)
    assert not verdict.passed and not verdict.too_many  # flagged or not, PSI alone decides
    assert [f.feature for f in verdict.over_psi] == ["plan", "age"]
    assert verdict.worst is not None and verdict.worst.feature == "age"
    assert drift.judge(found, max_drifted_share=None, max_psi=0.9).passed  # at the bound
    assert drift.judge(found, max_drifted_share=None, max_psi=None).passed


@pytest.mark.parametrize("seed", range(12))
def test_bin_counts_by_comparison_equal_a_binary_search_per_value(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=int(rng.integers(0, 5000))), int(rng.integers(0, 3)))
    edges = np.unique(np.round(rng.normal(size=int(rng.integers(0, 24))), 1))  # values on edges
    searched = np.bincount(
        np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1
    ).astype(float)
    counted = drift._bin_counts(values, edges)
    assert counted.dtype == searched.dtype and np.array_equal(counted, searched)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([0.5, -1.0, 2.0, 3.5]),  # all finite: the values themselves, not a copy
        pd.Series([0.5, np.nan, np.inf, -np.inf, 2.0]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([1.5, None, 3.0], dtype="Float64"),
    ],
    ids=["finite", "nan-and-infinities", "nullable-int", "nullable-float"],
)
def test_finite_values_are_the_values_without_missing_or_infinite_ones(column: pd.Series) -> None:
    values = column.to_numpy(dtype=float, na_value=np.nan)
    expected = values[np.isfinite(values)]
    found = drift._finite(column)
    assert found.dtype == expected.dtype and np.array_equal(found, expected)


def test_profiling_and_comparing_leave_the_data_as_it_was() -> None:
    # The finite values of a column without missing ones may be the column's own memory.
    reference, current = _frame(1, 5000), _frame(2, 5000, mean=0.3)
    before = reference.copy(), current.copy()
    drift.compare(drift.profile(reference, TYPES), current, TYPES)
    pd.testing.assert_frame_equal(reference, before[0])
    pd.testing.assert_frame_equal(current, before[1])
