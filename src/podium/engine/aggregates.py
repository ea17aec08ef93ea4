"""Evaluation metrics from aggregates, for any engine that scores rows where they live
(Spark's grouping sets, SQL's streamed chunks): confusion counts, regression sums and a
histogram of scores by class are all a metric needs — never the rows.

- accuracy, precision, recall, F1 from (true, predicted) counts: exact;
- RMSE, MAE, R² from Σ(y−ŷ)², Σ|y−ŷ| and the target's variance: exact;
- ROC AUC from per-bin counts of positive and negative rows: within a bound computed
  from the same histogram (`auc_from_histogram`).
"""

from __future__ import annotations

import math

AUC_BINS = 10_000  # histogram bins for ROC AUC (divided among classes for multiclass)
SAMPLE_ROWS = 20_000  # the seeded sample behind the bootstrap, importance and latency
EPS = 2.220446049250313e-16  # float64 eps: log loss clips probabilities as sklearn does
AUC_BOUND = "__auc_bound"  # carried beside the metrics, taken out before they are written


def bins_for(classes: int) -> int:
    """Histogram bins per class: `AUC_BINS` for a binary classifier, shared among the
    classes (at least 100 each) for multiclass."""
    return AUC_BINS if classes == 2 else max(100, AUC_BINS // max(classes, 1))


def auc_from_histogram(
    pos: list[int], neg: list[int], tied: list[bool] | None = None
) -> tuple[float, float]:
    """(ROC AUC, its error bound) from per-bin counts of positive and negative rows.

    Pairs in different bins are ordered by their bins, pairs in one bin count ½: the
    exact AUC lies within Σ pos_b·neg_b / (2·P·N) of the value — summed over the bins
    whose scores differ (`tied[b]`: all of bin b's scores are one value, so its pairs
    are exact ties and add no uncertainty: tree models' few distinct scores).
    """
    total_pos, total_neg = sum(pos), sum(neg)
    if total_pos == 0 or total_neg == 0:
        return math.nan, 0.0
    below = 0  # negatives in lower bins
    wins = 0.0
    ties = 0
    for index, (p, n) in enumerate(zip(pos, neg, strict=True)):
        wins += p * below + 0.5 * p * n
        if not (tied and tied[index]):
            ties += p * n
        below += n
    pairs = total_pos * total_neg
    return wins / pairs, ties / (2 * pairs)


def label_metrics(pairs: dict[tuple[str, str], int]) -> dict[str, float]:
    """accuracy and macro precision/recall/F1 (zero_division=0) from (true, predicted)
    counts — sklearn's definitions over the labels either side names."""
    labels = sorted({y for y, _ in pairs} | {p for _, p in pairs})
    total = sum(pairs.values())
    correct = sum(n for (y, p), n in pairs.items() if y == p)
    precision, recall, f1 = [], [], []
    for label in labels:
        tp = pairs.get((label, label), 0)
        predicted = sum(n for (_, p), n in pairs.items() if p == label)
        actual = sum(n for (y, _), n in pairs.items() if y == label)
        precision.append(tp / predicted if predicted else 0.0)
        recall.append(tp / actual if actual else 0.0)
        denominator = predicted + actual
        f1.append(2 * tp / denominator if denominator else 0.0)
    count = len(labels)
    return {
        "accuracy": correct / total,
        "f1": sum(f1) / count,
        "precision": sum(precision) / count,
        "recall": sum(recall) / count,
    }


def regression_metrics(rows: int, sse: float, sae: float, variance: float) -> dict[str, float]:
    """RMSE, MAE and R² from the row count, Σ(y−ŷ)², Σ|y−ŷ| and the target's variance."""
    total = variance * rows
    if rows < 2:
        r2 = math.nan
    elif total == 0:
        r2 = 1.0 if sse == 0 else 0.0  # sklearn's force_finite
    else:
        r2 = 1 - sse / total
    return {"rmse": math.sqrt(sse / rows), "mae": sae / rows, "r2": r2}
