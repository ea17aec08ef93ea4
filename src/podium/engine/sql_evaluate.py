"""`podium evaluate` on an in-database SQL eval source: rows streamed, metrics from aggregates.

The evaluation rows stream from the database in chunks of `sql.CHUNK_ROWS`; each chunk is
scored by both models on the runner and folded into the aggregates the Spark path uses
(`podium.engine.aggregates`): confusion counts, log-loss sums, regression sums and a
histogram of scores by class. Runner memory is one chunk plus the sample, whatever the
table's size. What is exact and what is not (evaluation.json's `computed`):
- accuracy, precision, recall, F1, log loss, RMSE, MAE, R²: exact over every row;
- ROC AUC: from the histogram, within the bound printed beside it;
- the paired bootstrap, permutation importance and latency: on a seeded sample of at most
  `SAMPLE_ROWS` rows (those whose content hashes lowest: the same rows for both models,
  whatever the database's row order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium import data
from podium.engine import aggregates, sql
from podium.engine.aggregates import AUC_BOUND, EPS, SAMPLE_ROWS
from podium.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from podium.config import Config
    from podium.registry import Registry, Version
    from podium.results import Computation, ModelScore


@dataclass
class _Tally:
    """One model's aggregates over the chunks scored so far."""

    version: Version
    types: dict[str, str] | None
    model: Any = None
    classes: list[Any] | None = None
    error: str | None = None
    size_mb: float | None = None
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    log_loss: float = 0.0
    unknown: int = 0  # rows whose label is not one of the model's classes
    no_proba: int = 0  # rows scored without class probabilities
    histograms: dict[int, list[np.ndarray]] = field(default_factory=dict)  # pos, neg, lo, hi
    rows: int = 0
    sse: float = 0.0
    sae: float = 0.0


@dataclass
class Spread:
    """The target's row count, mean and sum of squared deviations, merged chunk by chunk
    (Chan et al.'s parallel update: no catastrophic cancellation of Σy² − n·ȳ²)."""

    rows: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, values: np.ndarray) -> None:
        count = len(values)
        if not count:
            return
        chunk_mean = float(values.mean())
        chunk_m2 = float(((values - chunk_mean) ** 2).sum())
        delta, merged = chunk_mean - self.mean, self.rows + count
        self.m2 += chunk_m2 + delta * delta * self.rows * count / merged
        self.mean += delta * count / merged
        self.rows = merged

    @property
    def variance(self) -> float:
        return self.m2 / self.rows if self.rows else 0.0


def score_both(
    *,
    config: Config,
    registry: Registry,
    challenger_version: Version,
    champion_version: Version | None,
    challenger_types: dict[str, str],
) -> tuple[sql.SqlTable, tuple[ModelScore, Any], tuple[ModelScore, Any] | None, Computation]:
    """Score the challenger (and champion) on data.eval, streamed from the database.

    Returns what `spark_evaluate.score_both` does: the table, (ModelScore, in-memory
    scoring on the sample) per model, and how each number was computed. The challenger's
    unusable eval data is exit 2; the champion's problems are recorded on its score.
    """
    from podium.registry import read_feature_types

    spec = config.data
    task = config.model.task
    from podium.config import TableSource

    source = config.resolve(spec.eval)
    assert isinstance(source, TableSource)
    table = sql.read(source, label="data.eval")
    tallies = [_Tally(challenger_version, challenger_types)]
    if champion_version is not None:
        tallies.append(_Tally(champion_version, read_feature_types(champion_version.tags)))
    for index, tally in enumerate(tallies):
        try:
            prepared = sql.prepare(
                table,
                target=spec.target,
                task=task,
                features=spec.features,
                exclude=spec.exclude,
                expected_types=tally.types,
            )
        except DataError as exc:
            if index == 0:
                raise
            tally.error = str(exc)
            continue
        tally.types = prepared.feature_types
        tally.model = registry.load_model(tally.version)
        tally.size_mb = registry.model_size_mb(tally.version)
        classes = getattr(tally.model, "classes_", None)
        tally.classes = list(classes) if classes is not None else None
    ready = [t for t in tallies if t.error is None]
    target = spec.target
    spread = Spread()  # the target's, for R²
    reservoir = sql.Reservoir(SAMPLE_ROWS, key="podium-eval-sample")
    for chunk in sql.chunks(table):
        chunk = chunk[chunk[target].notna()]
        if chunk.empty:
            continue
        reservoir.add(chunk)
        y = _target(chunk[target], task)
        if task == "regression":
            spread.add(y.to_numpy(dtype=float))
        for tally in ready:
            if tally.error is None:
                _fold(tally, chunk, y, task)
    sample = reservoir.frame()
    outcomes: list[tuple[ModelScore, Any] | None] = []
    for index, tally in enumerate(tallies):
        if index == 0 and tally.error is not None:
            raise DataError(f"{table.path}: {tally.error}")
        outcomes.append(_outcome(tally, sample, config, registry, spread))
    first = outcomes[0]
    assert first is not None
    computed = _computation(_labelled(tallies, spread.rows, task), tallies, len(sample), task)
    return table, first, outcomes[1] if len(outcomes) > 1 else None, computed


def _labelled(tallies: list[_Tally], total: int, task: str) -> int:
    if task == "regression":
        return total
    return max((sum(t.pairs.values()) for t in tallies if t.error is None), default=0)


def _target(y: pd.Series, task: str) -> pd.Series:
    """The target as `data.prepare` makes it: floats for regression, else labels with
    integral floats as ints (so '1' and 1.0 agree)."""
    if task == "regression":
        return y.astype(float)
    return data.normalise_labels(y)


def _features(chunk: pd.DataFrame, types: dict[str, str], path: str) -> pd.DataFrame:
    """A chunk's features as at training time; a column empty in this chunk only is fine
    (the whole table was checked in the database)."""
    table = data.Table(path=path, frame=chunk, sha256="0" * 64)
    return data.features_like(table, types, label="data.eval")


def _fold(tally: _Tally, chunk: pd.DataFrame, y: pd.Series, task: str) -> None:
    """Score one chunk with one model and add it to the model's aggregates."""
    import numpy as np

    from podium.scoring import predict

    assert tally.types is not None
    try:
        outputs = predict(tally.model, _features(chunk, tally.types, "data.eval"), task)
    except (DataError, ValueError, TypeError, KeyError, AttributeError) as exc:
        text = str(exc).strip()
        tally.error = text.splitlines()[0] if text else type(exc).__name__
        return
    if task == "regression":
        predicted = np.asarray(outputs.predicted, dtype=float)
        errors = y.to_numpy(dtype=float) - predicted
        tally.rows += len(errors)
        tally.sse += float((errors**2).sum())
        tally.sae += float(np.abs(errors).sum())
        return
    truth = [str(v) for v in y.tolist()]
    said = [str(v) for v in np.asarray(outputs.predicted).tolist()]
    for pair in zip(truth, said, strict=True):
        tally.pairs[pair] = tally.pairs.get(pair, 0) + 1
    classes = [str(c) for c in tally.classes or []]
    proba = outputs.proba
    if proba is None or not classes:
        tally.no_proba += len(truth)
        return
    proba = np.asarray(proba, dtype=float)
    position = {c: i for i, c in enumerate(classes)}
    where = np.array([position.get(t, -1) for t in truth])
    tally.unknown += int((where < 0).sum())
    known = where >= 0
    picked = proba[np.flatnonzero(known), where[known]]
    tally.log_loss += float(-np.log(np.clip(picked, EPS, 1 - EPS)).sum())
    used = [1] if len(classes) == 2 else list(range(len(classes)))
    count = aggregates.bins_for(len(classes))
    for c in used:
        scores = proba[:, c]
        usable = ~np.isnan(scores)
        bucket = np.minimum(np.floor(scores[usable] * count), count - 1).astype(int)
        bucket = np.maximum(bucket, 0)
        positive = (where == c)[usable]
        pos, neg, low, high = tally.histograms.setdefault(
            c,
            [
                np.zeros(count, dtype=np.int64),
                np.zeros(count, dtype=np.int64),
                np.full(count, np.inf),
                np.full(count, -np.inf),
            ],
        )
        np.add.at(pos, bucket[positive], 1)
        np.add.at(neg, bucket[~positive], 1)
        np.minimum.at(low, bucket, scores[usable])
        np.maximum.at(high, bucket, scores[usable])


def _metrics(tally: _Tally, task: str, spread: Spread) -> dict[str, float]:
    if task == "regression":
        return aggregates.regression_metrics(tally.rows, tally.sse, tally.sae, spread.variance)
    metrics = aggregates.label_metrics(tally.pairs)
    rows = sum(tally.pairs.values())
    classes = [str(c) for c in tally.classes or []]
    usable = classes and not tally.unknown and not tally.no_proba
    metrics["log_loss"] = tally.log_loss / rows if usable else math.nan
    metrics["roc_auc"] = math.nan
    present = {y for y, _ in tally.pairs}
    if len(present) >= 2 and classes and not tally.no_proba:

        def auc(c: int) -> tuple[float, float]:
            pos, neg, low, high = tally.histograms[c]
            tied = [bool(lo == hi) for lo, hi in zip(low.tolist(), high.tolist(), strict=True)]
            return aggregates.auc_from_histogram(pos.tolist(), neg.tolist(), tied)

        if len(classes) == 2:
            metrics["roc_auc"], metrics[AUC_BOUND] = auc(1)
        elif present == set(classes):
            each = [auc(c) for c in range(len(classes))]
            metrics["roc_auc"] = sum(a for a, _ in each) / len(each)
            metrics[AUC_BOUND] = sum(b for _, b in each) / len(each)
    return metrics


def _outcome(
    tally: _Tally,
    sample: pd.DataFrame,
    config: Config,
    registry: Registry,
    spread: Spread,
) -> tuple[ModelScore, Any] | None:
    from podium.resources import version_costs
    from podium.results import ModelScore
    from podium.scoring import InMemoryScoring, latency_ms_per_1k, predict

    version = tally.version
    if tally.error is not None:
        return ModelScore(version=version.version, run_id=version.run_id, error=tally.error), None
    task = config.model.task
    metrics = _metrics(tally, task, spread)
    assert tally.types is not None
    features = _features(sample, tally.types, "data.eval")
    target = _target(sample[config.data.target], task)
    outputs = predict(tally.model, features, task)
    metrics["latency_ms"] = latency_ms_per_1k(tally.model, features)
    if tally.size_mb is not None:
        metrics["model_size_mb"] = tally.size_mb
    cost = config.raw.metrics.cost_per_cpu_hour
    metrics.update(version_costs(registry, version, tally.model, features, cost))
    kept = {k: v for k, v in metrics.items() if k != AUC_BOUND}
    scoring = InMemoryScoring(tally.model, features, target, outputs, kept)
    scored: dict[str, float | None] = dict(kept)
    return ModelScore(version=version.version, run_id=version.run_id, metrics=scored), scoring


def _computation(rows: int, tallies: list[_Tally], sample_rows: int, task: str) -> Computation:
    from podium.results import Computation

    exact = ["rmse", "mae", "r2"] if task == "regression" else [
        "accuracy", "f1", "precision", "recall", "log_loss",
    ]  # fmt: skip
    approximate: dict[str, str] = {}
    if task != "regression":
        bounds = []
        for tally in tallies:
            if tally.error is None and tally.histograms:
                found = _metrics(tally, task, Spread()).get(AUC_BOUND)
                if found is not None:
                    bounds.append(found)
        if bounds:
            approximate["roc_auc"] = (
                f"from a {aggregates.AUC_BINS:,}-bin histogram of scores by class; within "
                f"±{max(bounds):.2e} of the exact value (pairs sharing a bin counted as ties)"
            )
    return Computation(
        engine="sql",
        rows=rows,
        exact=[*exact, "model_size_mb"],
        approximate=approximate,
        sample_rows=sample_rows,
        sampled=["bootstrap intervals", "permutation importance", "latency_ms"],
    )
