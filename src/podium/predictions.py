"""What a model's `predict` output means, whatever framework made the model.

Models of every flavor but scikit-learn's (loaded as itself, with its `predict_proba`) are
scored through MLflow pyfunc, whose `predict` returns whatever the flavor returns. This
module is the one place that turns that into `scoring.Outputs`:

- a DataFrame with one column per class (columns named by class), or a 2-D array with one
  column per class (columns in the order of the model's classes): class probabilities;
- a 1-D float array in [0, 1] when there are two classes: the positive class's probability;
- anything else one value per row: labels (classification) or values (regression).

A model that returns labels only gets the label metrics; `unavailable` says which metrics
are not computable and why. `as_estimator` wraps any predict function as a scikit-learn
estimator, so that permutation importance and latency treat every flavor alike.

Public API (also for engines that predict elsewhere, e.g. Spark's `spark_udf` outputs):
`interpret`, `unavailable`, `as_estimator`, `PredictionError`, `LABELS_ONLY`, `LABELS_ONLY_FIX`,
`NEEDS_SCORES`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from podium.scoring import Outputs

if TYPE_CHECKING:
    import numpy as np

LABELS_ONLY = "the model returns labels only"
LABELS_ONLY_FIX = (
    'to fix it, log scikit-learn models with pyfunc_predict_fn="predict_proba", or return '
    "class probabilities (one column per class) from a custom predict"
)
# The metrics that need a score per class, not just the predicted label.
NEEDS_SCORES = ("roc_auc", "log_loss")


class PredictionError(ValueError):
    """The model's output cannot be read as predictions for this task (one line, why)."""


def interpret(
    raw: Any, *, task: str, classes: Sequence[Any] | None = None, positive: Any = None
) -> Outputs:
    """What a model's raw `predict` output says about each row, as `scoring.Outputs`.

    `raw`: a DataFrame, Series (also of per-row arrays, as Spark returns them), array or
    list. `classes`: the labels the model was trained on, sorted (scikit-learn's
    `classes_` order); needed to read unnamed probability columns. `positive`
    (model.positive_class): the class a single probability per row is for; by default the
    second of the two sorted labels.
    """
    import numpy as np

    values = _as_array_or_frame(raw)
    if task == "regression":
        column = _one_column(values, "a regressor must return one value per row")
        try:
            return Outputs(predicted=np.asarray(column, dtype=float))
        except (TypeError, ValueError):
            raise PredictionError(
                "the model returned values that are not numbers; a regressor must return "
                "one number per row"
            ) from None
    known = list(classes) if classes is not None else None
    if _is_frame(values) and len(values.columns) > 1:
        return _from_named_columns(values, known)
    if not _is_frame(values) and values.ndim == 2 and values.shape[1] > 1:
        return _from_proba(np.asarray(values, dtype=float), known)
    column = np.asarray(_one_column(values, "unreachable"))
    if known is not None and len(known) == 2 and _is_probability(column):
        chance = column.astype(float)
        if positive is not None and positive == known[0]:  # P(the first label)
            return _from_proba(np.column_stack([chance, 1.0 - chance]), known)
        return _from_proba(np.column_stack([1.0 - chance, chance]), known)
    return Outputs(predicted=column, classes=known)


def unavailable(outputs: Outputs, task: str) -> dict[str, str]:
    """Metrics these outputs cannot give, each with the reason (empty when none)."""
    if task != "classification" or outputs.proba is not None or outputs.decision is not None:
        return {}
    return dict.fromkeys(NEEDS_SCORES, f"{LABELS_ONLY}; {LABELS_ONLY_FIX}")


def as_estimator(
    predict: Callable[[Any], Any],
    *,
    task: str,
    classes: Sequence[Any] | None = None,
    positive: Any = None,
) -> Any:
    """A scikit-learn estimator (already fitted) over any predict function.

    `predict` returns what a pyfunc model returns; `interpret` reads it. The estimator has
    `predict`, and for classifiers `classes_` and `predict_proba` (which raises
    AttributeError for a labels-only model, as scikit-learn's own do when they cannot).
    """
    classifier, regressor = _estimator_classes()
    if task == "regression":
        return regressor(predict)
    return classifier(predict, classes, positive)


# -- reading the output -------------------------------------------------------------------


def _as_array_or_frame(raw: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(raw, pd.DataFrame):
        return raw
    if isinstance(raw, pd.Series):
        if raw.dtype == object and len(raw) and isinstance(raw.iloc[0], list | tuple | np.ndarray):
            return _stacked(list(raw))  # one array per row (Spark array columns)
        return raw.to_numpy()
    if isinstance(raw, dict):  # e.g. {"predictions": …} from a custom model
        if len(raw) == 1:
            return _as_array_or_frame(next(iter(raw.values())))
        return pd.DataFrame(raw)
    array = np.asarray(raw)
    if array.dtype == object and array.ndim == 1 and len(array) and _is_sequence(array[0]):
        return _stacked(list(array))
    if array.ndim == 0 or array.ndim > 2:
        raise PredictionError(
            f"the model returned an array of shape {array.shape}; return one value per row "
            "or one column per class"
        )
    return array


def _stacked(rows: list[Any]) -> Any:
    import numpy as np

    try:
        return np.vstack([np.asarray(row, dtype=float) for row in rows])
    except ValueError:
        raise PredictionError(
            "the model returned rows of different lengths; return one column per class"
        ) from None


def _is_sequence(value: Any) -> bool:
    import numpy as np

    return isinstance(value, list | tuple | np.ndarray)


def _is_frame(values: Any) -> bool:
    import pandas as pd

    return isinstance(values, pd.DataFrame)


def _one_column(values: Any, message: str) -> Any:
    if _is_frame(values):
        if len(values.columns) != 1:
            raise PredictionError(f"{message} (got {len(values.columns)} columns)")
        return values.iloc[:, 0].to_numpy()
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise PredictionError(f"{message} (got {values.shape[1]} columns)")
        return values[:, 0]
    return values


def _is_probability(column: np.ndarray) -> bool:
    import numpy as np

    if column.dtype.kind != "f" or len(column) == 0:
        return False
    finite = np.isfinite(column)
    return bool(finite.all() and (column >= 0).all() and (column <= 1).all())


def _from_named_columns(frame: Any, classes: list[Any] | None) -> Outputs:
    """Probabilities from a DataFrame whose columns name the classes."""
    names = [str(c) for c in frame.columns]
    if classes is None:
        order = list(range(len(names)))
        classes = list(frame.columns)
    else:
        position = {name: i for i, name in enumerate(names)}
        missing = [c for c in classes if str(c) not in position]
        if missing and len(names) == len(classes) and names == [str(i) for i in range(len(names))]:
            order = list(range(len(names)))  # unnamed (0..k-1): columns in classes order
        elif missing:
            raise PredictionError(
                f"the model's output columns {names[:10]} do not name the classes "
                f"{[str(c) for c in classes][:10]}; name each probability column by its class"
            )
        else:
            order = [position[str(c)] for c in classes]
    try:
        proba = frame.iloc[:, order].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise PredictionError(
            "the model returned several columns that are not class probabilities; return "
            "one label per row or one probability column per class"
        ) from None
    return _from_proba(proba, classes)


def _from_proba(proba: np.ndarray, classes: list[Any] | None) -> Outputs:
    import numpy as np

    if classes is None or len(classes) != proba.shape[1]:
        known = "unknown" if classes is None else str(len(classes))
        raise PredictionError(
            f"the model returned {proba.shape[1]} columns per row but there are {known} "
            "classes; return one probability column per class (sorted class order)"
        )
    if not np.isfinite(proba).all():
        raise PredictionError("the model returned probabilities that are NaN or infinite")
    labels = np.asarray(classes)
    return Outputs(predicted=labels.take(np.argmax(proba, axis=1)), proba=proba, classes=classes)


# -- as a scikit-learn estimator ----------------------------------------------------------


@functools.cache
def _estimator_classes() -> tuple[type, type]:
    """The wrapper classes, built on first use: scikit-learn is imported lazily."""
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    class _Predictor(BaseEstimator):  # type: ignore[misc]
        def __init__(self, predict: Callable[[Any], Any]) -> None:
            self.predict_fn = predict

        def fit(self, *_args: Any, **_kwargs: Any) -> Any:
            raise NotImplementedError("podium scores fitted models; it never refits them")

        def __sklearn_is_fitted__(self) -> bool:
            return True

    class _Classifier(ClassifierMixin, _Predictor):  # type: ignore[misc]
        def __init__(
            self, predict: Callable[[Any], Any], classes: Sequence[Any] | None, positive: Any
        ) -> None:
            super().__init__(predict)
            self.classes = classes
            self.positive = positive
            if classes is not None:
                import numpy as np

                self.classes_ = np.asarray(list(classes))

        def podium_outputs(self, features: Any) -> Outputs:
            return interpret(
                self.predict_fn(features),
                task="classification",
                classes=self.classes,
                positive=self.positive,
            )

        def predict(self, features: Any) -> Any:
            return self.podium_outputs(features).predicted

        def predict_proba(self, features: Any) -> Any:
            found = self.podium_outputs(features)
            if found.proba is None:
                raise AttributeError(f"{LABELS_ONLY}: no predict_proba")
            return found.proba

    class _Regressor(RegressorMixin, _Predictor):  # type: ignore[misc]
        def podium_outputs(self, features: Any) -> Outputs:
            return interpret(self.predict_fn(features), task="regression")

        def predict(self, features: Any) -> Any:
            return self.podium_outputs(features).predicted

    return _Classifier, _Regressor
