"""Why the model decides as it does: permutation importance on the evaluation data.

Each feature column is shuffled in turn and the model re-scored; the drop in the
gated metric is that feature's importance. It needs nothing but `predict` on raw
columns, so it works the same for pipelines podium builds and for user entrypoints,
and it speaks in the columns users know (not one-hot or scaled internals). Large
evaluation sets are sampled (seeded) to a budget of predictions (`sample_size`), so that
importance costs a small share of a run whatever the width of the data.

A model's ranking is logged with it when it is evaluated as the challenger; when it is
the champion later, on the same evaluation data, `logged_ranking` reuses that ranking
instead of recomputing it (same model, rows, seed and settings: the same numbers).

`compare` turns two rankings (challenger, champion) into rank changes for the report:
"`tenure_months` rose from 4th to 1st".
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MAX_ROWS = 5_000  # never more rows than this, however large the evaluation data
MIN_ROWS = 500  # nor fewer (when there are that many), however wide
# Rows predicted for all shuffles of all features together: at least PREDICTIONS, or
# PREDICTIONS_PER_ROW × the evaluation rows on larger data (scoring them costs as much).
PREDICTIONS = 100_000
PREDICTIONS_PER_ROW = 4
REPEATS = 5
SEED = 0
ARTIFACT = "podium/importance.json"

# podium metric -> scikit-learn scorer (greater is better, as permutation_importance wants)
_SCORERS = {
    "roc_auc": "roc_auc",
    "accuracy": "accuracy",
    "f1": "f1_macro",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "log_loss": "neg_log_loss",
    "rmse": "neg_root_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "r2": "r2",
}
_FALLBACK = {"classification": "accuracy", "regression": "r2"}


@dataclass(frozen=True)
class Ranking:
    """Permutation importance of every feature of one model, most important first."""

    metric: str  # the podium metric whose drop is measured
    rows: int  # evaluation rows used (after sampling)
    repeats: int
    features: list[dict[str, Any]]  # {"feature", "importance", "std", "rank"}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def permutation(
    model: Any,
    features: pd.DataFrame,
    target: pd.Series,
    *,
    task: str,
    metric: str,
    max_rows: int | None = None,
    repeats: int = REPEATS,
    seed: int = SEED,
    limit_api: str | None = None,
) -> Ranking:
    """Permutation importance of `model` on (a seeded sample of) the evaluation rows.

    `max_rows` None: the budgeted `sample_size`. Falls back to accuracy (classification)
    or R² (regression) when the model cannot be scored with `metric` (e.g. log loss
    without `predict_proba`). `limit_api`: which thread pools run single-threaded
    (threadpoolctl's `user_api`; None: all) — "openmp" alone leaves the process-wide BLAS
    setting to whoever else is running.
    """
    from threadpoolctl import threadpool_limits

    if max_rows is None:
        max_rows = sample_size(len(features), len(features.columns), repeats)
    if len(features) > max_rows:
        sample = features.sample(n=max_rows, random_state=seed)
        features, target = sample, target.loc[sample.index]
    attempts = [metric] if metric == _FALLBACK[task] else [metric, _FALLBACK[task]]
    direct = _passed_through(model, features)
    for attempt in attempts:
        scorer = _SCORERS.get(attempt, _FALLBACK[task])
        if attempt == "roc_auc" and target.nunique() > 2:
            scorer = "roc_auc_ovr"
        try:
            # One thread: a hundred predictions of at most MAX_ROWS rows each, where an
            # OpenMP fork/join costs more than it saves — and on a busy machine (a shared
            # CI runner) each of those parallel regions waits for a descheduled thread
            # (measured: 8-15x the wall time on 2 loaded cores). Same numbers either way.
            with _quiet(), threadpool_limits(limits=1, user_api=limit_api):
                estimator, shuffled = direct[:2] if direct else (model, features)
                found = _permutation_importance(
                    estimator, shuffled, target, scoring=scorer, repeats=repeats, seed=seed
                )
        except (ValueError, AttributeError, TypeError) as exc:
            if attempt == attempts[-1]:
                raise ValueError(f"permutation importance failed: {_first_line(exc)}") from None
            continue
        means, spreads = found.importances_mean, found.importances_std
        if direct:  # back to the feature columns; one the model never reads changes nothing
            column = {name: i for i, name in enumerate(direct[2])}
            means, spreads = (
                [float(v[column[f]]) if f in column else 0.0 for f in features.columns]
                for v in (means, spreads)
            )
        order = sorted(range(len(features.columns)), key=lambda i: (-_finite(means[i]), i))
        ranked = [
            {
                "feature": str(features.columns[i]),
                "importance": _finite(means[i]),
                "std": _finite(spreads[i]),
                "rank": position,
            }
            for position, i in enumerate(order, start=1)
        ]
        return Ranking(metric=attempt, rows=len(features), repeats=repeats, features=ranked)
    raise AssertionError("unreachable")  # pragma: no cover


def _permutation_importance(
    estimator: Any, features: Any, target: Any, *, scoring: str, repeats: int, seed: int
) -> Any:
    """scikit-learn's `permutation_importance` (sequential), its own steps one after the
    other rather than through joblib: scikit-learn's task wrapper resets the warning
    filters, which Python 3.11 keeps in one list for all threads — beside another thread
    entering and leaving `warnings.catch_warnings`, that can empty the list for the whole
    process. The same numbers (tests/test_importance.py compares). Those steps are
    scikit-learn's private functions: when they are not where they were, or fail in any
    way (a changed signature, a changed scorer), the public function answers instead."""
    from sklearn.inspection import permutation_importance

    try:
        return _stepwise_permutation_importance(
            estimator, features, target, scoring=scoring, repeats=repeats, seed=seed
        )
    except Exception:
        return permutation_importance(
            estimator, features, target, scoring=scoring, n_repeats=repeats, random_state=seed
        )


def _stepwise_permutation_importance(
    estimator: Any, features: Any, target: Any, *, scoring: str, repeats: int, seed: int
) -> Any:
    """`permutation_importance` from scikit-learn's own (private) steps, in this thread."""
    import numpy as np
    from sklearn.inspection._permutation_importance import (
        _calculate_permutation_scores,
        _create_importances_bunch,
    )
    from sklearn.metrics import check_scoring
    from sklearn.utils import check_array, check_random_state

    if not hasattr(features, "iloc"):
        features = check_array(features, ensure_all_finite="allow-nan", dtype=None)
    random_seed = check_random_state(seed).randint(np.iinfo(np.int32).max + 1)
    scorer = _silent_scorers().get(scoring) or check_scoring(estimator, scoring=scoring)
    baseline = scorer(estimator, features, target)
    rows = features.shape[0]
    batched = _batched_scores if _predicts_row_by_row(estimator, features, scorer) else None
    scores = [
        batched(estimator, features, target, column, random_seed, repeats, scorer)
        if batched is not None
        else _calculate_permutation_scores(
            estimator, features, target, None, column, random_seed, repeats, scorer, rows
        )
        for column in range(features.shape[1])
    ]
    return _create_importances_bunch(baseline, np.array(scores))


# Models whose prediction of a row is a function of that row alone, computed the same way
# whatever else is in the batch: trees and sums of trees (a fixed sequence of comparisons
# and additions per row). Linear models are not here: a BLAS product may sum a row's
# terms in a different order depending on the batch's shape (a last-bit difference).
_ROW_BY_ROW = frozenset(
    {
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.HistGradientBoostingRegressor",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.ensemble.RandomForestRegressor",
        "sklearn.ensemble.ExtraTreesClassifier",
        "sklearn.ensemble.ExtraTreesRegressor",
        "sklearn.ensemble.GradientBoostingClassifier",
        "sklearn.ensemble.GradientBoostingRegressor",
        "sklearn.tree.DecisionTreeClassifier",
        "sklearn.tree.DecisionTreeRegressor",
        "sklearn.tree.ExtraTreeClassifier",
        "sklearn.tree.ExtraTreeRegressor",
        "lightgbm.LGBMClassifier",
        "lightgbm.LGBMRegressor",
        "xgboost.XGBClassifier",
        "xgboost.XGBRegressor",
    }
)


# Preprocessing whose output for a row is a function of that row alone, computed the same
# way in any batch: what podium's pipelines are made of (fitted statistics applied element
# by element, category lookups, column selection and concatenation).
_ROW_BY_ROW_STEPS = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.compose.ColumnTransformer",
        "sklearn.impute.SimpleImputer",
        "sklearn.preprocessing.OneHotEncoder",
        "sklearn.preprocessing.OrdinalEncoder",  # HistGradientBoosting's native categories
        "sklearn.preprocessing.StandardScaler",
    }
)


def _predicts_row_by_row(estimator: Any, features: Any, scorer: Any) -> bool:
    """Whether `_batched_scores` gives scikit-learn's numbers: a tree model given an array,
    or a pipeline of podium's preprocessing steps ending in one given a frame, scored by a
    scikit-learn scorer."""
    import importlib.util

    import numpy as np

    if importlib.util.find_spec("sklearn.utils._response") is None:  # pragma: no cover
        return False  # a scikit-learn that moved it: predicted block by block
    if not callable(getattr(scorer, "_score", None)):
        return False
    if isinstance(features, np.ndarray):
        return _public_name(estimator) in _ROW_BY_ROW
    if not hasattr(features, "iloc") or _public_name(estimator) != "sklearn.pipeline.Pipeline":
        return False
    *preprocessing, (_, final) = estimator.steps
    return _public_name(final) in _ROW_BY_ROW and all(
        _transforms_row_by_row(step) for _, step in preprocessing
    )


def _transforms_row_by_row(step: Any) -> bool:
    if isinstance(step, str):
        return step in ("passthrough", "drop")
    name = _public_name(step)
    if name == "sklearn.preprocessing.FunctionTransformer":  # a fitted "passthrough"
        return step.func is None and step.inverse_func is None
    if name not in _ROW_BY_ROW_STEPS:
        return False
    if name == "sklearn.pipeline.Pipeline":
        return all(_transforms_row_by_row(inner) for _, inner in step.steps)
    if name == "sklearn.compose.ColumnTransformer":
        return all(_transforms_row_by_row(inner) for _, inner, _ in step.transformers_)
    return True


def _public_name(thing: Any) -> str:
    """A class's name where its library exports it: scikit-learn's classes live in private
    modules (sklearn.ensemble._forest.RandomForestClassifier is
    sklearn.ensemble.RandomForestClassifier). A subclass (with, say, its own `predict`)
    keeps its own module's name, so it is never taken for the class it derives from."""
    kind = type(thing)
    package = kind.__module__.split(".")
    public = ".".join(package[:2] if package[0] == "sklearn" else package[:1])
    return f"{public}.{kind.__name__}"


def _batched_scores(
    estimator: Any, features: Any, target: Any, column: int, seed: int, repeats: int, scorer: Any
) -> Any:
    """scikit-learn's `_calculate_permutation_scores` for one column, its `repeats`
    predictions made in one call: the same shuffles (the same seed, the same in-place
    shuffle of the same index, each repeat shuffling the previous one's column), stacked,
    predicted at once and scored a block at a time. A call costs a tree model ~6 ms
    before the first row (100 trees walked from Python), a pipeline more (its
    preprocessing's own calls), so one call instead of five saves ~25–40% of the
    ranking's time; row by row (`_predicts_row_by_row`), the numbers are the same."""
    import numpy as np
    from sklearn.utils import check_random_state
    from sklearn.utils._response import _get_response_values

    random_state = check_random_state(seed)
    rows = features.shape[0]
    permuted = features.copy()
    shuffling = np.arange(rows)
    blocks = []
    for _ in range(repeats):
        random_state.shuffle(shuffling)
        if hasattr(permuted, "iloc"):  # scikit-learn's own steps, on a frame
            shuffled = permuted.iloc[shuffling, column]
            shuffled.index = permuted.index
            permuted[permuted.columns[column]] = shuffled
        else:
            permuted[:, column] = permuted[shuffling, column]
        blocks.append(permuted.copy())
    if hasattr(permuted, "iloc"):
        import pandas as pd

        stacked = pd.concat(blocks, ignore_index=True)
    else:
        stacked = np.concatenate(blocks)
    answered: dict[tuple[str, Any], Any] = {}

    def scored(block: int) -> float:
        def respond(model: Any, method: str, _rows: Any, pos_label: Any = None) -> Any:
            # The scorer's own call, answered from the one prediction of every block.
            if (method, pos_label) not in answered:
                answered[(method, pos_label)] = _get_response_values(
                    model, stacked, response_method=method, pos_label=pos_label
                )[0]
            return answered[(method, pos_label)][block * rows : (block + 1) * rows]

        return float(scorer._score(respond, estimator, blocks[block], target))

    return np.array([scored(block) for block in range(repeats)])


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No warning chatter from the shuffled predictions — on the main thread only: Python
    3.11's `warnings.catch_warnings` swaps one process-wide list, and a thread entering
    and leaving it beside another can leave either's filters in place for everyone. On
    a thread, the macro scorers say nothing anyway (`_silent_scorers`)."""
    import threading
    import warnings

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division and convergence chatter
        yield


def before_threads() -> None:
    """Call on the main thread before ranking on another: scikit-learn warns that its
    task wrapper lost its warning filters when another thread's `catch_warnings` swapped
    the process-wide list under it (a pipeline predicting on two threads at once) —
    harmless for the numbers, noise for the user. Filters added now are in every copy
    (and adding one again only moves it to the front)."""
    import warnings

    warnings.filterwarnings(
        "ignore",
        message=r"`sklearn\.utils\.parallel\.delayed` should be used",
        category=UserWarning,
    )


@functools.cache
def _silent_scorers() -> dict[str, Any]:
    """The macro scorers with `zero_division=0`: the value scikit-learn's named scorers
    give a class never predicted (0), without their warning."""
    from sklearn.metrics import f1_score, make_scorer, precision_score, recall_score

    macro = {"average": "macro", "zero_division": 0}
    return {
        "f1_macro": make_scorer(f1_score, **macro),
        "precision_macro": make_scorer(precision_score, **macro),
        "recall_macro": make_scorer(recall_score, **macro),
    }


def _passed_through(model: Any, features: pd.DataFrame) -> tuple[Any, Any, list[str]] | None:
    """(final estimator, its input, the feature behind each input column) when `model` is a
    pipeline whose only preprocessing passes named feature columns through unchanged (what
    podium builds for numeric features and an estimator that takes missing values).

    Shuffling a feature's rows before that preprocessing or its column after it is the same
    shuffle of the same values, and scikit-learn shuffles every column with the same seed:
    so the same importances, without re-running the preprocessing for each of a hundred
    predictions (~20% of the time). None for any other model: it is shuffled as a whole.
    """
    import numpy as np

    steps = getattr(model, "steps", None)
    if type(model).__name__ != "Pipeline" or not isinstance(steps, list) or len(steps) != 2:
        return None
    preprocess = steps[0][1]
    if type(preprocess).__name__ != "ColumnTransformer" or not hasattr(preprocess, "transformers_"):
        return None
    if preprocess.remainder != "drop":
        return None
    columns: list[str] = []
    # As declared: once fitted, scikit-learn keeps "passthrough" as a FunctionTransformer.
    for _, transformer, selected in preprocess.transformers:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        if not (isinstance(transformer, str) and transformer == "passthrough"):
            return None
        if not isinstance(selected, list):
            return None
        if not all(isinstance(c, str) and c in features.columns for c in selected):
            return None
        columns.extend(selected)
    if len(set(columns)) != len(columns):
        return None
    shuffled = preprocess.transform(features)
    if not isinstance(shuffled, np.ndarray) or shuffled.shape != (len(features), len(columns)):
        return None
    return steps[1][1], shuffled, columns


def sample_size(available: int, features: int, repeats: int = REPEATS) -> int:
    """Evaluation rows to shuffle: every row predicted costs the same, so the rows are
    what the prediction budget allows for `features` × `repeats` shuffles, within
    [MIN_ROWS, MAX_ROWS] and never more than there are."""
    budget = max(PREDICTIONS, PREDICTIONS_PER_ROW * available)
    rows = budget // max(features * repeats, 1)
    return min(available, MAX_ROWS, max(MIN_ROWS, rows))


def logged_ranking(
    logged: Mapping[str, Any] | None, features: pd.DataFrame, *, metric: str
) -> Ranking | None:
    """A ranking logged for this model on these very evaluation rows, when `permutation`
    would compute it the same way now (metric, rows, repeats, features); else None."""
    if not isinstance(logged, Mapping) or logged.get("metric") != metric:
        return None
    rows = sample_size(len(features), len(features.columns))
    if logged.get("rows") != rows or logged.get("repeats") != REPEATS:
        return None
    ranked = logged.get("features")
    if not isinstance(ranked, list) or not all(isinstance(f, Mapping) for f in ranked):
        return None
    if sorted(str(f.get("feature")) for f in ranked) != sorted(map(str, features.columns)):
        return None
    return Ranking(metric=metric, rows=rows, repeats=REPEATS, features=[dict(f) for f in ranked])


def compare(
    challenger: Sequence[Mapping[str, Any]], champion: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """The challenger's ranking with each feature's champion rank and the change in words."""
    before = {str(f["feature"]): int(f["rank"]) for f in champion or []}
    out = []
    for item in challenger:
        rank = int(item["rank"])
        old = before.get(str(item["feature"]))
        out.append(
            {**item, "champion_rank": old, "change": change(rank, old, champion is not None)}
        )
    return out


def change(rank: int, old: int | None, has_champion: bool = True) -> str:
    """'rose from 4th to 1st', 'fell from 1st to 3rd', 'still 2nd', 'not used by the champion'."""
    if not has_champion:
        return ""
    if old is None:
        return "not used by the champion"
    if old > rank:
        return f"rose from {ordinal(old)} to {ordinal(rank)}"
    if old < rank:
        return f"fell from {ordinal(old)} to {ordinal(rank)}"
    return f"still {ordinal(rank)}"


def ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _finite(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
