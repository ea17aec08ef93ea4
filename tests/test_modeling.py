"""Building the challenger: class path + params, or a user entrypoint; preprocessing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from podium.config import Config, load
from podium.errors import ConfigError, DataError
from podium.modeling import build, fit
from tests.conftest import Project

TYPES = {"age": "numeric", "income": "numeric", "plan": "categorical", "region": "categorical"}


def make_config(
    folder: Path,
    *,
    task: str = "classification",
    estimator: str | None = "sklearn.tree.DecisionTreeClassifier",
    params: dict[str, Any] | None = None,
    entrypoint: str | None = None,
    files: dict[str, str] | None = None,
) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    model: dict[str, Any] = {"name": "m", "task": task}
    if entrypoint is not None:
        model["entrypoint"] = entrypoint
    else:
        model["estimator"] = {"class": estimator, "params": params or {}}
    for name, text in (files or {}).items():
        (folder / name).write_text(textwrap.dedent(text))
    document = {"model": model, "data": {"train": "t.csv", "eval": "e.csv", "target": "y"}}
    (folder / "podium.yaml").write_text(yaml.safe_dump(document))
    return load(folder / "podium.yaml")


def refused(config: Config, *fragments: str, types: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        build(config, types or TYPES)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(config.path))
    for fragment in fragments:
        assert fragment in message, message
    return message


def table(rows: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Raw rows as podium prepares them: float numerics with gaps, text with gaps."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows).astype(float)
    income = rng.normal(50, 10, rows)
    plan = rng.choice(["monthly", "yearly"], rows).astype(object)
    region = rng.choice(["north", "south", "east"], rows).astype(object)
    age[::7] = np.nan
    plan[::5] = np.nan
    frame = pd.DataFrame({"age": age, "income": income, "plan": plan, "region": region})
    target = pd.Series((plan == "monthly").astype(int) ^ (age > 50).astype(int))
    return frame, target


# -- class path + params --------------------------------------------------------------------


def test_class_path_and_params_become_the_last_pipeline_step(tmp_path: Path) -> None:
    config = make_config(tmp_path, params={"max_depth": 3})
    pipeline = build(config, TYPES)
    model = pipeline.named_steps["model"]
    assert type(model).__name__ == "DecisionTreeClassifier"
    assert model.max_depth == 3
    assert model.random_state == 0  # reproducible unless the user says otherwise


def test_users_random_state_is_kept(tmp_path: Path) -> None:
    config = make_config(tmp_path, params={"random_state": 42})
    assert build(config, TYPES).named_steps["model"].random_state == 42


def test_estimators_without_random_state_are_built_as_given(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, estimator="sklearn.neighbors.KNeighborsClassifier", params={"n_neighbors": 3}
    )
    model = build(config, TYPES).named_steps["model"]
    assert model.n_neighbors == 3
    assert "random_state" not in model.get_params()


def test_unknown_class_suggests_the_closest(tmp_path: Path) -> None:
    config = make_config(tmp_path, estimator="sklearn.tree.DecisionTreeClassifer")
    refused(
        config,
        "model.estimator.class",
        "no class 'DecisionTreeClassifer'",
        "sklearn.tree.DecisionTreeClassifier",
    )


def test_unknown_module(tmp_path: Path) -> None:
    config = make_config(tmp_path, estimator="sklearn.tres.DecisionTreeClassifier")
    refused(config, "model.estimator.class", "cannot import module 'sklearn.tres'", "install")


def test_module_of_a_package_that_is_not_installed(tmp_path: Path) -> None:
    config = make_config(tmp_path, estimator="nosuchpackage_podium.Model")
    refused(config, "cannot import module 'nosuchpackage_podium'")


def test_unknown_param_suggests_the_closest(tmp_path: Path) -> None:
    config = make_config(tmp_path, params={"max_dept": 3})
    refused(
        config,
        "model.estimator.params.max_dept",
        "no parameter 'max_dept'",
        "did you mean 'max_depth'?",
    )


@pytest.mark.parametrize(
    ("params", "culprit"),
    [
        ({"max_depth": "deep"}, "max_depth"),
        ({"criterion": "nope"}, "criterion"),
        ({"max_depth": -1}, "max_depth"),
    ],
)
def test_invalid_param_value_blames_the_config_not_the_data(
    tmp_path: Path, params: dict[str, Any], culprit: str
) -> None:
    refused(make_config(tmp_path, params=params), "model.estimator.params", f"'{culprit}'")


@pytest.mark.parametrize(
    ("dotted", "fragment"),
    [
        ("collections.OrderedDict", "not an estimator"),
        ("sklearn.preprocessing.StandardScaler", "not an estimator"),
        ("sklearn.tree.export_text", "is a function, not a class"),
        ("os.path", "is a module, not a class"),
    ],
)
def test_things_that_are_not_estimators(tmp_path: Path, dotted: str, fragment: str) -> None:
    refused(make_config(tmp_path, estimator=dotted), "model.estimator.class", fragment)


@pytest.mark.parametrize(
    ("task", "dotted", "fragment"),
    [
        ("classification", "sklearn.linear_model.LinearRegression", "is a regressor"),
        ("classification", "sklearn.ensemble.HistGradientBoostingRegressor", "is a regressor"),
        ("regression", "sklearn.tree.DecisionTreeClassifier", "is a classifier"),
        ("regression", "sklearn.linear_model.LogisticRegression", "is a classifier"),
        ("classification", "sklearn.cluster.KMeans", "is a clusterer"),
        ("regression", "sklearn.mixture.GaussianMixture", "pick a regressor"),
    ],
)
def test_estimator_of_the_wrong_kind_for_the_task(
    tmp_path: Path, task: str, dotted: str, fragment: str
) -> None:
    refused(make_config(tmp_path, task=task, estimator=dotted), f"model.task is {task}", fragment)


def test_required_constructor_argument(tmp_path: Path) -> None:
    refused(
        make_config(tmp_path, estimator="sklearn.pipeline.Pipeline"),
        "model.estimator.params",
        "steps",
    )


# -- preprocessing for raw tables -----------------------------------------------------------


def _transformers(pipeline: Any) -> dict[str, Any]:
    return {name: step for name, step, _ in pipeline.named_steps["preprocess"].transformers}


def test_tree_models_get_imputation_and_encoding_but_no_scaling(tmp_path: Path) -> None:
    pipeline = build(
        make_config(tmp_path, estimator="sklearn.ensemble.GradientBoostingClassifier"), TYPES
    )
    numeric = _transformers(pipeline)["numeric"]
    assert [name for name, _ in numeric.steps] == ["impute"]
    assert "categorical" in _transformers(pipeline)


@pytest.mark.parametrize(
    "dotted",
    [
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.tree.DecisionTreeClassifier",
        "lightgbm.LGBMClassifier",
    ],
)
def test_models_that_split_on_missing_values_get_them_unimputed(
    tmp_path: Path, dotted: str
) -> None:
    pipeline = build(make_config(tmp_path, estimator=dotted), TYPES)
    assert _transformers(pipeline)["numeric"] == "passthrough"
    assert "categorical" in _transformers(pipeline)  # text still needs encoding


def test_a_model_that_splits_on_missing_values_learns_what_missing_means(
    tmp_path: Path,
) -> None:
    """Missingness that carries the label: the native model sees it, not a median."""
    rng = np.random.default_rng(0)
    rows = 2_000
    value = rng.normal(size=rows)
    target = pd.Series(rng.integers(0, 2, size=rows))
    value[target.to_numpy() == 1] = np.nan  # missing exactly when the label is 1
    frame = pd.DataFrame({"age": value, "income": rng.normal(size=rows)})
    types = {"age": "numeric", "income": "numeric"}
    config = make_config(tmp_path, estimator="sklearn.ensemble.HistGradientBoostingClassifier")
    fitted = fit(build(config, types), frame, target, source="hgb", path=tmp_path / "t.csv")
    assert (fitted.predict(frame) == target).mean() == 1.0


def test_without_missing_values_the_unimputed_pipeline_predicts_as_the_imputed_one(
    tmp_path: Path,
) -> None:
    """The imputer was the identity on complete data: dropping it changes no prediction."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(3_000, 4)), columns=["a", "b", "c", "d"])
    target = pd.Series((frame["a"] + frame["b"] * frame["c"] > 0).astype(int))
    types = dict.fromkeys(frame.columns, "numeric")
    config = make_config(tmp_path, estimator="sklearn.ensemble.HistGradientBoostingClassifier")
    ours = fit(build(config, types), frame, target, source="hgb", path=tmp_path / "t.csv")
    imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    before = Pipeline(
        [
            ("preprocess", ColumnTransformer([("numeric", imputer, list(frame.columns))])),
            ("model", HistGradientBoostingClassifier(random_state=0)),
        ]
    ).fit(frame, target)
    assert np.array_equal(ours.predict_proba(frame), before.predict_proba(frame))


def test_linear_models_also_get_scaling(tmp_path: Path) -> None:
    pipeline = build(
        make_config(tmp_path, estimator="sklearn.linear_model.LogisticRegression"), TYPES
    )
    numeric = _transformers(pipeline)["numeric"]
    assert [name for name, _ in numeric.steps] == ["impute", "scale"]


@pytest.mark.parametrize(
    "dotted",
    [
        "sklearn.linear_model.LogisticRegression",  # cannot take NaN nor text on its own
        "sklearn.tree.DecisionTreeClassifier",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.svm.SVC",
    ],
)
def test_text_categories_and_missing_values_are_handled_by_the_pipeline(
    tmp_path: Path, dotted: str
) -> None:
    frame, target = table()
    pipeline = build(make_config(tmp_path, estimator=dotted), TYPES)
    fitted = fit(pipeline, frame, target, source=dotted, path=tmp_path / "t.csv")
    predicted = fitted.predict(frame)
    assert len(predicted) == len(frame)
    assert set(np.unique(predicted)) <= {0, 1}
    assert (predicted == target).mean() > 0.6  # it learned something from the raw columns


def test_regression_pipeline_on_raw_columns(tmp_path: Path) -> None:
    frame, _ = table()
    target = frame["income"].fillna(0) * 2 + 1
    config = make_config(tmp_path, task="regression", estimator="sklearn.linear_model.Ridge")
    fitted = fit(build(config, TYPES), frame, target, source="Ridge", path=tmp_path / "t.csv")
    assert np.allclose(fitted.predict(frame), target, atol=1.0)


def test_unseen_categories_and_new_gaps_at_predict_time(tmp_path: Path) -> None:
    frame, target = table()
    config = make_config(tmp_path, estimator="sklearn.linear_model.LogisticRegression")
    fitted = fit(build(config, TYPES), frame, target, source="lr", path=tmp_path / "t.csv")
    later = pd.DataFrame(
        {
            "age": [30.0, np.nan],
            "income": [np.nan, 55.0],  # never missing in training
            "plan": ["weekly", np.nan],  # a plan that did not exist in training
            "region": ["mars", "north"],
        }
    )
    assert len(fitted.predict(later)) == 2
    assert fitted.predict_proba(later).shape == (2, 2)


def test_only_numeric_or_only_categorical_features(tmp_path: Path) -> None:
    frame, target = table()
    config = make_config(tmp_path, estimator="sklearn.linear_model.LogisticRegression")
    for columns in (["age", "income"], ["plan", "region"]):
        types = {c: TYPES[c] for c in columns}
        fitted = fit(
            build(config, types), frame[columns], target, source="lr", path=tmp_path / "t.csv"
        )
        assert len(fitted.predict(frame[columns])) == len(frame)


def test_fit_failure_is_a_one_line_data_error_naming_the_file(tmp_path: Path) -> None:
    frame, _ = table()
    single_class = pd.Series([1] * len(frame))
    config = make_config(tmp_path, estimator="sklearn.linear_model.LogisticRegression")
    with pytest.raises(DataError) as caught:
        fit(build(config, TYPES), frame, single_class, source="lr", path=tmp_path / "t.csv")
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "t.csv"))
    assert "could not be fitted" in message
    assert "\n" not in message


# -- podium's HistGradientBoosting pipeline fitted split first (memory) -----------------------

HGB = "sklearn.ensemble.HistGradientBoosting"


def early_stopping_table(
    rows: int = 12_000,
    *,
    columns: int = 5,
    categorical: bool = False,
    missing: bool = False,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Enough rows for HistGradientBoosting's early stopping (> 10,000), as podium prepares
    them: float64 numerics (with gaps if `missing`), text with gaps if `categorical`."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(columns)})
    if missing:
        frame.loc[rng.random(rows) < 0.1, "x1"] = np.nan
    types = dict.fromkeys(frame.columns, "numeric")
    if categorical:
        plan = rng.choice(["monthly", "yearly", "weekly", "(none)"], rows).astype(object)
        plan[::9] = np.nan
        frame.insert(2, "plan", plan)  # between numeric columns: the pipeline reorders
        types["plan"] = "categorical"
    return frame, types


def targets(frame: pd.DataFrame, seed: int = 1) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    signal = frame["x0"].fillna(0) + rng.normal(size=len(frame))
    return {
        "binary": pd.Series((signal > 0).astype(int)),
        "3 text classes": pd.Series(np.array(["a", "b", "c"])[np.digitize(signal, [-0.5, 0.5])]),
        "regression": pd.Series(2 * signal),
    }


def plain_fit(config: Config, types: dict[str, str], frame: pd.DataFrame, y: pd.Series) -> Any:
    """What podium fitted before: scikit-learn's own `Pipeline.fit` of the same pipeline."""
    return build(config, types).fit(frame, y)


def hgb_config(tmp_path: Path, kind: str, **params: Any) -> Config:
    task = "regression" if kind == "regression" else "classification"
    suffix = "Regressor" if task == "regression" else "Classifier"
    return make_config(
        tmp_path / kind.replace(" ", "-"),
        task=task,
        estimator=f"{HGB}{suffix}",
        params={"max_iter": 30, **params},
    )


# The three kinds of table of the split-first tests (tests/stages/test_train.py uses it too).
TABLE_KINDS = pytest.mark.parametrize(
    ("categorical", "missing"),
    [(False, False), (False, True), (True, True)],
    ids=["numeric", "numeric-with-gaps", "categorical-and-numeric-with-gaps"],
)


@TABLE_KINDS
def test_podiums_hgb_pipeline_is_fitted_bit_for_bit_as_pipeline_fit_fits_it(
    tmp_path: Path, categorical: bool, missing: bool
) -> None:
    import pickle

    from podium import modeling

    frame, types = early_stopping_table(categorical=categorical, missing=missing)
    for kind, y in targets(frame).items():
        config = hgb_config(tmp_path, kind)
        pipeline = build(config, types)
        if categorical:
            # Native categories (issue 31: an OrdinalEncoder step + `categorical_features`):
            # the model's own encoder would learn its categories from the training part
            # only, so the split-first path cannot promise the same fit; `fit` falls back
            # to Pipeline.fit, untouched by the attempt.
            assert not modeling._fit_split_first(pipeline, frame, y), kind
            assert not hasattr(pipeline[-1], "n_iter_"), kind  # nothing was fitted
            pipeline = fit(pipeline, frame, y, source="hgb", path=tmp_path / "t.csv")
        else:
            assert modeling._fit_split_first(pipeline, frame, y), kind  # the path under test
        before = plain_fit(config, types, frame, y)
        # Every fitted attribute of every step: classes, bins, trees, scores, seeds.
        assert pickle.dumps(pipeline) == pickle.dumps(before), kind
        method = "predict" if kind == "regression" else "predict_proba"
        assert np.array_equal(getattr(pipeline, method)(frame), getattr(before, method)(frame))
        assert len(pipeline[-1].validation_score_) > 1  # scored on the held-out rows


def test_fit_takes_the_split_first_path_and_spares_a_copy_of_the_features(
    tmp_path: Path,
) -> None:
    import tracemalloc

    frame, types = early_stopping_table(30_000, columns=20)
    y = targets(frame)["binary"]
    config = hgb_config(tmp_path, "binary", max_iter=3)
    fit(build(config, types), frame, y, source="hgb", path=tmp_path / "t.csv")  # imports
    peaks = {}
    for way in ("plain", "podium"):
        pipeline = build(config, types)
        tracemalloc.start()
        if way == "plain":
            pipeline.fit(frame, y)
        else:
            fit(pipeline, frame, y, source="hgb", path=tmp_path / "t.csv")
        peaks[way] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    features = frame.to_numpy().nbytes
    assert peaks["plain"] - peaks["podium"] > 0.8 * features, (peaks, features)


@pytest.mark.parametrize(
    ("rows", "params"),
    [
        (10_500, {}),  # early stopping on 10,500 rows, but not on their 9,450 training rows
        (12_000, {"class_weight": "balanced"}),  # weights from all the rows
        (12_000, {"early_stopping": False}),  # no split to spare
        (12_000, {"random_state": None}),  # the global generator: no seed to replay
        (12_000, {"validation_fraction": None}),
    ],
)
def test_what_the_split_first_fit_could_change_is_fitted_by_pipeline_fit(
    tmp_path: Path, rows: int, params: dict[str, Any]
) -> None:
    import pickle

    from podium import modeling

    frame, types = early_stopping_table(rows)
    y = targets(frame)["binary"]
    config = hgb_config(tmp_path, "binary", **params)
    pipeline = build(config, types)
    assert not modeling._fit_split_first(pipeline, frame, y)
    assert not hasattr(pipeline[-1], "n_iter_")  # nothing was fitted
    if params.get("random_state", 0) is not None:
        fitted = fit(pipeline, frame, y, source="hgb", path=tmp_path / "t.csv")
        assert pickle.dumps(fitted) == pickle.dumps(plain_fit(config, types, frame, y))


def test_a_class_too_rare_to_stratify_fails_as_pipeline_fit_does(tmp_path: Path) -> None:
    frame, types = early_stopping_table()
    y = targets(frame)["binary"].copy()
    y.iloc[7] = 2  # one row of a third class: HistGradientBoosting's split refuses it
    config = hgb_config(tmp_path, "3 text classes")
    with pytest.raises(DataError) as caught:
        fit(build(config, types), frame, y, source="hgb", path=tmp_path / "t.csv")
    with pytest.raises(ValueError) as plain:
        plain_fit(config, types, frame, y)
    first = str(plain.value).strip().splitlines()[0]
    assert str(caught.value).endswith(f"could not be fitted on this data: {first}")


def test_a_missing_column_fails_as_pipeline_fit_says(tmp_path: Path) -> None:
    frame, types = early_stopping_table()
    y = targets(frame)["binary"]
    with pytest.raises(DataError) as caught:
        fit(
            build(hgb_config(tmp_path, "binary"), types),
            frame.drop(columns="x3"),
            y,
            source="hgb",
            path=tmp_path / "t.csv",
        )
    assert "x3" in str(caught.value)


def test_only_pipelines_podium_built_are_fitted_split_first(tmp_path: Path) -> None:
    """A user's pipeline of the very same steps, or a clone of podium's, is fitted by
    scikit-learn as given."""
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    from podium import modeling

    frame, types = early_stopping_table()
    built = build(hgb_config(tmp_path, "binary"), types)
    users = Pipeline(
        [
            ("preprocess", ColumnTransformer([("numeric", "passthrough", list(frame.columns))])),
            ("model", HistGradientBoostingClassifier(random_state=0)),
        ]
    )
    assert built in modeling._BUILT
    assert users not in modeling._BUILT
    assert clone(built) not in modeling._BUILT


def test_an_unhashable_estimator_of_a_user_is_fitted_as_given(tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass
    class Majority:  # a dataclass defines __eq__, so it has no hash
        label: int = -1

        def fit(self, features: Any, target: Any) -> Majority:
            self.label = int(pd.Series(target).mode()[0])
            return self

        def predict(self, features: Any) -> Any:
            return np.full(len(features), self.label)

    frame, target = table()
    fitted = fit(Majority(), frame, target, source="m", path=tmp_path / "t.csv")
    assert fitted.label == int(target.mode()[0])


# -- entrypoints ----------------------------------------------------------------------------

WORKING_ENTRYPOINT = """
    import numpy as np
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    from helpers import DEPTH  # a sibling module, importable while building


    class YearsFromMonths(BaseEstimator, TransformerMixin):
        \"\"\"A custom transformer that exists only in this file.\"\"\"

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            months = np.asarray(X, dtype=float)
            return np.nan_to_num(months // 12, nan=-1.0)


    def build_model():
        prepare = make_column_transformer(
            (YearsFromMonths(), ["tenure_months"]),
            (SimpleImputer(strategy="median"), ["monthly_charges", "support_calls"]),
            (
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="?"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                ["plan"],
            ),
        )
        return make_pipeline(prepare, DecisionTreeClassifier(max_depth=DEPTH, random_state=0))
"""


def entrypoint_config(tmp_path: Path, source: str | None, function: str = "build_model") -> Config:
    files = {"helpers.py": "DEPTH = 3\n"}
    if source is not None:
        files["train.py"] = source
    return make_config(tmp_path, entrypoint=f"train.py:{function}", files=files)


def test_working_entrypoint_is_fitted_as_returned(tmp_path: Path) -> None:
    pipeline = build(entrypoint_config(tmp_path, WORKING_ENTRYPOINT), TYPES)
    assert type(pipeline.steps[-1][1]).__name__ == "DecisionTreeClassifier"
    assert pipeline.steps[-1][1].max_depth == 3
    assert "preprocess" not in pipeline.named_steps  # the entrypoint owns its preprocessing


def test_entrypoint_file_missing(tmp_path: Path) -> None:
    refused(entrypoint_config(tmp_path, None), "model.entrypoint", "train.py' not found")


def test_entrypoint_function_missing(tmp_path: Path) -> None:
    config = entrypoint_config(tmp_path, "def build():\n    pass\n", function="build_model")
    refused(config, "model.entrypoint", "defines no function 'build_model'")


def test_entrypoint_name_that_is_not_a_function(tmp_path: Path) -> None:
    config = entrypoint_config(tmp_path, "build_model = 3\n")
    refused(config, "defines no function 'build_model'")


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        (
            "def build_model():\n    raise RuntimeError('no GPU here')\n",
            ["raised RuntimeError: no GPU here"],
        ),
        ("def build_model(x):\n    return x\n", ["raised TypeError"]),
        ("import sys\n\ndef build_model():\n    sys.exit(3)\n", ["raised SystemExit"]),
        ("import nosuchmodule_podium\n", ["importing train.py failed", "ModuleNotFoundError"]),
        ("def build_model(:\n", ["importing train.py failed", "SyntaxError"]),
        ("raise SystemExit('bye')\n", ["importing train.py failed", "SystemExit"]),
    ],
)
def test_entrypoint_that_fails(tmp_path: Path, source: str, fragments: list[str]) -> None:
    refused(entrypoint_config(tmp_path, source), "model.entrypoint", *fragments)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("def build_model():\n    return 42\n", "(got int)"),
        ("def build_model():\n    return None\n", "(got NoneType)"),
        (
            "from sklearn.tree import DecisionTreeClassifier\n\n"
            "def build_model():\n    return DecisionTreeClassifier\n",
            "returned the class DecisionTreeClassifier, not an instance",
        ),
    ],
)
def test_entrypoint_returning_a_non_estimator(tmp_path: Path, source: str, fragment: str) -> None:
    refused(entrypoint_config(tmp_path, source), "model.entrypoint", fragment)


def test_entrypoint_returning_a_regressor_for_classification(tmp_path: Path) -> None:
    source = "from sklearn.linear_model import Ridge\n\ndef build_model():\n    return Ridge()\n"
    refused(
        entrypoint_config(tmp_path, source), "model.task is classification", "train.py:build_model"
    )


def test_registered_entrypoint_model_loads_without_the_entrypoint_file(
    make_project: Any, tmp_path: Path
) -> None:
    """The custom class is pickled by value: a fresh process that has never seen
    train.py (deleted, not on sys.path) loads the registered model and predicts."""
    project: Project = make_project()
    (project.root / "train.py").write_text(textwrap.dedent(WORKING_ENTRYPOINT))
    (project.root / "helpers.py").write_text("DEPTH = 3\n")
    document = project.config()
    document["model"] = {
        "name": "churn",
        "task": "classification",
        "entrypoint": "train.py:build_model",
    }
    project.write_config(document)

    trained = project.cli("train")
    assert trained.code == 0, trained.err
    version = json.loads((project.state / "train.json").read_text())["version"]
    (project.root / "train.py").unlink()
    (project.root / "helpers.py").unlink()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        import mlflow
        import pandas as pd
        mlflow.set_tracking_uri({f"sqlite:///{project.state / 'mlflow.db'}"!r})
        model = mlflow.sklearn.load_model("models:/churn/{version}")
        assert "train" not in sys.modules and "podium_entrypoint_train" not in sys.modules
        rows = pd.read_csv({str(project.root / "data" / "eval.csv")!r}).head(50)
        predicted = model.predict(rows)
        # the registered model is RawRows then the user's pipeline (issue 31)
        assert type(model.steps[0][1]).__name__ == "RawRows"
        users = model.steps[-1][1]
        print(type(users.steps[0][1].transformers_[0][1]).__name__, len(predicted))
        """
    )
    (elsewhere / "load.py").write_text(script)
    proc = subprocess.run(
        [sys.executable, "load.py"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["YearsFromMonths", "50"]


# -- scikit-learn-API classes of other libraries ----------------------------------------------


def test_lightgbm_takes_extra_params_through_kwargs_and_fits_in_the_pipeline(
    tmp_path: Path,
) -> None:
    """LightGBM passes `verbose` (and any library parameter) through **kwargs: no typo
    check on the signature, which does not list it; the library knows its own."""
    config = make_config(
        tmp_path,
        estimator="lightgbm.LGBMClassifier",
        params={"verbose": -1, "n_estimators": 20, "num_leaves": 7},
    )
    pipeline = build(config, TYPES)
    model = pipeline.named_steps["model"]
    assert model.get_params()["verbose"] == -1 and model.n_estimators == 20
    assert model.random_state == 0
    assert "scale" not in str(pipeline.named_steps["preprocess"])  # a tree model: no scaling
    features, target = table(200)
    fitted = fit(pipeline, features, target, source="lightgbm.LGBMClassifier", path="t.csv")
    assert fitted.predict_proba(features).shape == (200, 2)


def test_a_bad_value_for_a_kwargs_class_is_still_the_librarys_one_line_error(
    tmp_path: Path,
) -> None:
    config = make_config(
        tmp_path, estimator="lightgbm.LGBMClassifier", params={"n_estimators": "many"}
    )
    features, target = table(100)
    with pytest.raises(DataError) as caught:
        fit(build(config, TYPES), features, target, source="lightgbm.LGBMClassifier", path="t.csv")
    assert "\n" not in str(caught.value)


def test_classes_without_kwargs_keep_the_typo_check(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, estimator="sklearn.ensemble.RandomForestClassifier", params={"verbos": 1}
    )
    refused(config, "no parameter 'verbos'", "did you mean 'verbose'?")


def test_a_lightgbm_estimator_is_trained_registered_loaded_and_judged(
    champion_project: Project, registry_of: Any
) -> None:
    """Through `podium run`: logged with its library as a requirement, loaded back, scored
    with probabilities against a scikit-learn champion on the same rows."""
    project = champion_project  # a scikit-learn champion
    project.set_estimator("lightgbm.LGBMClassifier", verbose=-1, n_estimators=30, num_leaves=7)
    result = project.cli("run")
    assert result.code == 0, result.err
    evaluated = json.loads((project.state / "evaluation.json").read_text())
    assert evaluated["challenger"]["metrics"]["roc_auc"] > 0.7
    assert evaluated["challenger"]["metrics"]["log_loss"] > 0
    assert evaluated["checks"][0]["interval"] is not None
    import lightgbm
    import mlflow

    version = registry_of(project).get_version("2")
    requirements = Path(
        mlflow.artifacts.download_artifacts(
            f"{version.uri}/requirements.txt", dst_path=str(project.root)
        )
    ).read_text()
    assert f"lightgbm=={lightgbm.__version__}" in requirements


# -- issue 31: HistGradientBoosting splits on categories itself -------------------------------


def test_hist_gradient_boosting_gets_its_categories_natively_not_one_hot(tmp_path: Path) -> None:
    from sklearn.preprocessing import OrdinalEncoder

    from tests.shaped import credit_tables

    train, evaluation = credit_tables()
    types = {
        "Age": "numeric",
        "Duration": "numeric",
        "CreditAmount": "numeric",
        "Income": "numeric",
        "Housing": "categorical",
        "Purpose": "categorical",
        "Savings": "categorical",
    }
    frame = train[list(types)].astype({c: float for c, k in types.items() if k == "numeric"})
    frame = frame.astype({c: object for c, k in types.items() if k == "categorical"})
    config = make_config(tmp_path, estimator="sklearn.ensemble.HistGradientBoostingClassifier")
    pipeline = build(config, types)
    encoder = _transformers(pipeline)["categorical"]
    assert isinstance(encoder, OrdinalEncoder)  # one column per feature, not per category
    model = pipeline.named_steps["model"]
    assert model.categorical_features == [4, 5, 6]  # after the four numeric columns
    fitted = fit(pipeline, frame, train["risk"], source="hgb", path=tmp_path / "t.csv")
    later = evaluation[list(types)].copy().astype({"Housing": object})
    later.loc[0, "Housing"] = "boat"  # unseen: the missing-values branch, no error
    later.loc[1, "Savings"] = np.nan
    later = later.astype({c: float for c, k in types.items() if k == "numeric"})
    proba = fitted.predict_proba(later)
    assert proba.shape == (len(later), 2) and np.isfinite(proba).all()
    assert fitted.named_steps["model"].is_categorical_.tolist() == [False] * 4 + [True] * 3
    # a user's explicit choice is kept: no native categories, one-hot as before
    config = make_config(
        tmp_path / "own",
        estimator="sklearn.ensemble.HistGradientBoostingClassifier",
        params={"categorical_features": None},
    )
    assert not isinstance(_transformers(build(config, types))["categorical"], OrdinalEncoder)
