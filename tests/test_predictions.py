"""What a model's predict output means: every shape pyfunc flavors return, read one way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance

from podium.predictions import (
    LABELS_ONLY,
    PredictionError,
    as_estimator,
    interpret,
    unavailable,
)
from podium.scoring import predict, score_outputs

P = np.array([0.1, 0.8, 0.6, 0.3])


def test_a_frame_with_one_column_per_class_named_by_class() -> None:
    # Columns in any order and named as text: matched to the classes by name.
    frame = pd.DataFrame({"yes": P, "no": 1 - P})
    found = interpret(frame, task="classification", classes=["no", "yes"])
    assert list(found.classes or []) == ["no", "yes"]
    np.testing.assert_allclose(found.proba[:, 1], P)
    assert list(found.predicted) == ["no", "yes", "yes", "no"]


def test_frame_columns_named_by_class_as_text_match_integer_classes() -> None:
    frame = pd.DataFrame({"0": 1 - P, "1": P})
    found = interpret(frame, task="classification", classes=[0, 1])
    np.testing.assert_allclose(found.proba[:, 1], P)
    assert list(found.predicted) == [0, 1, 1, 0]


def test_a_two_d_array_is_one_column_per_class_in_class_order() -> None:
    proba = np.column_stack([1 - P, P * 0.5, P * 0.5])
    found = interpret(proba, task="classification", classes=["a", "b", "c"])
    assert found.proba.shape == (4, 3)
    assert list(found.predicted) == ["a", "b", "a", "a"]  # ties: the first class


def test_a_one_d_float_array_in_0_1_is_the_positive_class_for_binary() -> None:
    found = interpret(P, task="classification", classes=[0, 1])
    np.testing.assert_allclose(found.proba, np.column_stack([1 - P, P]))
    assert list(found.predicted) == [0, 1, 1, 0]
    assert unavailable(found, "classification") == {}


def test_spark_style_rows_of_arrays_are_stacked() -> None:
    rows = pd.Series([[1 - p, p] for p in P])
    found = interpret(rows, task="classification", classes=[0, 1])
    np.testing.assert_allclose(found.proba[:, 1], P)


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (np.array([0, 1, 1, 0]), [0, 1]),  # integers
        (np.array(["no", "yes", "yes", "no"]), ["no", "yes"]),  # text
        (pd.DataFrame({"prediction": [0, 1, 1, 0]}), [0, 1]),  # one named column
        (np.array([0.0, 2.0, 1.0, 0.0]), [0, 1, 2]),  # floats, but three classes: labels
        (np.array([0.0, 1.0, 1.0, 0.0]), None),  # classes unknown: labels
    ],
)
def test_anything_else_is_labels_and_scores_are_not_computable(
    labels: object, classes: list[object] | None
) -> None:
    found = interpret(labels, task="classification", classes=classes)
    assert found.proba is None
    why = unavailable(found, "classification")
    assert set(why) == {"roc_auc", "log_loss"}
    assert why["roc_auc"].startswith(LABELS_ONLY)
    assert 'pyfunc_predict_fn="predict_proba"' in why["roc_auc"]


def test_regression_values_from_any_single_column_shape() -> None:
    for raw in (P, P.reshape(-1, 1), pd.DataFrame({"y": P}), pd.Series(P), list(P)):
        np.testing.assert_allclose(interpret(raw, task="regression").predicted, P)


@pytest.mark.parametrize(
    ("raw", "task", "classes", "fragment"),
    [
        (np.ones((4, 3)), "regression", None, "one value per row"),
        (np.ones((4, 3)) / 3, "classification", [0, 1], "3 columns per row but there are 2"),
        (pd.DataFrame({"x": P, "z": P}), "classification", [0, 1], "do not name the classes"),
        (np.ones((2, 2, 2)), "classification", [0, 1], "shape (2, 2, 2)"),
        (np.array(["a", "b"]), "regression", None, "not numbers"),
        (np.array([[np.nan, 1.0]]), "classification", [0, 1], "NaN"),
    ],
)
def test_outputs_that_cannot_be_read_say_why(
    raw: object, task: str, classes: list[object] | None, fragment: str
) -> None:
    with pytest.raises(PredictionError) as caught:
        interpret(raw, task=task, classes=classes)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_as_estimator_scores_and_permutes_like_a_scikit_learn_classifier() -> None:
    """The wrapper is what importance and latency see: one pyfunc call per scoring."""
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"signal": rng.normal(size=300), "noise": rng.normal(size=300)})
    target = pd.Series((features["signal"] > 0).astype(int))
    calls = []

    def pyfunc_predict(frame: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(frame))
        p = 1 / (1 + np.exp(-4 * frame["signal"].to_numpy()))
        return pd.DataFrame({0: 1 - p, 1: p})

    model = as_estimator(pyfunc_predict, task="classification", classes=[0, 1])
    outputs = predict(model, features, "classification")
    assert calls == [300]
    metrics = score_outputs(outputs, target, "classification")
    assert metrics["roc_auc"] == 1.0 and metrics["log_loss"] < 0.5
    found = permutation_importance(
        model, features, target, scoring="roc_auc", n_repeats=2, random_state=0
    )
    assert found.importances_mean[0] > 0.3 > abs(found.importances_mean[1])


def test_as_estimator_of_a_labels_only_model_has_no_probabilities() -> None:
    model = as_estimator(lambda frame: np.zeros(len(frame), dtype=int), task="classification")
    with pytest.raises(AttributeError, match=LABELS_ONLY):
        model.predict_proba(pd.DataFrame({"x": [1.0, 2.0]}))
    regressor = as_estimator(lambda frame: frame["x"] * 2, task="regression")
    assert list(regressor.predict(pd.DataFrame({"x": [1.0, 2.0]}))) == [2.0, 4.0]
