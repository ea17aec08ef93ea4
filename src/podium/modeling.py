"""Building the challenger: an estimator from a class path or a user entrypoint.

With a bare estimator class podium adds the preprocessing real tables need
(imputation, one-hot encoding of text categories, scaling for non-tree models) and
the whole pipeline is what gets logged, so the registered model takes raw rows.
A user entrypoint owns its preprocessing: podium fits what it returns as is.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.config import Config
from podium.errors import ConfigError, DataError, closest

if TYPE_CHECKING:
    from podium import data
    from podium.scoring import Outputs

_TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")

# The pipelines `_with_preprocessing` built in this process: only these are fitted split
# first (`_fit_split_first`) and scored in blocks; a user's own pipeline is fitted as it is.
_BUILT: weakref.WeakSet[Any] = weakref.WeakSet()
# Cells per block when gathering rows from columns: a 16 MB buffer, ~as fast as any size.
_GATHER_CELLS = 1 << 21


def build(config: Config, feature_types: dict[str, str]) -> Any:
    """An unfitted scikit-learn estimator for this project, ready for raw feature columns."""
    model = config.model
    if model.entrypoint is not None:
        estimator = _from_entrypoint(config, model.entrypoint)
    else:
        assert model.estimator is not None
        estimator = _with_preprocessing(
            _from_class(config, model.estimator.class_, model.estimator.params), feature_types
        )
    _check_task(config, estimator)
    return estimator


def _import_class(config: Config, dotted: str) -> type:
    module_name, _, class_name = dotted.rpartition(".")
    key = f"{config.path}: model.estimator.class"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{key}: cannot import module '{module_name}' ({exc}); "
            "check the spelling or install the package"
        ) from None
    found = getattr(module, class_name, None)
    if found is not None and not isinstance(found, type):
        kind = "a module" if inspect.ismodule(found) else f"a {type(found).__name__}"
        raise ConfigError(
            f"{key}: '{dotted}' is {kind}, not a class; name an estimator class, e.g. "
            "sklearn.ensemble.HistGradientBoostingClassifier"
        )
    if not isinstance(found, type):
        names = [n for n in dir(module) if not n.startswith("_")]
        hint = closest(class_name, names)
        did_you = f"; did you mean '{module_name}.{hint}'?" if hint else ""
        raise ConfigError(f"{key}: '{module_name}' has no class '{class_name}'{did_you}")
    return found


def _from_class(config: Config, dotted: str, params: dict[str, Any]) -> Any:
    cls = _import_class(config, dotted)
    signature: Mapping[str, inspect.Parameter]
    try:
        signature = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # builtins such as dict have no introspectable signature
        signature = {}
    accepted = set(signature)
    # A class taking **kwargs (LightGBM, XGBoost, CatBoost) passes extra parameters to its
    # library, which knows them and says so itself: no typo check on the signature alone.
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    unknown = [p for p in params if p not in accepted]
    if unknown and not open_ended:
        hint = closest(unknown[0], sorted(accepted))
        did_you = f"; did you mean '{hint}'?" if hint else ""
        raise ConfigError(
            f"{config.path}: model.estimator.params.{unknown[0]}: {cls.__name__} has no "
            f"parameter '{unknown[0]}'{did_you}"
        )
    settings = dict(params)
    if "random_state" in accepted and "random_state" not in settings:
        settings["random_state"] = 0  # reproducible challengers unless the user says otherwise
    try:
        estimator = cls(**settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config.path}: model.estimator.params: {exc}") from None
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise ConfigError(
            f"{config.path}: model.estimator.class: {dotted} is not an estimator "
            "(it has no fit/predict)"
        )
    _check_params(config, estimator)
    return estimator


def _check_params(config: Config, estimator: Any) -> None:
    """scikit-learn checks parameter values only in fit: check them now, before the
    data is read and a fit is paid for, and blame podium.yaml rather than the data."""
    validate = getattr(estimator, "_validate_params", None)
    # Other libraries' subclasses of BaseEstimator (LightGBM) inherit the method but
    # declare no constraints: they check their parameters themselves, in fit.
    if not callable(validate) or not hasattr(estimator, "_parameter_constraints"):
        return
    try:
        validate()
    except (TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{config.path}: model.estimator.params: {first}") from None


def _from_entrypoint(config: Config, entrypoint: str) -> Any:
    import cloudpickle

    file_part, function_name = entrypoint.split(":")
    key = f"{config.path}: model.entrypoint"
    path = config.resolve(file_part)
    if not path.is_file():
        raise ConfigError(f"{key}: file '{path}' not found; fix the path in '{entrypoint}'")
    module_name = f"podium_entrypoint_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # let the entrypoint import its siblings
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"{key}: importing {path.name} failed: {type(exc).__name__}: {exc}"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"{key}: {path.name} defines no function '{function_name}'")
    # The module is loaded from a file path, not importable by name later: pickle its
    # classes and functions by value so the registered model loads anywhere.
    cloudpickle.register_pickle_by_value(module)
    try:
        estimator = function()
    except (Exception, SystemExit) as exc:
        raise ConfigError(f"{key}: {entrypoint}() raised {type(exc).__name__}: {exc}") from None
    if isinstance(estimator, type):
        raise ConfigError(
            f"{key}: {entrypoint}() returned the class {estimator.__name__}, not an instance; "
            f"return {estimator.__name__}(...)"
        )
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise ConfigError(
            f"{key}: {entrypoint}() must return an unfitted estimator or pipeline "
            f"(got {type(estimator).__name__})"
        )
    return estimator


def requirements(estimator: Any) -> list[str]:
    """pip requirements of the library of a pipeline's final estimator, beyond scikit-learn
    (e.g. ["lightgbm==4.7.0"]): what the logged model needs to load elsewhere."""
    from importlib import metadata

    final = estimator
    while hasattr(final, "steps") and type(final).__name__ == "Pipeline":
        final = final.steps[-1][1]
    top = type(final).__module__.partition(".")[0]
    if top in {"sklearn", "builtins", "__main__"} or top.startswith("podium_entrypoint_"):
        return []
    found = []
    for dist in metadata.packages_distributions().get(top, []):
        try:
            found.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def _with_preprocessing(estimator: Any, feature_types: dict[str, str]) -> Any:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    numeric = [c for c, t in feature_types.items() if t == "numeric"]
    categorical = [c for c, t in feature_types.items() if t == "categorical"]
    is_tree = type(estimator).__module__.startswith(_TREE_MODULES)
    numeric_steps: list[tuple[str, Any]] = []
    if not takes_missing_values(estimator):
        numeric_steps.append(
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            )
        )
    if not is_tree:
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        # An estimator that splits on missing values itself (HistGradientBoosting, the
        # trees and forests, LightGBM, XGBoost) learns where they go: imputing would only
        # hide them from it, and costs the fit a sort of every column (and ~3x the data
        # in memory at its peak).
        numeric_step = Pipeline(numeric_steps) if numeric_steps else "passthrough"
        transformers.append(("numeric", numeric_step, numeric))
    if categorical and _native_categories(estimator):
        # HistGradientBoosting splits on categories itself: one ordinal column per feature
        # (missing and unseen values as NaN, which it sends to its own branch) instead of a
        # one-hot column per category — a 74-feature table fit in 32.6 s one-hot, ~3 s so.
        ordinal = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            min_frequency=5,
            max_categories=_MAX_NATIVE_CATEGORIES,
            dtype=np.float64,
        )
        transformers.append(("categorical", ordinal, categorical))
        # its columns come after the numeric ones in the preprocessing's output
        estimator.set_params(
            categorical_features=list(range(len(numeric), len(numeric) + len(categorical)))
        )
    elif categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=5,
            max_categories=30,
            sparse_output=False,
        )
        transformers.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                        ("encode", encoder),
                    ]
                ),
                categorical,
            )
        )
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    pipeline = Pipeline([("preprocess", preprocess), ("model", estimator)])
    _BUILT.add(pipeline)
    return pipeline


# HistGradientBoosting bins a categorical feature into at most 255 bins, one kept for
# missing values: rarer categories beyond these are grouped as "infrequent".
_MAX_NATIVE_CATEGORIES = 250


def _native_categories(estimator: Any) -> bool:
    """Whether podium hands the estimator its text categories as categories (ordinal codes
    it splits on natively): scikit-learn's HistGradientBoosting left at its default."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return (
        type(estimator) in (HistGradientBoostingClassifier, HistGradientBoostingRegressor)
        and estimator.get_params()["categorical_features"] == "from_dtype"
    )


def takes_missing_values(estimator: Any) -> bool:
    """Whether the estimator fits and predicts on NaN itself (scikit-learn's `allow_nan` tag)."""
    try:
        from sklearn.utils import get_tags
    except ImportError:  # scikit-learn < 1.6
        return False
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except (AttributeError, TypeError, ValueError):
        return False


def _check_task(config: Config, estimator: Any) -> None:
    from sklearn.base import is_classifier, is_regressor

    task = config.model.task
    source = config.model.entrypoint or (config.model.estimator and config.model.estimator.class_)
    if task == "classification" and is_regressor(estimator):
        raise ConfigError(
            f"{config.path}: model.task is classification but {source} is a regressor; "
            "pick a classifier or set task: regression"
        )
    if task == "regression" and is_classifier(estimator):
        raise ConfigError(
            f"{config.path}: model.task is regression but {source} is a classifier; "
            "pick a regressor or set task: classification"
        )
    kind = _estimator_type(estimator)
    if kind not in (None, "classifier", "regressor"):
        # A clusterer or outlier detector has fit/predict, but its predictions are not
        # labels or values of the target: scoring them would be meaningless.
        wanted = "classifier" if task == "classification" else "regressor"
        raise ConfigError(
            f"{config.path}: model.task is {task} but {source} is a {kind}; pick a {wanted}"
        )


def _estimator_type(estimator: Any) -> str | None:
    try:
        from sklearn.utils import get_tags
    except ImportError:  # scikit-learn < 1.6
        legacy = getattr(estimator, "_estimator_type", None)
        return str(legacy) if legacy is not None else None
    try:
        kind = get_tags(estimator).estimator_type
    except (AttributeError, TypeError, ValueError):
        kind = getattr(estimator, "_estimator_type", None)
    return str(kind) if kind is not None else None


def fit(estimator: Any, features: Any, target: Any, *, source: str, path: Path | str) -> Any:
    """Fit, turning the estimator's complaints about the data into one-line DataErrors."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            from sklearn.exceptions import ConvergenceWarning

            warnings.simplefilter("ignore", category=ConvergenceWarning)
            if _podium_built(estimator) and _fit_split_first(estimator, features, target):
                return estimator
            return estimator.fit(features, target)
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: {source} could not be fitted on this data: {first}") from None


def _fit_split_first(pipeline: Any, features: Any, target: Any) -> bool:
    """Fit podium's pipeline ending in a HistGradientBoosting model as `pipeline.fit` would,
    with a third less memory at the peak; False (nothing fitted) where it cannot.

    `Pipeline.fit` hands the model the preprocessing's output, a copy of every feature
    (`np.hstack`, even for "passthrough"), and the model's early stopping then copies it
    again into its training and validation rows (`train_test_split`); the first copy
    stays alive through the whole fit. Here the same split — the same seed, the same
    stratification, so the same rows in the same order — is made first and the two parts
    are given to the model as `X`, `X_val`: for numeric columns passed through they are
    gathered from the columns themselves (one copy in all), otherwise from the
    preprocessing's output, which is then dropped. What the model computes from them —
    the classes, the bins, the trees — is the same, bit for bit (tests/test_modeling.py
    compares the pickled pipelines); conditions that would make it differ (class weights,
    a split too small to keep early stopping on, a class missing from the training part,
    a seed that is not a number) keep `pipeline.fit`.
    """
    import numpy as np
    from sklearn import get_config
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import column_or_1d

    (_, preprocess), (_, model) = pipeline.steps
    classifier = type(model) is HistGradientBoostingClassifier
    if not (classifier or type(model) is HistGradientBoostingRegressor):
        return False
    params = model.get_params()
    seed = params["random_state"]
    fraction = params["validation_fraction"]
    rows = len(target)
    if (
        fraction is None
        or params["early_stopping"] not in ("auto", True)
        or (params["early_stopping"] == "auto" and rows <= 10_000)  # no split to copy
        or params.get("class_weight") is not None
        or params["categorical_features"] not in ("from_dtype", None)
        or params["warm_start"]
        or not isinstance(seed, int | np.integer)
        or isinstance(seed, bool)
        or get_config()["transform_output"] != "default"
        or "X_val" not in inspect.signature(model.fit).parameters  # scikit-learn < 1.7
    ):
        return False
    columns = _passed_through(preprocess, features)
    try:
        y = column_or_1d(target)
        # HistGradientBoosting's own seed and stratification (its fit: check_random_state,
        # then one draw; the classifier stratifies on its label-encoded target).
        split_seed = np.random.RandomState(seed).randint(np.iinfo(np.uint32).max, dtype="u8")
        stratify = LabelEncoder().fit_transform(y).astype(np.float64) if classifier else None
        train_rows, val_rows = train_test_split(
            np.arange(rows), test_size=fraction, stratify=stratify, random_state=split_seed
        )
    except (ValueError, TypeError):  # the plain fit raises its own, identical, message
        return False
    y_train, y_val = y[train_rows], y[val_rows]
    if params["early_stopping"] == "auto" and len(train_rows) <= 10_000:
        return False  # given X_val, the model would decide on the training part's rows
    if classifier and len(np.unique(y_train)) != len(np.unique(y)):
        return False  # the model's classes come from the rows it is given as X
    if params.get("loss") == "poisson" and not np.sum(y_train) > 0:
        return False  # poisson checks the training part only
    pipeline.steps = list(pipeline.steps)  # as Pipeline.fit does
    if columns is not None:
        preprocess.fit(features.iloc[:2])  # a passthrough learns the columns, not values
        x_train, x_val = _gathered(columns, train_rows), _gathered(columns, val_rows)
    else:
        matrix = preprocess.fit_transform(features, target)
        if not isinstance(matrix, np.ndarray):  # sparse: Pipeline.fit refits it all
            return False  # pragma: no cover
        x_train, x_val = matrix[train_rows], matrix[val_rows]
        del matrix  # freed before the binning and the trees, unlike inside Pipeline.fit
    model.fit(x_train, y_train, X_val=x_val, y_val=y_val)
    return True


def _podium_built(estimator: Any) -> bool:
    try:
        return estimator in _BUILT
    except TypeError:  # unhashable (a user's object defining __eq__): not podium's
        return False


def predicts_row_by_row(model: Any) -> bool:
    """Whether a fitted model is a pipeline podium built ending in HistGradientBoosting:
    its output for a row is a function of that row alone (fitted statistics and category
    lookups applied element by element, then each row's path down each tree), the same in
    any batch of rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return _podium_built(model) and type(model.steps[-1][1]) in (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )


def _passed_through(preprocess: Any, features: Any) -> list[Any] | None:
    """The float64 columns the preprocessing's output would hold, in its order, if every
    transformer passes its columns through unchanged; else None."""
    import numpy as np
    import pandas as pd

    if (
        not isinstance(features, pd.DataFrame)
        or not features.columns.is_unique
        or preprocess.remainder != "drop"
    ):
        return None
    names: list[str] = []
    for _, transformer, selected in preprocess.transformers:
        if not (isinstance(transformer, str) and transformer == "passthrough"):
            return None
        names.extend(selected)
    if not set(names) <= set(features.columns):  # Pipeline.fit says which is missing
        return None
    columns = [features[name].to_numpy() for name in names]
    if not all(isinstance(c, np.ndarray) and c.dtype == np.float64 for c in columns):
        return None
    return columns


def _gathered(columns: list[Any], rows: Any) -> Any:
    """The given rows of `columns` as one C-ordered (rows, columns) array — the layout
    `train_test_split` gives the model (a column-major one would be copied whole by its
    binning's `take`) — gathered a block of rows at a time through a small buffer."""
    import numpy as np

    out = np.empty((len(rows), len(columns)))
    block = min(len(rows), max(1024, _GATHER_CELLS // max(len(columns), 1)))
    buffer = np.empty((len(columns), block))
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        gathered = buffer[:, : len(chunk)]
        for index, column in enumerate(columns):
            np.take(column, chunk, out=gathered[index])
        out[start : start + len(chunk)] = gathered.T
    return out


def on_training_data(
    model: object, train_set: data.Dataset, task: str, *, source: str
) -> dict[str, float]:
    """`train_*` metrics of a fitted model on its own training data (a model that cannot
    predict it is a DataError, before anything is registered)."""
    from podium.scoring import score_outputs

    try:
        outputs = training_outputs(model, train_set.features, task)
        on_train = score_outputs(outputs, train_set.target, task)
    except (ValueError, TypeError, AttributeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{source}: the fitted model cannot predict its own training data: {message}"
        ) from None
    return {f"train_{k}": v for k, v in on_train.items()}


# Rows × features per prediction call when podium's own pipeline scores its training rows.
_SCORED_CELLS = 1 << 22


def training_outputs(
    model: Any, features: Any, task: str, *, cells: int = _SCORED_CELLS
) -> Outputs:
    """`scoring.predict` of the training rows; for podium's own HistGradientBoosting
    pipeline a block of rows at a time. Its preprocessing copies what it is given (twice,
    for a moment: pandas, then `np.hstack`), which for the whole training table made this
    the run's memory peak once the fit spared its copy; the pipeline's outputs for a row
    do not depend on the other rows (`predicts_row_by_row`), so the blocks'
    outputs put together are the whole table's, bit for bit."""
    import numpy as np

    from podium.scoring import Outputs, predict

    rows = max(1, cells // max(len(features.columns), 1))
    if len(features) <= rows or not predicts_row_by_row(model):
        return predict(model, features, task)
    parts = [
        predict(model, features.iloc[i : i + rows], task) for i in range(0, len(features), rows)
    ]

    def joined(field: str) -> Any:
        found = [getattr(part, field) for part in parts]
        return None if found[0] is None else np.concatenate(found)

    return Outputs(
        predicted=joined("predicted"),
        proba=joined("proba"),
        decision=joined("decision"),
        classes=parts[0].classes,
    )
