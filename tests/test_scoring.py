"""The metric table against what scoring and the bootstrap actually do, on real models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from podium import scoring
from podium.report.sections import higher_is_better, metric_title
from podium.resources import RESOURCES
from podium.scoring import (
    BOOTSTRAPPED,
    METRICS,
    Outputs,
    improvement,
    metric_names_for,
    predict,
    primary_metric,
    score_outputs,
)
from podium.significance import paired_bootstrap

TASKS = ("classification", "regression")


def _data(task: str) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    signal = 2 * x["a"] - x["b"]
    if task == "classification":
        return x, (signal + rng.normal(scale=0.5, size=400) > 0).astype(int)
    return x, 50 + 10 * signal + rng.normal(scale=2, size=400)


def _good_and_baseline(task: str) -> tuple[object, object, pd.DataFrame, pd.Series]:
    """A model that learned the signal and one that predicts the prior, fitted on the data."""
    x, y = _data(task)
    if task == "classification":
        good: object = LogisticRegression().fit(x, y)
        baseline: object = DummyClassifier(strategy="prior").fit(x, y)
    else:
        good = LinearRegression().fit(x, y)
        baseline = DummyRegressor().fit(x, y)
    return good, baseline, x, y


@pytest.mark.parametrize(("task", "expected"), [("classification", "f1"), ("regression", "rmse")])
def test_each_task_has_one_primary_metric_and_the_bootstrap_can_test_it(
    task: str, expected: str
) -> None:
    primaries = [m.name for m in METRICS.values() if m.primary and task in m.tasks]
    assert primaries == [expected] == [primary_metric(task)]
    assert expected in BOOTSTRAPPED


@pytest.mark.parametrize("task", TASKS)
def test_directions_agree_with_the_scores(task: str) -> None:
    # A model that learned the signal beats one that predicts the prior on every metric,
    # so `improvement` (signed by the table's direction) is positive for each of them.
    good, baseline, x, y = _good_and_baseline(task)
    good_scores = score_outputs(predict(good, x, task), y, task)
    baseline_scores = score_outputs(predict(baseline, x, task), y, task)
    assert set(good_scores) == metric_names_for(task) & BOOTSTRAPPED
    for name, value in good_scores.items():
        assert improvement(name, value, baseline_scores[name]) > 0, name
        assert higher_is_better(name) is METRICS[name].higher_is_better


@pytest.mark.parametrize("task", TASKS)
def test_charted_metrics_lie_on_a_zero_to_one_scale_and_are_better_higher(task: str) -> None:
    good, _, x, y = _good_and_baseline(task)
    scores = score_outputs(predict(good, x, task), y, task)
    charted = [m for m in METRICS.values() if m.zero_to_one and task in m.tasks]
    assert charted
    for metric in charted:
        assert 0.0 <= scores[metric.name] <= 1.0, metric.name
        assert metric.higher_is_better and metric.unit == ""


@pytest.mark.parametrize("task", TASKS)
def test_the_bootstrap_resamples_exactly_the_metrics_the_table_says(task: str) -> None:
    good, baseline, x, y = _good_and_baseline(task)
    names = sorted(metric_names_for(task))
    found = paired_bootstrap(
        names,
        task=task,
        target=y,
        challenger=predict(good, x, task),
        champion=predict(baseline, x, task),
        resamples=50,
    )
    assert set(found.intervals) == {n for n in names if METRICS[n].bootstrapped}
    assert found.skipped == {
        n: "measured once, not per evaluation row" for n in names if not METRICS[n].bootstrapped
    }


def test_measured_once_metrics_carry_their_unit_in_the_short_label() -> None:
    once = {m.name: m for m in METRICS.values() if not m.bootstrapped}
    serving = {"serving_parity", "serving_latency_ms"}  # measured by the serving check
    assert set(once) == {"latency_ms", "model_size_mb"} | RESOURCES | serving
    assert all(m.unit and not m.zero_to_one for m in once.values())
    assert [n for n, m in once.items() if m.higher_is_better] == ["serving_parity"]
    assert metric_title("latency_ms") == "latency (ms / 1k rows)"
    assert metric_title("model_size_mb") == "model size (MB)"
    assert metric_title("roc_auc") == "roc_auc"
    assert metric_title("custom_score") == "custom_score"  # not in the table: as named


@pytest.mark.parametrize(
    "estimator",
    [
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.tree.DecisionTreeClassifier",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.naive_bayes.GaussianNB",  # not known to predict by argmax: asked
    ],
)
@pytest.mark.parametrize("classes", [2, 3])
def test_labels_read_off_the_probabilities_are_what_predict_says(
    estimator: str, classes: int
) -> None:
    import importlib

    import numpy as np
    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.integers(0, 3, 400)})
    labels = np.array(["no", "yes", "maybe"][:classes])
    y = labels[(frame["b"] + (frame["a"] > 0)) % classes]
    module, _, name = estimator.rpartition(".")
    model = make_pipeline(StandardScaler(), getattr(importlib.import_module(module), name)())
    model.fit(frame, y)
    # exact ties too: rows the model cannot tell apart from a 50/50 (or 1/3 each) leaf
    probe = pd.concat([frame, pd.DataFrame({"a": [0.0] * 5, "b": [1] * 5})], ignore_index=True)
    found = predict(model, probe, "classification")
    assert found.predicted.dtype == model.predict(probe).dtype
    assert (found.predicted == model.predict(probe)).all()


@pytest.mark.parametrize("classes", [["low", "mid"], ["high", "low", "mid"]])
def test_a_label_the_model_never_learned_leaves_probability_metrics_undefined(
    classes: list[str],
) -> None:
    # Production outcomes with a new class crashed `podium monitor` inside scikit-learn.
    target = pd.Series([*classes, "vip"])
    proba = np.full((len(target), len(classes)), 1 / len(classes))
    predicted = np.array([classes[0]] * len(target))
    scores = score_outputs(
        Outputs(predicted=predicted, proba=proba, classes=classes), target, "classification"
    )
    assert np.isnan(scores["roc_auc"]) and np.isnan(scores["log_loss"])
    assert scores["accuracy"] == 1 / len(target)  # the label metrics still count every row


def _sklearn_labels(y: Any, p: Any) -> dict[str, float]:
    from sklearn import metrics as skm

    macro = {"average": "macro", "zero_division": 0}
    return {
        "accuracy": float(skm.accuracy_score(y, p)),
        "f1": float(skm.f1_score(y, p, **macro)),
        "precision": float(skm.precision_score(y, p, **macro)),
        "recall": float(skm.recall_score(y, p, **macro)),
    }


@pytest.mark.parametrize("seed", range(40))
def test_label_metrics_are_sklearns_to_the_last_bit(seed: int) -> None:
    # Counted once per label instead of scikit-learn's passes: the very same floats.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    k = int(rng.integers(1, 9))
    low = int(rng.integers(-3, 3))
    y = rng.integers(low, low + k, n)
    p = np.where(rng.random(n) < rng.random(), y, rng.integers(low, low + k + 2, n))  # + unseen
    dtype = [np.int64, np.int32, np.int8][seed % 3]
    if k <= 2 and low == 0 and seed % 2:
        y, p = y.astype(bool), p.clip(0, 1).astype(bool)
    else:
        y, p = y.astype(dtype), p.astype(dtype)
    counted = scoring._label_metrics(pd.Series(y), p)
    assert counted is not None
    assert counted == _sklearn_labels(y, p)


@pytest.mark.parametrize(
    ("y", "p"),
    [
        ([1, 1, 1], [1, 1, 1]),  # one label, all right
        ([0, 0, 0], [1, 1, 1]),  # all wrong, two labels
        ([2, 2], [5, 7]),  # predicted labels the truth never has
        ([3], [3]),
    ],
)
def test_label_metrics_agree_on_degenerate_labels(y: list[int], p: list[int]) -> None:
    counted = scoring._label_metrics(np.array(y), np.array(p))
    assert counted == _sklearn_labels(np.array(y), np.array(p))


def test_labels_that_are_not_integers_are_left_to_sklearn() -> None:
    text = pd.Series(["no", "yes", "yes"])
    assert scoring._label_metrics(text, np.array(["no", "no", "yes"])) is None
    assert scoring._label_metrics(np.array([0.5, 1.0]), np.array([0, 1])) is None
    assert scoring._label_metrics(np.array([0, 10**7]), np.array([0, 0])) is None  # too wide
    outputs = Outputs(predicted=np.array(["no", "no", "yes"]))
    assert {k: v for k, v in score_outputs(outputs, text, "classification").items()
            if k in {"accuracy", "f1", "precision", "recall"}} == _sklearn_labels(
        text, outputs.predicted
    )  # fmt: skip
