"""Permutation importance (on raw columns) and rank changes against the champion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.svm import LinearSVC

from podium import importance
from podium.config import Config, PodiumConfig
from podium.modeling import build, fit, takes_missing_values


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """`signal` decides the target; the other columns are noise (one of them text)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "noise_a": rng.normal(size=rows),
            "signal": rng.normal(size=rows),
            "noise_b": rng.normal(size=rows),
            "colour": rng.choice(["red", "green", "blue"], size=rows).astype(object),
        }
    )


def _podium_pipeline(task: str, estimator: str) -> object:
    raw = PodiumConfig.model_validate(
        {
            "model": {"name": "m", "task": task, "estimator": {"class": estimator}},
            "data": {"train": "t.csv", "eval": "e.csv", "target": "y"},
        }
    )
    from pathlib import Path

    types = {
        "noise_a": "numeric",
        "signal": "numeric",
        "noise_b": "numeric",
        "colour": "categorical",
    }
    return build(Config(raw, Path("/tmp/podium.yaml")), types)


@pytest.mark.parametrize(
    ("task", "estimator", "metric"),
    [
        ("classification", "sklearn.ensemble.HistGradientBoostingClassifier", "roc_auc"),
        ("classification", "sklearn.linear_model.LogisticRegression", "log_loss"),
        ("regression", "sklearn.tree.DecisionTreeRegressor", "rmse"),
    ],
)
def test_the_feature_that_carries_the_signal_ranks_first(
    task: str, estimator: str, metric: str
) -> None:
    train, held_out = _frame(1500, seed=1), _frame(600, seed=2)

    def target(frame: pd.DataFrame) -> pd.Series:
        if task == "classification":
            return pd.Series((frame["signal"] > 0).astype(int), index=frame.index)
        return pd.Series(3 * frame["signal"], index=frame.index)

    model = fit(
        _podium_pipeline(task, estimator), train, target(train), source=estimator, path=None
    )
    ranking = importance.permutation(model, held_out, target(held_out), task=task, metric=metric)
    assert ranking.metric == metric
    assert ranking.features[0]["feature"] == "signal"
    assert ranking.features[0]["rank"] == 1
    assert ranking.features[0]["importance"] > 0.1
    others = [f["importance"] for f in ranking.features[1:]]
    assert max(others) < ranking.features[0]["importance"] / 10
    assert [f["rank"] for f in ranking.features] == [1, 2, 3, 4]


def test_large_evaluation_data_is_sampled() -> None:
    frame = _frame(3000)
    y = pd.Series((frame["signal"] > 0).astype(int))
    model = LogisticRegression().fit(frame[["noise_a", "signal", "noise_b"]], y)
    ranking = importance.permutation(
        model,
        frame[["noise_a", "signal", "noise_b"]],
        y,
        task="classification",
        metric="accuracy",
        max_rows=500,
        repeats=2,
    )
    assert (ranking.rows, ranking.repeats) == (500, 2)
    assert ranking.features[0]["feature"] == "signal"


def test_a_metric_the_model_cannot_score_falls_back_to_accuracy() -> None:
    frame = _frame(400)[["noise_a", "signal"]]
    y = pd.Series((frame["signal"] > 0).astype(int))
    model = LinearSVC().fit(frame, y)  # no predict_proba: no log loss
    ranking = importance.permutation(model, frame, y, task="classification", metric="log_loss")
    assert ranking.metric == "accuracy"
    assert ranking.features[0]["feature"] == "signal"


def test_rank_changes_read_like_a_sentence() -> None:
    champion = [
        {"feature": "age", "rank": 1},
        {"feature": "plan", "rank": 2},
        {"feature": "region", "rank": 3},
        {"feature": "tenure_months", "rank": 4},
    ]
    challenger = [
        {"feature": "tenure_months", "rank": 1},
        {"feature": "plan", "rank": 2},
        {"feature": "age", "rank": 3},
        {"feature": "support_calls", "rank": 4},
    ]
    changes = [c["change"] for c in importance.compare(challenger, champion)]
    assert changes == [
        "rose from 4th to 1st",
        "still 2nd",
        "fell from 1st to 3rd",
        "not used by the champion",
    ]
    assert [c["champion_rank"] for c in importance.compare(challenger, champion)] == [4, 2, 1, None]
    assert all(c["change"] == "" for c in importance.compare(challenger, None))


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinals(number: int, text: str) -> None:
    assert importance.ordinal(number) == text


def test_regression_importance_is_the_rise_in_error() -> None:
    frame = _frame(500)[["noise_a", "signal"]]
    y = pd.Series(2 * frame["signal"])
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(frame, y)
    ranking = importance.permutation(model, frame, y, task="regression", metric="mae")
    assert ranking.metric == "mae"
    assert ranking.features[0]["feature"] == "signal"
    assert ranking.features[0]["importance"] > 0  # shuffling raises the error


def test_the_rows_shuffled_follow_a_prediction_budget() -> None:
    assert importance.sample_size(600, 7) == 600  # small data: every row
    assert importance.sample_size(50_000, 20) == 2_000  # 4 × 50k predictions / (20 × 5)
    assert importance.sample_size(250_000, 20) == importance.MAX_ROWS
    assert importance.sample_size(50_000, 400) == importance.MIN_ROWS  # very wide data
    assert importance.sample_size(300, 400) == 300


def test_a_logged_ranking_is_reused_only_when_computed_as_it_would_be_now() -> None:
    frame = _frame(3000)[["noise_a", "signal", "noise_b"]]
    y = pd.Series((frame["signal"] > 0).astype(int))
    model = LogisticRegression().fit(frame, y)
    ranking = importance.permutation(model, frame, y, task="classification", metric="accuracy")
    assert ranking.rows == 3000  # 100k predictions cover 3,000 rows × 3 features × 5
    logged = ranking.to_dict()
    reused = importance.logged_ranking(logged, frame, metric="accuracy")
    assert reused == ranking
    assert importance.logged_ranking(logged, frame, metric="roc_auc") is None
    assert importance.logged_ranking(logged, frame.iloc[:2000], metric="accuracy") is None
    assert importance.logged_ranking({**logged, "repeats": 3}, frame, metric="accuracy") is None
    other = frame.rename(columns={"noise_b": "noise_c"})
    assert importance.logged_ranking(logged, other, metric="accuracy") is None
    assert importance.logged_ranking(None, frame, metric="accuracy") is None


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_pipeline_that_passes_columns_through_is_shuffled_after_it_with_the_same_result(
    task: str,
) -> None:
    """Numeric features and an estimator that takes missing values: podium's pipeline only
    passes the columns through, so the estimator's own input is shuffled — the same
    importances as shuffling the raw columns (compared with scikit-learn on the whole)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.pipeline import Pipeline

    frame = _frame(1500, seed=4).drop(columns="colour")
    frame["unused"] = np.arange(len(frame), dtype=float)  # the pipeline drops it
    frame.loc[::7, "noise_b"] = np.nan
    target = frame["signal"] + 0.3 * frame["noise_a"]
    if task == "classification":
        target = (target > 0).astype(int)
    final = (
        HistGradientBoostingClassifier(max_iter=30, random_state=0)
        if task == "classification"
        else HistGradientBoostingRegressor(max_iter=30, random_state=0)
    )
    # columns in another order than the frame's, as a ColumnTransformer may list them
    kept = ["signal", "noise_b", "noise_a"]
    model = Pipeline(
        [("preprocess", ColumnTransformer([("numeric", "passthrough", kept)])), ("model", final)]
    ).fit(frame, target)
    assert importance._passed_through(model, frame) is not None
    metric = "roc_auc" if task == "classification" else "rmse"
    ranking = importance.permutation(model, frame, target, task=task, metric=metric)
    whole = permutation_importance(
        model,
        frame,
        target,
        scoring="roc_auc" if task == "classification" else "neg_root_mean_squared_error",
        n_repeats=importance.REPEATS,
        random_state=importance.SEED,
    )
    found = {f["feature"]: (f["importance"], f["std"]) for f in ranking.features}
    for i, name in enumerate(frame.columns):
        assert found[name] == (whole.importances_mean[i], whole.importances_std[i]), name
    assert found["unused"] == (0.0, 0.0)
    assert ranking.features[0]["feature"] == "signal"


def test_a_pipeline_that_transforms_columns_is_shuffled_as_a_whole() -> None:
    scaled = _podium_pipeline("classification", "sklearn.linear_model.LogisticRegression")
    frame = _frame(300)
    target = (frame["signal"] > 0).astype(int)
    fitted = fit(scaled, frame, target, source="LogisticRegression", path="t.csv")
    assert importance._passed_through(fitted, frame) is None  # scaled and one-hot encoded
    assert importance._passed_through(LogisticRegression(), frame) is None


def test_importance_of_a_passed_through_pipeline_leaves_the_warning_filters_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """scikit-learn's joblib task wrapper resets the process-wide warning filters; on a
    thread beside other work that can empty them for everyone. podium's importance runs
    beside the main thread, so for the common pipeline (columns passed through) it runs
    one such task (the sample's one pass through the pipeline), not one per prediction."""
    import threading
    import warnings

    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    frame = _frame(400, seed=2).drop(columns="colour")
    target = (frame["signal"] > 0).astype(int)
    model = Pipeline(
        [
            ("preprocess", ColumnTransformer([("numeric", "passthrough", list(frame.columns))])),
            ("model", HistGradientBoostingClassifier(max_iter=20, random_state=0)),
        ]
    ).fit(frame, target)
    resets: list[str] = []
    monkeypatch.setattr(warnings, "resetwarnings", lambda: resets.append("reset"))
    before = list(warnings.filters)
    found: list[importance.Ranking] = []
    worker = threading.Thread(
        target=lambda: found.append(
            importance.permutation(model, frame, target, task="classification", metric="f1")
        )
    )
    worker.start()
    worker.join()
    assert len(resets) == 1 and list(warnings.filters) == before  # joblib's way: dozens
    assert found[0].features[0]["feature"] == "signal"


@pytest.mark.parametrize("metric", ["f1", "precision", "recall", "accuracy", "log_loss"])
def test_each_scorer_gives_scikit_learns_importances(metric: str) -> None:
    from sklearn.inspection import permutation_importance

    frame = _frame(600, seed=6)
    target = pd.Series(np.where(frame["signal"] > 0.8, 2, (frame["signal"] > -0.5).astype(int)))
    model = fit(
        _podium_pipeline("classification", "sklearn.linear_model.LogisticRegression"),
        frame,
        target,
        source="LogisticRegression",
        path="t.csv",
    )
    ranking = importance.permutation(model, frame, target, task="classification", metric=metric)
    whole = permutation_importance(
        model,
        frame,
        target,
        scoring=importance._SCORERS[metric],
        n_repeats=importance.REPEATS,
        random_state=importance.SEED,
    )
    found = {f["feature"]: (f["importance"], f["std"]) for f in ranking.features}
    for i, name in enumerate(frame.columns):
        assert found[name] == (whole.importances_mean[i], whole.importances_std[i]), name


def test_scikit_learns_lost_filters_warning_is_silenced_before_threads_start() -> None:
    import warnings

    from sklearn.utils.parallel import delayed

    importance.before_threads()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", UserWarning)  # what a user's setting may add later
        importance.before_threads()
        func, args, _ = delayed(abs)(-3)
        assert func(*args) == 3  # called without Parallel: scikit-learn's warning
    assert [str(w.message) for w in seen] == []


class _OwnPredict(RandomForestRegressor):
    """A subclass with its own `predict`: not taken for the tree model it derives from."""

    def predict(self, X: object) -> np.ndarray:
        return np.asarray(super().predict(X)) + 0.0


@pytest.mark.parametrize(
    ("estimator", "task", "scoring"),
    [
        ("sklearn.ensemble.HistGradientBoostingClassifier", "binary", "roc_auc"),
        ("sklearn.ensemble.HistGradientBoostingClassifier", "binary", "neg_log_loss"),
        ("sklearn.ensemble.HistGradientBoostingClassifier", "multiclass", "roc_auc_ovr"),
        ("sklearn.ensemble.HistGradientBoostingClassifier", "multiclass", "f1_macro"),
        ("sklearn.ensemble.HistGradientBoostingRegressor", "regression", "r2"),
        ("sklearn.ensemble.RandomForestClassifier", "binary", "accuracy"),
        ("sklearn.ensemble.ExtraTreesRegressor", "regression", "neg_mean_absolute_error"),
        ("sklearn.ensemble.GradientBoostingClassifier", "multiclass", "neg_log_loss"),
        ("sklearn.tree.DecisionTreeRegressor", "regression", "neg_root_mean_squared_error"),
        ("lightgbm.LGBMClassifier", "binary", "roc_auc"),
        ("lightgbm.LGBMRegressor", "regression", "r2"),
    ],
)
def test_tree_models_predict_every_shuffle_of_a_column_at_once_with_scikit_learns_result(
    estimator: str, task: str, scoring: str
) -> None:
    """One prediction of the five shuffled copies of a column instead of five: the same
    shuffles and, row by row, the same predictions, so exactly scikit-learn's numbers
    (missing values included, for the models that take them). On one thread: the numbers
    do not depend on it, and OpenMP's threads spinning at each of HistGradientBoosting's
    barriers on two busy cores cost 56 s of CPU instead of 5 (bench/README.md)."""
    import importlib

    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    module, _, name = estimator.rpartition(".")
    params = {"verbose": -1, "n_estimators": 20} if module == "lightgbm" else {}
    if name.startswith(("RandomForest", "ExtraTrees", "GradientBoosting")):
        params = {"n_estimators": 20}
    one_thread = threadpool_limits(limits=1)
    model = getattr(importlib.import_module(module), name)(random_state=0, **params)
    rng = np.random.default_rng(11)
    rows = 400
    features = rng.normal(size=(rows, 4))
    if takes_missing_values(model):
        features[rng.random(size=features.shape) < 0.05] = np.nan
    signal = np.nan_to_num(features[:, 1]) + 0.5 * np.nan_to_num(features[:, 2])
    if task == "regression":
        target = signal + rng.normal(scale=0.3, size=rows)
    elif task == "binary":
        target = (signal + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    else:
        target = np.digitize(signal + rng.normal(scale=0.5, size=rows), [-0.5, 0.5])
    model.fit(features, target)
    scorer = importance._silent_scorers().get(scoring) or check_scoring(model, scoring=scoring)
    assert importance._predicts_row_by_row(model, features, scorer)  # the batched path
    found = importance._permutation_importance(
        model, features, target, scoring=scoring, repeats=importance.REPEATS, seed=7
    )
    expected = permutation_importance(
        model, features, target, scoring=scoring, n_repeats=importance.REPEATS, random_state=7
    )
    one_thread.restore_original_limits()
    assert np.array_equal(found.importances, expected.importances)
    assert np.any(found.importances != 0)  # a shuffle that changed nothing would prove little


def test_models_that_may_not_predict_row_by_row_are_predicted_a_shuffle_at_a_time() -> None:
    features = np.random.default_rng(3).normal(size=(60, 3))
    target = (features[:, 0] > 0).astype(int)
    linear = LogisticRegression().fit(features, target)
    scorer = check_scoring(linear, scoring="roc_auc")
    assert not importance._predicts_row_by_row(linear, features, scorer)  # a BLAS product
    regressor = _OwnPredict(n_estimators=5, random_state=0).fit(features, features[:, 0])
    assert not importance._predicts_row_by_row(
        regressor, features, check_scoring(regressor, scoring="r2")
    )
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(features, features[:, 0])
    assert not importance._predicts_row_by_row(  # a frame goes through scikit-learn's steps
        forest, pd.DataFrame(features), check_scoring(forest, scoring="r2")
    )


@pytest.mark.parametrize(
    ("task", "estimator"),
    [
        ("classification", "sklearn.ensemble.HistGradientBoostingClassifier"),
        ("classification", "sklearn.ensemble.GradientBoostingClassifier"),  # imputed
        ("classification", "lightgbm.LGBMClassifier"),
        ("regression", "sklearn.ensemble.RandomForestRegressor"),
    ],
)
def test_podiums_pipelines_of_tree_models_predict_every_shuffle_at_once_on_frames(
    task: str, estimator: str
) -> None:
    """A pipeline that one-hot encodes (and, for a model that needs it, imputes) before a
    tree model: its shuffled frames stacked and predicted at once, scikit-learn's numbers."""
    from sklearn.inspection import permutation_importance

    frame = _frame(500, seed=4)
    frame.loc[frame.sample(frac=0.05, random_state=1).index, "noise_a"] = np.nan
    frame.loc[frame.sample(frac=0.05, random_state=2).index, "colour"] = None
    signal = frame["signal"] + (frame["colour"] == "red")
    target = (signal > 0.3).astype(int) if task == "classification" else signal
    model = fit(_podium_pipeline(task, estimator), frame, target, source=estimator, path="t.csv")
    assert importance._passed_through(model, frame) is None  # shuffled as a whole
    scoring = "roc_auc" if task == "classification" else "neg_root_mean_squared_error"
    assert importance._predicts_row_by_row(model, frame, check_scoring(model, scoring=scoring))
    found = importance._permutation_importance(
        model, frame, target, scoring=scoring, repeats=importance.REPEATS, seed=5
    )
    expected = permutation_importance(
        model, frame, target, scoring=scoring, n_repeats=importance.REPEATS, random_state=5
    )
    assert np.array_equal(found.importances, expected.importances)
    assert np.any(found.importances != 0)


def test_a_pipeline_with_a_step_podium_does_not_build_is_predicted_a_shuffle_at_a_time() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures
    from sklearn.tree import DecisionTreeClassifier

    frame = _frame(80)
    target = (frame["signal"] > 0).astype(int)
    tree = "sklearn.tree.DecisionTreeClassifier"
    podiums = fit(
        _podium_pipeline("classification", tree), frame, target, source=tree, path="t.csv"
    )
    assert importance._predicts_row_by_row(
        podiums, frame, check_scoring(podiums, scoring="accuracy")
    )
    numeric = frame.drop(columns="colour")
    other = Pipeline(
        [("expand", PolynomialFeatures()), ("model", DecisionTreeClassifier(random_state=0))]
    ).fit(numeric, target)
    assert not importance._predicts_row_by_row(
        other, numeric, check_scoring(other, scoring="accuracy")
    )


@pytest.mark.parametrize("broken", ["_calculate_permutation_scores", "_create_importances_bunch"])
def test_when_scikit_learns_private_steps_fail_the_public_function_answers(
    broken: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path calls scikit-learn's private functions; a release that changes one
    (a new argument, a new return) makes it fail in any way, never the ranking: the public
    `permutation_importance` gives the same numbers."""
    import sys

    from sklearn.inspection import _permutation_importance as private
    from sklearn.inspection import permutation_importance

    original = getattr(private, broken)

    def changed(*args: object, **kwargs: object) -> object:
        """Fails for podium's call (as a changed signature would), not scikit-learn's own."""
        if sys._getframe(1).f_globals["__name__"] == "podium.importance":
            raise RuntimeError("a signature scikit-learn changed")
        return original(*args, **kwargs)

    features = np.random.default_rng(5).normal(size=(120, 3))
    target = (features[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(features, target)
    expected = permutation_importance(
        model, features, target, scoring="roc_auc", n_repeats=importance.REPEATS, random_state=3
    )
    monkeypatch.setattr(private, broken, changed)
    found = importance._permutation_importance(
        model, features, target, scoring="roc_auc", repeats=importance.REPEATS, seed=3
    )
    assert np.array_equal(found.importances, expected.importances)
    assert np.any(found.importances != 0)
