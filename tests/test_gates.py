"""The gate decision: table-driven cases and properties (pure functions, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from podium.config import Gate
from podium.gates import TOLERANCE, check, decide
from podium.scoring import METRICS

NAN = math.nan
INF = math.inf


@dataclass(frozen=True)
class G:
    """A gate as `decide` sees it (the GateSpec protocol), without config validation."""

    metric: str
    min: float | None = None
    max: float | None = None
    min_delta: float | None = None


# metric, min, max, min_delta, challenger, champion -> passed
CASES = [
    # direction: higher is better (roc_auc) vs lower is better (rmse, log_loss, latency)
    ("higher: improvement passes no-regression", "roc_auc", None, None, 0.0, 0.81, 0.80, True),
    ("higher: regression fails no-regression", "roc_auc", None, None, 0.0, 0.79, 0.80, False),
    ("lower: improvement passes no-regression", "rmse", None, None, 0.0, 9.0, 10.0, True),
    ("lower: regression fails no-regression", "rmse", None, None, 0.0, 11.0, 10.0, False),
    ("lower: log_loss going down is better", "log_loss", None, None, 0.0, 0.30, 0.35, True),
    ("lower: latency going up fails", "latency_ms", None, None, 0.0, 12.0, 10.0, False),
    # absolute bounds
    ("min: above passes", "roc_auc", 0.8, None, None, 0.85, None, True),
    ("min: below fails", "roc_auc", 0.8, None, None, 0.79, None, False),
    ("min: exactly at the bound passes", "roc_auc", 0.8, None, None, 0.8, None, True),
    ("max: below passes", "rmse", None, 5.0, None, 4.0, None, True),
    ("max: above fails", "rmse", None, 5.0, None, 5.5, None, False),
    ("max: exactly at the bound passes", "rmse", None, 5.0, None, 5.0, None, True),
    ("min and max: inside passes", "r2", 0.5, 0.99, None, 0.7, None, True),
    ("min and max: too good fails (leakage guard)", "r2", 0.5, 0.99, None, 0.999, None, False),
    # min_delta: negative tolerates, zero forbids regression, positive demands a gain
    ("negative delta tolerates a small drop", "roc_auc", None, None, -0.01, 0.795, 0.80, True),
    ("negative delta refuses a larger drop", "roc_auc", None, None, -0.01, 0.785, 0.80, False),
    ("negative delta on lower-is-better", "rmse", None, None, -0.5, 10.4, 10.0, True),
    ("negative delta on lower-is-better, too far", "rmse", None, None, -0.5, 10.6, 10.0, False),
    ("positive delta met", "roc_auc", None, None, 0.01, 0.82, 0.80, True),
    ("positive delta not met", "roc_auc", None, None, 0.01, 0.805, 0.80, False),
    ("positive delta on lower-is-better met", "mae", None, None, 0.5, 1.0, 2.0, True),
    ("positive delta on lower-is-better not met", "mae", None, None, 0.5, 1.8, 2.0, False),
    # ties
    ("tie passes no-regression", "f1", None, None, 0.0, 0.7, 0.7, True),
    ("tie passes a tolerated regression", "f1", None, None, -0.01, 0.7, 0.7, True),
    ("tie fails a demanded improvement", "f1", None, None, 0.01, 0.7, 0.7, False),
    ("float noise is a tie, not a regression", "accuracy", None, None, 0.0, 0.1 + 0.2, 0.3, True),
    ("exact demanded gain with float noise passes", "roc_auc", None, None, 0.01, 0.3, 0.29, True),
    # no champion / champion metric missing: the absolute bounds alone decide
    ("no champion: delta ignored", "roc_auc", None, None, 0.05, 0.5, None, True),
    ("no champion: min still applies", "roc_auc", 0.6, None, 0.0, 0.5, None, False),
    ("NaN champion: delta not applicable", "roc_auc", None, None, 0.0, 0.5, NAN, True),
    ("NaN champion: min still applies", "roc_auc", 0.6, None, 0.0, 0.5, NAN, False),
    ("inf champion: delta not applicable", "rmse", None, None, 0.0, 3.0, INF, True),
    ("-inf champion: delta not applicable", "rmse", None, None, 0.0, 3.0, -INF, True),
    # a challenger value that cannot be computed never passes
    ("NaN challenger fails even without champion", "roc_auc", 0.0, None, None, NAN, None, False),
    ("NaN challenger fails a delta gate", "roc_auc", None, None, -1.0, NAN, 0.8, False),
    ("inf challenger fails a lower-is-better gate", "rmse", None, 10.0, None, INF, None, False),
    ("+inf challenger fails even where higher is better", "r2", 0.0, None, None, INF, None, False),
    ("-inf challenger fails", "rmse", None, None, 0.0, -INF, 1.0, False),
    ("missing challenger metric fails", "roc_auc", 0.5, None, None, None, 0.8, False),
]


@pytest.mark.parametrize(
    ("metric", "low", "high", "min_delta", "challenger", "champion", "passed"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_check(
    metric: str,
    low: float | None,
    high: float | None,
    min_delta: float | None,
    challenger: float | None,
    champion: float | None,
    passed: bool,
) -> None:
    result = check(G(metric, low, high, min_delta), challenger, champion)
    assert result.passed is passed
    assert bool(result.reasons) is (not passed)  # a failure always says why
    assert all(metric in reason for reason in result.reasons)
    if challenger is not None and champion is not None and math.isfinite(challenger + champion):
        assert result.delta == pytest.approx(challenger - champion)
    else:
        assert result.delta is None


def test_a_failed_delta_says_which_way_is_better_and_by_how_much() -> None:
    result = check(G("rmse", min_delta=0.0), 11.0, 10.0)
    (reason,) = result.reasons
    assert "lower is better" in reason
    assert "+1" in reason  # the raw change


def test_delta_is_raw_challenger_minus_champion_whatever_the_direction() -> None:
    assert check(G("rmse", min_delta=0.0), 9.0, 10.0).delta == pytest.approx(-1.0)
    assert check(G("roc_auc", min_delta=0.0), 0.9, 0.8).delta == pytest.approx(0.1)


@pytest.mark.parametrize("champion", [None, NAN])
def test_a_skipped_delta_is_noted_on_the_check(champion: float | None) -> None:
    result = check(G("roc_auc", min=0.5, min_delta=0.0), 0.7, champion)
    assert result.passed
    assert result.delta is None
    assert len(result.notes) == 1
    assert "Δ not applied" in result.notes[0]
    assert check(G("roc_auc", min_delta=0.0), 0.7, 0.6).notes == []


@pytest.mark.parametrize(
    ("gate", "text"),
    [
        (G("roc_auc", min=0.8), "≥ 0.8"),
        (G("rmse", max=5.0), "≤ 5"),
        (G("roc_auc", min_delta=0.0), "no regression"),
        (G("roc_auc", min_delta=-0.005), "no worse than 0.005"),
        (G("roc_auc", min_delta=0.01), "better by at least 0.01"),
        (G("roc_auc", min=0.8, min_delta=-0.005), "≥ 0.8 and Δ no worse than 0.005"),
    ],
)
def test_bound_is_described_for_the_report(gate: G, text: str) -> None:
    assert text in check(gate, 0.9, 0.9).bound


def test_decide_without_champion_is_judged_on_absolute_bounds() -> None:
    gates = [G("roc_auc", min=0.6, min_delta=0.05), G("log_loss", min_delta=0.0)]
    verdict = decide({"roc_auc": 0.7, "log_loss": 0.5}, None, gates)
    assert verdict.passed
    assert "first champion" in verdict.summary
    assert [c.champion for c in verdict.checks] == [None, None]


def test_decide_fails_when_any_gate_fails_and_names_every_failure() -> None:
    gates = [G("roc_auc", min=0.9), G("log_loss", min_delta=0.0), G("f1", min=0.1)]
    verdict = decide({"roc_auc": 0.8, "log_loss": 0.6, "f1": 0.5}, {"log_loss": 0.5}, gates)
    assert not verdict.passed
    assert [c.passed for c in verdict.checks] == [False, False, True]
    assert "roc_auc" in verdict.summary
    assert "log_loss" in verdict.summary
    assert "f1" not in verdict.summary


def test_decide_with_champion_that_lacks_the_metric() -> None:
    verdict = decide({"roc_auc": 0.7}, {"accuracy": 0.9}, [G("roc_auc", min_delta=0.0)])
    assert verdict.passed
    assert verdict.checks[0].champion is None
    assert verdict.summary == "every gate passes"


def test_decide_with_a_missing_challenger_metric_fails() -> None:
    verdict = decide({}, {"roc_auc": 0.7}, [G("roc_auc", min_delta=-1.0)])
    assert not verdict.passed
    assert "could not be computed" in verdict.summary


def test_verdict_serialises_every_gates_numbers() -> None:
    verdict = decide({"roc_auc": 0.7}, {"roc_auc": 0.75}, [G("roc_auc", min=0.6, min_delta=-0.1)])
    (only,) = verdict.to_dict()["checks"]
    assert only["challenger"] == 0.7
    assert only["champion"] == 0.75
    assert only["delta"] == pytest.approx(-0.05)
    assert only["passed"] is True


def test_config_gates_satisfy_the_gate_protocol() -> None:
    gate = Gate(metric="roc_auc", min=0.6, min_delta=-0.01)
    assert check(gate, 0.65, 0.655).passed
    assert not check(gate, 0.65, 0.70).passed


# -- properties -------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe = st.none() | finite
maybe_nan = finite | st.just(NAN)
metrics = st.sampled_from(sorted(METRICS))


@st.composite
def gates(draw: st.DrawFn, metric: str | None = None) -> G:
    name = draw(metrics) if metric is None else metric
    low, high = draw(maybe), draw(maybe)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return G(name, low, high, draw(maybe))


def _toward_better(metric: str, value: float, step: float) -> float:
    return value + step if METRICS[metric].higher_is_better else value - step


@given(gates(), finite, maybe, st.floats(min_value=0, max_value=1e6))
def test_improving_the_challenger_never_turns_pass_into_fail(
    gate: G, challenger: float, champion: float | None, step: float
) -> None:
    # A bound on the better side (max for higher-is-better) is a deliberate ceiling:
    # leave it out, every other bound is monotone.
    if METRICS[gate.metric].higher_is_better:
        gate = G(gate.metric, gate.min, None, gate.min_delta)
    else:
        gate = G(gate.metric, None, gate.max, gate.min_delta)
    better = _toward_better(gate.metric, challenger, step)
    if check(gate, challenger, champion).passed:
        assert check(gate, better, champion).passed


@given(gates(), finite, maybe, st.floats(min_value=0, max_value=1e6))
def test_a_better_champion_never_makes_the_challenger_pass(
    gate: G, challenger: float, champion: float | None, step: float
) -> None:
    assume(champion is not None)
    assert champion is not None
    stronger = _toward_better(gate.metric, champion, step)
    if not check(gate, challenger, champion).passed:
        assert not check(gate, challenger, stronger).passed


@given(finite, maybe, maybe, maybe, maybe)
def test_negating_a_metric_and_flipping_its_direction_gives_the_same_verdict(
    value: float,
    low: float | None,
    high: float | None,
    min_delta: float | None,
    champion: float | None,
) -> None:
    if low is not None and high is not None and low > high:
        low, high = high, low
    higher = G("r2", low, high, min_delta)  # higher is better
    lower = G(  # the same gate on -r2, a lower-is-better metric
        "rmse",
        -high if high is not None else None,
        -low if low is not None else None,
        min_delta,
    )
    negated_champion = -champion if champion is not None else None
    assert check(higher, value, champion).passed == check(lower, -value, negated_champion).passed


@given(metrics, st.floats(allow_nan=False, allow_infinity=False), finite)
def test_a_delta_only_gate_without_champion_passes_any_finite_value(
    metric: str, value: float, min_delta: float
) -> None:
    assert check(G(metric, min_delta=min_delta), value, None).passed
    assert check(G(metric, min_delta=min_delta), value, NAN).passed


@given(gates(), st.sampled_from([NAN, INF, -INF, None]), maybe)
def test_a_challenger_value_that_cannot_be_computed_always_fails(
    gate: G, challenger: float | None, champion: float | None
) -> None:
    result = check(gate, challenger, champion)
    assert not result.passed
    assert result.reasons


@given(metrics, st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), maybe)
def test_differences_below_the_tolerance_are_ties(
    metric: str, champion: float, min_delta: float | None
) -> None:
    noise = TOLERANCE / 2
    worse = _toward_better(metric, champion, -noise)
    assert check(G(metric, min_delta=0.0), worse, champion).passed
    assert check(G(metric, min=worse + noise), worse, None).passed
    clearly_worse = _toward_better(metric, champion, -max(1e-6, abs(champion) * 1e-9))
    assert not check(G(metric, min_delta=0.0), clearly_worse, champion).passed


@given(st.lists(gates(), min_size=1, max_size=5), st.data())
def test_decide_passes_exactly_when_every_check_passes(
    gate_list: list[G], data: st.DataObject
) -> None:
    challenger = {g.metric: data.draw(maybe_nan) for g in gate_list}
    per_metric = st.fixed_dictionaries({g.metric: maybe_nan for g in gate_list})
    champion = data.draw(st.none() | per_metric)
    verdict = decide(challenger, champion, gate_list)
    assert verdict.passed == all(c.passed for c in verdict.checks)
    assert len(verdict.checks) == len(gate_list)
    assert verdict.passed == all(
        check(g, challenger[g.metric], (champion or {}).get(g.metric)).passed for g in gate_list
    )
