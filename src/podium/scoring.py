"""The metrics podium computes — every fact about each in one table — and the scoring.

`METRICS` is the one home of what podium knows about a metric: the direction in which
it is better, its unit, the short label tables show, whether the paired bootstrap can
resample it, whether it lies on a 0..1 scale (the report charts only those), and which
metric is each task's primary one (the default gate). Config validation, the gates,
the bootstrap, monitoring and the report all read it.

The table is import-light (no sklearn, numpy or pandas) because config validation
needs it; scoring imports scikit-learn lazily.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

# A value within this of a bound is at the bound: differences this small are float noise
# (0.1 + 0.2 - 0.3; a third written as 0.333333333333333), not regressions or breaches.
# Gates, the drift judgement and monitoring all compare with it.
TOLERANCE = 1e-12

if TYPE_CHECKING:
    import pandas as pd

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    """Everything podium knows about one metric."""

    name: str
    direction: Direction  # the direction in which it is better
    tasks: frozenset[str]  # the tasks it applies to
    description: str  # what it measures, in words
    label: str  # short, as a table row names it: 'latency (ms / 1k rows)'
    unit: str = ""  # "" for a unitless score
    # Computed per evaluation row, so the paired bootstrap can resample it (latency and
    # model size are measured once per model).
    bootstrapped: bool = True
    zero_to_one: bool = False  # a score on a 0..1 scale: the report charts these together
    primary: bool = False  # its task's primary metric: the default gate must not regress it

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


_CLS = frozenset({"classification"})
_REG = frozenset({"regression"})
_BOTH = _CLS | _REG

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "roc_auc",
            "higher",
            _CLS,
            "ROC AUC (one-vs-rest macro for multiclass)",
            "roc_auc",
            zero_to_one=True,
        ),
        Metric("accuracy", "higher", _CLS, "accuracy", "accuracy", zero_to_one=True),
        Metric("f1", "higher", _CLS, "F1 (macro)", "f1", zero_to_one=True, primary=True),
        Metric("precision", "higher", _CLS, "precision (macro)", "precision", zero_to_one=True),
        Metric("recall", "higher", _CLS, "recall (macro)", "recall", zero_to_one=True),
        Metric("log_loss", "lower", _CLS, "log loss", "log_loss"),
        Metric("rmse", "lower", _REG, "root mean squared error", "rmse", primary=True),
        Metric("mae", "lower", _REG, "mean absolute error", "mae"),
        # R² is at most 1 but can be negative; the chart shows it only when within 0..1.
        Metric("r2", "higher", _REG, "R²", "r2", zero_to_one=True),
        Metric(
            "latency_ms",
            "lower",
            _BOTH,
            "prediction latency, ms per 1,000 rows (median)",
            "latency (ms / 1k rows)",
            unit="ms per 1,000 rows",
            bootstrapped=False,
        ),
        Metric(
            "model_size_mb",
            "lower",
            _BOTH,
            "model size: the bytes of its MLflow model artifacts, MB",
            "model size (MB)",
            unit="MB",
            bootstrapped=False,
        ),
        # Resource use (podium.resources): logged by `podium train`, read back by evaluate.
        Metric(
            "fit_seconds",
            "lower",
            _BOTH,
            "training wall time, seconds",
            "training time (s)",
            unit="s",
            bootstrapped=False,
        ),
        Metric(
            "fit_cpu_seconds",
            "lower",
            _BOTH,
            "training CPU time (this process and its children), seconds",
            "training CPU (s)",
            unit="CPU s",
            bootstrapped=False,
        ),
        Metric(
            "fit_peak_memory_mb",
            "lower",
            _BOTH,
            "peak memory the training needed, MB",
            "training peak memory (MB)",
            unit="MB",
            bootstrapped=False,
        ),
        Metric(
            "fit_cost",
            "lower",
            _BOTH,
            "training cost: CPU hours × metrics.cost_per_cpu_hour",
            "training cost",
            unit="per metrics.cost_per_cpu_hour",
            bootstrapped=False,
        ),
        Metric(
            "predict_memory_mb",
            "lower",
            _BOTH,
            "peak memory allocated predicting 1,000 rows, MB",
            "prediction memory (MB / 1k rows)",
            unit="MB per 1,000 rows",
            bootstrapped=False,
        ),
        # The serving check (podium.serving): the candidate behind MLflow's scoring server.
        Metric(
            "serving_parity",
            "higher",
            _BOTH,
            "share of probe rows the scoring server answered as podium predicted in-process",
            "serving parity (share)",
            unit="share of rows",
            bootstrapped=False,  # a share, but not a quality score: kept out of the chart
        ),
        Metric(
            "serving_latency_ms",
            "lower",
            _BOTH,
            "p95 latency of one request of the probe rows to the scoring server, ms",
            "serving latency (ms p95)",
            unit="ms",
            bootstrapped=False,
        ),
    )
}

# Metrics the paired bootstrap can resample (read from the table).
BOOTSTRAPPED = frozenset(name for name, m in METRICS.items() if m.bootstrapped)


@dataclass(frozen=True)
class Outputs:
    """What one model said about each evaluation row (same rows, same order as the target)."""

    predicted: Any  # (n,) predicted labels (classification) or values (regression)
    proba: Any = None  # (n, k) class probabilities, columns in `classes` order
    decision: Any = None  # (n,) decision function (binary classifiers without probabilities)
    classes: Sequence[Any] | None = None  # the model's classes_


def primary_metric(task: str) -> str:
    """The task's primary metric: what the default gate keeps from regressing."""
    return next(m.name for m in METRICS.values() if m.primary and task in m.tasks)


def metric_names_for(task: str) -> set[str]:
    """The metrics that apply to `task`."""
    return {name for name, m in METRICS.items() if task in m.tasks}


def improvement(metric: str, challenger: float, champion: float) -> float:
    """Challenger minus champion, signed so that positive always means better."""
    delta = challenger - champion
    return delta if METRICS[metric].higher_is_better else -delta


def predict(model: Any, features: pd.DataFrame, task: str) -> Outputs:
    """What a fitted model says about each row: labels/values, and class scores if any."""
    import numpy as np

    own = getattr(model, "podium_outputs", None)
    if callable(own):  # any flavor, through pyfunc (predictions.as_estimator): one call
        found = own(features)
        assert isinstance(found, Outputs)
        return found
    if task == "regression":
        return Outputs(predicted=np.asarray(model.predict(features), dtype=float))
    classes = list(getattr(model, "classes_", []))
    proba = _proba(model, features)
    predicted = _labels_from_proba(model, features, proba)
    if predicted is None:
        predicted = model.predict(features)
    decision = _decision(model, features) if proba is None and len(classes) == 2 else None
    return Outputs(predicted=predicted, proba=proba, decision=decision, classes=classes)


# Classifiers whose `predict` is the argmax of scores that `predict_proba` transforms
# monotonically (sklearn 1.x source): their labels follow from the probabilities, which
# spares a second pass over the data. Exact types only: a subclass may predict otherwise.
_ARGMAX_CLASSIFIERS = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.linear_model._logistic.LogisticRegression",
    }
)
_TIE = 1e-9  # top two probabilities closer than this: ask `predict` (rounding could decide)


def _labels_from_proba(model: Any, features: pd.DataFrame, proba: Any) -> Any:
    """`model.predict(features)` computed from `proba` when that is provably the same:
    argmax of the probabilities for a known classifier, `predict` itself for near-ties.
    None when the model is not one of those (the caller calls `predict`)."""
    import numpy as np

    final = model
    while hasattr(final, "steps") and type(final).__name__ == "Pipeline":
        final = final.steps[-1][1]
    kind = f"{type(final).__module__}.{type(final).__qualname__}"
    classes = getattr(model, "classes_", None)
    if kind not in _ARGMAX_CLASSIFIERS or proba is None or classes is None:
        return None
    classes = np.asarray(classes)
    proba = np.asarray(proba, dtype=float)
    if classes.ndim != 1 or proba.ndim != 2 or proba.shape[1] != len(classes):
        return None
    predicted = classes.take(np.argmax(proba, axis=1))
    if proba.shape[1] >= 2:
        top_two = np.sort(proba, axis=1)[:, -2:]
        close = np.flatnonzero(top_two[:, 1] - top_two[:, 0] < _TIE)
        if len(close):
            predicted[close] = model.predict(features.iloc[close])
    return predicted


def score(model: Any, features: pd.DataFrame, target: pd.Series, task: str) -> dict[str, float]:
    """Quality metrics of a fitted model on evaluation data (NaN where undefined)."""
    return score_outputs(predict(model, features, task), target, task)


def score_outputs(outputs: Outputs, target: pd.Series, task: str) -> dict[str, float]:
    """Quality metrics from a model's per-row outputs (see `predict`)."""
    import numpy as np
    from sklearn import metrics as skm

    predicted = outputs.predicted
    out: dict[str, float] = {}
    if task == "regression":
        y = np.asarray(target, dtype=float)
        p = np.asarray(predicted, dtype=float)
        out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, p)))
        out["mae"] = float(skm.mean_absolute_error(y, p))
        out["r2"] = float(skm.r2_score(y, p)) if len(y) > 1 else math.nan
        return out

    counted = _label_metrics(target, predicted)
    if counted is not None:
        out.update(counted)
    else:
        out["accuracy"] = float(skm.accuracy_score(target, predicted))
        out["f1"] = float(skm.f1_score(target, predicted, average="macro", zero_division=0))
        out["precision"] = float(
            skm.precision_score(target, predicted, average="macro", zero_division=0)
        )
        out["recall"] = float(skm.recall_score(target, predicted, average="macro", zero_division=0))
    return out | probability_metrics(outputs, target)


# Integer labels spanning more values than this are left to scikit-learn (counting per
# value would need a table as wide as the span).
_MAX_LABEL_SPAN = 1_000_000


def _label_metrics(target: Any, predicted: Any) -> dict[str, float] | None:
    """Accuracy and macro precision, recall and F1 of integer (or boolean) labels, from
    one count of true, predicted and correct rows per label — scikit-learn's own formulas
    and operations (`precision_recall_fscore_support`, zero_division=0), so the same
    floats (tests/test_scoring.py compares them bit for bit), without its five passes of
    label checks and sorting (~0.5 s per million rows). None for any other labels: those
    go to scikit-learn."""
    import numpy as np

    y, p = np.asarray(target), np.asarray(predicted)
    if y.ndim != 1 or p.shape != y.shape or len(y) == 0:
        return None
    if y.dtype.kind not in "biu" or p.dtype.kind not in "biu":
        return None
    y, p = y.astype(np.int64, copy=False), p.astype(np.int64, copy=False)
    low = min(int(y.min()), int(p.min()))
    span = max(int(y.max()), int(p.max())) - low + 1
    if span > _MAX_LABEL_SPAN:
        return None
    right = y == p
    true = np.bincount(y - low, minlength=span)
    found = np.bincount(p - low, minlength=span)
    hits = np.bincount(y[right] - low, minlength=span)
    present = (true + found) > 0  # scikit-learn's labels: those in either
    true, found, hits = true[present], found[present], hits[present]
    return {
        "accuracy": float(np.average(right)),
        "f1": _macro(2.0 * hits.astype(np.float64), true.astype(np.float64) + found),
        "precision": _macro(hits, found),
        "recall": _macro(hits, true),
    }


def _macro(numerator: Any, denominator: Any) -> float:
    """Mean over labels of numerator / denominator, 0 where the denominator is 0."""
    import numpy as np

    empty = denominator == 0
    divided = np.asarray(numerator, dtype=np.float64) / np.where(empty, 1, denominator)
    divided[empty] = 0.0
    return float(np.mean(divided))


def probability_metrics(outputs: Outputs, target: pd.Series) -> dict[str, float]:
    """ROC AUC and log loss of a classifier's scores (NaN where undefined)."""
    import numpy as np
    from sklearn import metrics as skm

    out = {"roc_auc": math.nan, "log_loss": math.nan}
    classes = list(outputs.classes or [])
    present = set(np.unique(np.asarray(target)).tolist())
    proba = outputs.proba
    if not present <= set(classes):
        return out  # a label the model never learned has no score (new in production data)
    if proba is not None and classes:
        out["log_loss"] = float(skm.log_loss(target, proba, labels=classes))
    if len(present) < 2 or not classes:
        return out  # AUC is undefined with one class in the evaluation data
    try:
        if len(classes) == 2:
            pos = proba[:, 1] if proba is not None else outputs.decision
            if pos is not None:
                out["roc_auc"] = float(skm.roc_auc_score(target == classes[1], pos))
        elif proba is not None and present == set(classes):
            out["roc_auc"] = float(
                skm.roc_auc_score(target, proba, multi_class="ovr", average="macro", labels=classes)
            )
    except ValueError:
        out["roc_auc"] = math.nan
    return out


def _proba(model: Any, features: pd.DataFrame) -> Any:
    if not hasattr(model, "predict_proba"):
        return None
    try:
        return model.predict_proba(features)
    except (AttributeError, NotImplementedError):
        return None  # e.g. SVC(probability=False) exposes the method but refuses


def _decision(model: Any, features: pd.DataFrame) -> Any:
    if not hasattr(model, "decision_function"):
        return None
    return model.decision_function(features)


def latency_ms_per_1k(model: Any, features: pd.DataFrame, repeats: int = 7) -> float:
    """Median wall time of single-threaded `predict` over a 1,000-row batch, in milliseconds.

    The batch is the first 1,000 evaluation rows (resampled up when there are fewer),
    so champion and challenger are timed on identical inputs.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    if len(features) == 0:
        return math.nan
    index = np.resize(np.arange(len(features)), 1000)
    batch = features.iloc[index]
    # One thread: comparable across models and machines, and immune to OpenMP/BLAS
    # thread pools spinning against each other on a busy CI runner.
    with threadpool_limits(limits=1):
        model.predict(batch)  # warm-up: first calls pay one-off costs (lazy init, caches)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.predict(batch)
            timings.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(timings))


@dataclass
class InMemoryScoring:
    """A scored model kept in memory for the paired comparisons (never written)."""

    model: Any
    features: Any
    target: Any
    outputs: Any
    metrics: dict[str, float]  # as computed: NaN where a metric is undefined (the file has null)


PREDICTION = "prediction"  # `podium predict`'s column of labels/values


def prediction_frame(
    model: Any, features: pd.DataFrame, task: str, ids: pd.Series | None, id_column: str | None
) -> pd.DataFrame:
    """`podium predict`'s rows for one batch, the same on every engine: the id column (when
    named), `prediction`, and for classifiers one `proba_<class>` column per class."""
    import numpy as np
    import pandas as pd

    found = predict(model, features, task)
    written = pd.DataFrame(index=features.index)
    if id_column is not None and ids is not None:
        written[id_column] = ids.to_numpy()
    written[PREDICTION] = np.asarray(found.predicted)
    if found.proba is not None and found.classes is not None:
        proba = np.asarray(found.proba, dtype=float)
        for index, label in enumerate(found.classes):
            written[f"proba_{label}"] = proba[:, index]
    return written.reset_index(drop=True)
