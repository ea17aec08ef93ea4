"""The model podium registers takes raw rows (issue 31).

podium reads a table, then turns each feature column into what the model is fitted on
(`data.prepare`). The model it logs is `RawRows` then the fitted model, so
`mlflow.pyfunc.load_model(".../@champion").predict(pd.read_csv(...))` and a serving payload
with `2010-05-01` in a date column score as podium scored them. This module and
`raw_rows` are pickled with the model by value: it loads where podium is not installed.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from podium import raw_rows
from podium.raw_rows import as_number, as_text

STEP = "raw_rows"  # the first step's name in the logged pipeline


class RawRows(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Feature columns as read from a file (or a JSON payload) → as the model was fitted.

    `kinds`: column → "numeric" | "categorical", in the fitted model's column order.
    Stateless: nothing to fit. Rows already prepared by podium pass through unchanged.
    """

    def __init__(self, kinds: dict[str, str] | None = None) -> None:
        self.kinds = kinds

    def fit(self, features: Any, target: Any = None) -> RawRows:
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def transform(self, features: Any) -> Any:
        import pandas as pd

        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        out = {}
        for column, kind in (self.kinds or {}).items():
            series = frame[column]
            out[column] = as_text(series) if kind == "categorical" else as_number(series)
        return pd.DataFrame(out, index=frame.index)


def wrap(model: Any, kinds: dict[str, str]) -> Any:
    """A fitted model behind `RawRows`: the pipeline podium logs (pickled with this module
    and `raw_rows` by value)."""
    import sys

    import cloudpickle
    from sklearn.pipeline import Pipeline

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cloudpickle.register_pickle_by_value(raw_rows)
    return Pipeline([(STEP, RawRows(dict(kinds))), ("model", model)])


def unwrapped(model: Any) -> Any:
    """The fitted model inside a logged `wrap(...)` (podium feeds it prepared rows itself);
    any other model as it is."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and len(steps) == 2 and steps[0][0] == STEP:
        first = steps[0][1]
        if type(first).__name__ == "RawRows":
            return steps[1][1]
    return model
