"""The metric arithmetic of evaluation on Spark, against scikit-learn (no Spark needed)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from podium.engine.spark_evaluate import auc_from_histogram, label_metrics, regression_metrics


def _histogram(scores: np.ndarray, positive: np.ndarray, bins: int) -> tuple[list[int], list[int]]:
    index = np.minimum((scores * bins).astype(int), bins - 1)
    pos = np.bincount(index[positive], minlength=bins)
    neg = np.bincount(index[~positive], minlength=bins)
    return pos.tolist(), neg.tolist()


@pytest.mark.parametrize("bins", [10, 1000, 10_000])
def test_histogram_auc_is_within_its_stated_bound(bins: int) -> None:
    rng = np.random.default_rng(0)
    positive = rng.uniform(size=20_000) < 0.3
    scores = 1 / (1 + np.exp(-(rng.normal(size=20_000) + 1.2 * positive)))
    exact = skm.roc_auc_score(positive, scores)
    auc, bound = auc_from_histogram(*_histogram(scores, positive, bins))
    assert abs(auc - exact) <= bound + 1e-12
    assert bound < 0.5 / bins * 4  # a finer histogram, a tighter bound


def test_histogram_auc_is_exact_when_every_distinct_score_has_its_bin() -> None:
    scores = np.array([0.05, 0.05, 0.35, 0.35, 0.75, 0.95])
    positive = np.array([False, True, False, True, True, False])
    auc, _ = auc_from_histogram(*_histogram(scores, positive, 10))
    assert auc == pytest.approx(skm.roc_auc_score(positive, scores), abs=1e-15)


def test_bins_of_one_value_hold_exact_ties_and_add_no_uncertainty() -> None:
    rng = np.random.default_rng(3)
    scores = rng.choice([0.12, 0.4, 0.4001, 0.9], size=5000)  # a tree's few leaves
    positive = rng.uniform(size=5000) < scores
    pos, neg = _histogram(scores, positive, 10)
    index = np.minimum((scores * 10).astype(int), 9)
    tied = [len(set(scores[index == b])) <= 1 for b in range(10)]
    auc, bound = auc_from_histogram(pos, neg, tied)
    exact = skm.roc_auc_score(positive, scores)
    assert 0 < bound < auc_from_histogram(pos, neg)[1]  # only the bin holding 0.4 and 0.4001
    assert abs(auc - exact) <= bound + 1e-12
    assert auc_from_histogram(*_histogram(scores, positive, 10_000), None)[0] == pytest.approx(
        exact, abs=1e-12
    )


def test_label_metrics_are_sklearns_macro_metrics() -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(["a", "b", "c"], size=5000)
    predicted = np.where(rng.uniform(size=5000) < 0.7, truth, rng.choice(["a", "b", "d"], 5000))
    pairs: dict[tuple[str, str], int] = {}
    for y, p in zip(truth, predicted, strict=True):
        pairs[(str(y), str(p))] = pairs.get((str(y), str(p)), 0) + 1
    found = label_metrics(pairs)
    expected = {
        "accuracy": skm.accuracy_score(truth, predicted),
        "f1": skm.f1_score(truth, predicted, average="macro", zero_division=0),
        "precision": skm.precision_score(truth, predicted, average="macro", zero_division=0),
        "recall": skm.recall_score(truth, predicted, average="macro", zero_division=0),
    }
    assert found == pytest.approx(expected, rel=1e-12)


def test_regression_metrics_from_sums() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=1000)
    p = y + rng.normal(scale=0.3, size=1000)
    found = regression_metrics(
        len(y), float(((y - p) ** 2).sum()), float(abs(y - p).sum()), float(y.var())
    )
    assert found["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)), rel=1e-12)
    assert found["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
    assert found["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-10)
    constant = regression_metrics(3, 0.0, 0.0, 0.0)
    assert constant["r2"] == skm.r2_score([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
