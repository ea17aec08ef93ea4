"""Slices, pure: cutting, per-slice and cross-slice judging, the family-wise guard."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from podium.config import Gate
from podium.errors import DataError
from podium.scoring import Outputs
from podium.slices import Binned, SliceScore, cells, evaluate_slices, judge, summary


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], size=n),
            "age": rng.integers(18, 90, size=n).astype(float),
            "id": np.arange(n),
        }
    )


def test_cells_cut_by_value_by_bins_and_crossed_in_order() -> None:
    frame = _frame()
    frame.loc[0, "age"] = np.nan
    found = cells(
        frame,
        ["region", Binned(column="age", bins=[0, 30, 60, 90]), ["region", "age"]],
        where="podium.yaml",
    )
    labels = [c.label for c in found if c.slicing == "age"]
    assert labels == ["age=[0, 30)", "age=[30, 60)", "age=[60, 90]", "age=(missing)"]
    assert sum(len(c.rows) for c in found if c.slicing == "region") == len(frame)
    crossed = [c for c in found if c.slicing == "region × age"]
    assert crossed[0].label.startswith("region=east, age=")
    for cell in found:  # every row of a cell has the cell's value
        if cell.slicing == "region":
            assert set(frame["region"].iloc[cell.rows]) == {cell.label.split("=")[1]}


def test_bins_that_do_not_cover_the_data_name_the_key_and_the_fix() -> None:
    with pytest.raises(DataError, match=r"podium.yaml: slices\[0\]: .* outside the bins"):
        cells(_frame(), [Binned(column="age", bins=[20, 50])], where="podium.yaml")


def test_bins_on_a_text_column_name_the_column_in_the_fix() -> None:
    with pytest.raises(DataError) as raised:
        cells(_frame(), [Binned(column="region", bins=[0, 1])], where="podium.yaml")
    assert "column 'region' has non-numeric values" in str(raised.value)
    assert "slice it by name instead (slices: [..., region])" in str(raised.value)


def test_a_slicing_that_explodes_into_thousands_of_cells_is_refused() -> None:
    with pytest.raises(DataError) as raised:
        cells(_frame(), ["region", ["id", "region"]], where="podium.yaml")
    assert "slices[1] (id × region) cuts the evaluation data into 2,000 slices" in str(raised.value)
    assert "slice by fewer or coarser columns" in str(raised.value)


def _outputs(y: np.ndarray, right: np.ndarray) -> Outputs:
    predicted = np.where(right, y, 1 - y)
    proba = np.column_stack([1 - predicted * 0.8 - 0.1, predicted * 0.8 + 0.1])
    return Outputs(predicted=predicted, proba=proba, classes=[0, 1])


def _planted(plant: float, n: int = 4000) -> dict[str, Any]:
    """Champion right on 75% of rows everywhere; challenger on 85%, except `plant` in south."""
    frame = _frame(n)
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=n)
    south = (frame["region"] == "south").to_numpy()
    champion = rng.uniform(size=n) < 0.75
    challenger = rng.uniform(size=n) < np.where(south, plant, 0.85)
    return {
        "frame": frame,
        "task": "classification",
        "target": pd.Series(y),
        "challenger": _outputs(y, challenger),
        "champion": _outputs(y, champion),
        "where": "podium.yaml",
    }


def test_a_significant_per_slice_gate_fails_only_a_real_regression_family_wise() -> None:
    significant = Gate(metric="accuracy", significant=True, per_slice={"min_delta": -0.02})
    found = evaluate_slices(
        specs=["region"], gates=[significant], min_rows=30, **_planted(plant=0.6)
    )
    assert not found.passed
    assert [s.slice for s in found.slices if s.passed is False] == ["region=south"]
    assert "significantly (Holm-adjusted p" in found.failures[0]
    assert "Holm over the 4 gated slices" in found.guard
    passing = evaluate_slices(
        specs=["region"], gates=[significant], min_rows=30, **_planted(plant=0.85)
    )
    assert passing.passed


def test_the_family_wise_correction_keeps_noise_from_failing_many_small_slices() -> None:
    """No real difference anywhere (same accuracy), 200 small slices: on point estimates
    many slices 'regress' by chance; Holm keeps the false alarms at (about) none."""
    n = 8000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"cell": rng.integers(0, 200, size=n)})
    y = rng.integers(0, 2, size=n)
    inputs = {
        "frame": frame,
        "task": "classification",
        "target": pd.Series(y),
        "challenger": _outputs(y, rng.uniform(size=n) < 0.8),
        "champion": _outputs(y, rng.uniform(size=n) < 0.8),
        "where": "podium.yaml",
    }
    bounds = {"per_slice": {"min_delta": -0.05}}
    naive = evaluate_slices(
        specs=["cell"], gates=[Gate(metric="accuracy", **bounds)], min_rows=20, **inputs
    )
    careful = evaluate_slices(
        specs=["cell"],
        gates=[Gate(metric="accuracy", significant=True, **bounds)],
        min_rows=20,
        **inputs,
    )
    assert sum(s.passed is False for s in naive.slices) > 20
    assert sum(s.passed is False for s in careful.slices) == 0


def _score(label: str, rows: int, chal: float, champ: float) -> SliceScore:
    return SliceScore("region", label, rows, {"recall": chal}, {"recall": champ})


def test_gap_and_ratio_across_slices_and_not_wider_than_the_champions() -> None:
    scores = [
        _score("region=north", 100, 0.80, 0.70),
        _score("region=south", 100, 0.60, 0.65),
        _score("region=east", 10, 0.10, 0.70),  # too small: not in the gap
    ]
    gate = Gate(metric="recall", max_slice_gap=0.15, min_slice_ratio=0.8, slice_gap_not_wider=True)
    judged = judge(scores, [gate], min_rows=30)
    (gap,) = judged.gaps
    assert (gap["best"], gap["worst"]) == ("region=north", "region=south")
    assert gap["gap"] == pytest.approx(0.2) and gap["ratio"] == pytest.approx(0.75)
    assert gap["champion_gap"] == pytest.approx(0.05)
    assert len(gap["reasons"]) == 3 and not judged.passed
    assert (
        "recall differs by 0.2 across region: region=north 0.8 vs region=south 0.6"
        in (gap["reasons"][0])
    )
    loose = Gate(metric="recall", max_slice_gap=0.25)
    assert judge(scores, [loose], min_rows=30).passed


def test_the_verdict_names_the_worst_few_and_counts_the_rest() -> None:
    reasons = [f"f1 regresses by 0.1 for region=r{i} (n=50)" for i in range(10)]
    said = summary(reasons)
    assert said.count("regresses") == 3 and said.endswith("and 7 more slice failures")


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_counted_label_metrics_equal_sklearns(classes: int) -> None:
    from sklearn import metrics as skm

    from podium.slices import label_metrics

    rng = np.random.default_rng(classes)
    y = rng.integers(0, classes, size=300)
    p = np.where(rng.uniform(size=300) < 0.6, y, rng.integers(0, classes + 1, size=300))
    found = label_metrics(pd.Series(y), p)
    assert found is not None
    assert found["accuracy"] == pytest.approx(skm.accuracy_score(y, p), abs=1e-12)
    for name, scorer in (
        ("f1", skm.f1_score),
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
    ):
        expected = scorer(y, p, average="macro", zero_division=0)
        assert found[name] == pytest.approx(expected, abs=1e-12)


def test_counted_auc_and_log_loss_equal_sklearns() -> None:
    from sklearn import metrics as skm

    from podium.slices import score_metrics

    rng = np.random.default_rng(5)
    y = np.array(["no", "yes"])[rng.integers(0, 2, size=400)]
    score = np.round(rng.uniform(size=400), 2)  # ties on purpose
    score[:3] = [0.0, 1.0, 1.0]  # clipped for the log
    proba = np.column_stack([1 - score, score])
    found = score_metrics(Outputs(predicted=y, proba=proba, classes=["no", "yes"]), pd.Series(y))
    assert found is not None
    assert found["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", score), abs=1e-12)
    expected = skm.log_loss(y, proba, labels=["no", "yes"])
    assert found["log_loss"] == pytest.approx(expected, rel=1e-9)


def test_regression_slices_score_and_bootstrap_the_error() -> None:
    n = 3000
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"region": rng.choice(["a", "b"], size=n)})
    y = rng.normal(size=n)
    worse_in_b = np.where(frame["region"] == "b", 1.0, 0.2)
    found = evaluate_slices(
        specs=["region"],
        gates=[Gate(metric="rmse", per_slice={"min_delta": -0.1})],
        min_rows=30,
        frame=frame,
        task="regression",
        target=pd.Series(y),
        challenger=Outputs(predicted=y + rng.normal(scale=worse_in_b, size=n)),
        champion=Outputs(predicted=y + rng.normal(scale=0.5, size=n)),
        where="podium.yaml",
    )
    worst, best = found.slices
    assert (worst.slice, worst.passed, best.passed) == ("region=b", False, True)
    assert "rmse regresses by 0.5 for region=b" in found.failures[0]
    interval = worst.intervals["rmse"]
    assert interval.low > 0.4  # the challenger's error is clearly larger in b


def test_all_slicings_together_are_bounded_too() -> None:
    frame = pd.DataFrame({f"c{i}": np.arange(12_000) % 900 for i in range(12)})
    with pytest.raises(
        DataError, match=r"slices\[11\]: .* 10,800 slices \(at most 10,000 in all\)"
    ):
        cells(frame, [f"c{i}" for i in range(12)], where="podium.yaml")
