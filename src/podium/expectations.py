"""The Great Expectations adapter: the only module that imports `great_expectations`.

Suites are GX Core 1.x JSON files (`{"name", "expectations": [{"type", "kwargs"}]}`),
as GX writes them. They run on the in-memory table podium already read (each file is
read once), in an ephemeral context with analytics, progress bars and data docs off:
CI needs the verdict and a few examples, not GX's bookkeeping.

The expectation types `podium suggest` writes are checked here in vectorised pandas,
with GX's semantics and result records (proved by differential tests against GX):
importing GX costs seconds and its validation graph most of the rest. Any other type,
kwarg, dtype or edge GX treats specially goes to GX, imported only then.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from podium.errors import ConfigError, DataError, closest

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES = 5
# kwargs that name a column the data must have for the expectation to be evaluable
_COLUMN_KEYS = ("column", "column_A", "column_B")
_COLUMN_LIST_KEYS = ("column_list",)
# expectations for which a missing column is the finding, not a broken suite
_ABOUT_PRESENCE = {"expect_column_to_exist"}
_TYPE_CHECKS = {"expect_column_values_to_be_in_type_list", "expect_column_values_to_be_of_type"}
# names a suite may use for "text" in a type check (pandas 2 object, pandas 3 str, numpy, GX docs)
TEXT_TYPES = {
    "str",
    "string",
    "object",
    "O",
    "StringDtype",
    "str_",
    "unicode",
    "unicode_",
    "string[python]",
    "string[pyarrow]",
    "string_",
}
# … and for a pandas categorical column (pandas' name, its dtype class and its scalar type)
_CATEGORY_TYPES = {"category", "CategoricalDtype", "CategoricalDtypeType"}


@dataclass(frozen=True)
class Suite:
    """A loaded expectation suite: its file, name and expectation configurations."""

    path: Path
    name: str
    expectations: list[dict[str, Any]]


@dataclass
class Report:
    """Results of one suite over one or more datasets, in `validation.json`'s shape."""

    suite: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> int:
        return sum(not r["success"] for r in self.results)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "passed": self.passed,
            "evaluated": self.evaluated,
            "failed": self.failed,
            "results": self.results,
        }


def load_suite(path: Path, *, key: str = "data.expectations") -> Suite:
    """Read and check a suite file; ConfigError (exit 2) naming the file on any problem."""
    if not path.is_file():
        raise ConfigError(
            f"{path}: expectation suite not found ({key}); fix the path in podium.yaml "
            "or create one with `podium suggest`"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(
            f"{path}: not valid JSON{where} ({key}); fix it or regenerate it with `podium suggest`"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise ConfigError(
            f"{path}: not a GX expectation suite ({key}): expected an object with an "
            "'expectations' list"
        )
    items: list[dict[str, Any]] = []
    for index, item in enumerate(document["expectations"]):
        where = f"{path}: expectations[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object with 'type' and 'kwargs'")
        if "expectation_type" in item and "type" not in item:
            raise ConfigError(
                f"{where}: uses the GX 0.x key 'expectation_type'; rename it to 'type' "
                "(GX Core 1.x format) or regenerate the suite with `podium suggest`"
            )
        if not isinstance(item.get("type"), str) or not isinstance(item.get("kwargs", {}), dict):
            raise ConfigError(f"{where}: needs a string 'type' and an object 'kwargs'")
        items.append(item)
    name = document.get("name") or path.stem
    suite = Suite(path=path, name=str(name), expectations=items)
    # every expectation must be one GX knows, with valid kwargs; the fast path's own
    # check accepts only configurations GX accepts, so GX checks the rest
    others = [i for i, item in enumerate(items) if not fast_config(item)]
    if others:
        build_expectations(suite, others)
    return suite


def check_columns(suite: Suite, columns: list[str], *, dataset: str, source: str) -> None:
    """A suite naming a column the data lacks is a broken suite or wrong data: exit 2."""
    present = set(columns)
    for index, item in enumerate(suite.expectations):
        if item["type"] in _ABOUT_PRESENCE:
            continue
        for name in _columns_of(item.get("kwargs", {})):
            if name not in present:
                hint = closest(name, present)
                did_you = f" (did you mean '{hint}'?)" if hint else ""
                raise DataError(
                    f"{suite.path}: expectations[{index}] ({item['type']}) names column "
                    f"'{name}', which the {dataset} data ({source}) lacks{did_you}; "
                    "fix the suite or the data"
                )


def run(suite: Suite, frames: Mapping[str, pd.DataFrame]) -> Report:
    """Validate each named frame (e.g. train, eval) against the suite."""
    import pandas as pd

    report = Report(suite=str(suite.path))
    built: dict[int, Any] = {}  # GX objects, made only for what podium does not check
    for dataset, frame in frames.items():
        own: dict[int, dict[str, Any]] = {}
        for index, item in enumerate(suite.expectations):
            column = item.get("kwargs", {}).get("column")
            if (
                item["type"] in _TYPE_CHECKS
                and column in frame.columns
                and isinstance(frame[column].dtype, pd.StringDtype)
            ):
                # GX cannot match pandas 3's `str` dtype to any type name; podium answers
                # those type checks itself from the dtype (only text or missing in it).
                own[index] = _text_type_check(item, dataset)
                continue
            if (
                item["type"] in _TYPE_CHECKS
                and column in frame.columns
                and isinstance(frame[column].dtype, pd.CategoricalDtype)
            ):
                # Nor a categorical one (a parquet dictionary column): GX fails every name,
                # even the 'category' that `podium suggest` writes for it.
                own[index] = _category_type_check(item, dataset)
                continue
            checked = _fast(item, frame, dataset) if fast_config(item) else None
            if checked is not None:
                own[index] = checked
        rest = [i for i in range(len(suite.expectations)) if i not in own]
        missing = [i for i in rest if i not in built]
        if missing:
            built.update(zip(missing, build_expectations(suite, missing), strict=True))
        found = iter(_validate(suite, [built[i] for i in rest], frame, dataset))
        for index in range(len(suite.expectations)):
            report.results.append(own[index] if index in own else next(found))
    return report


def run_spark(suite: Suite, frames: Mapping[str, Any]) -> Report:
    """Validate each named Spark DataFrame on GX's Spark execution engine: the metrics
    are Spark aggregates and the examples a bounded `limit`, never a collected copy.

    Every expectation goes to GX here; `podium validate` runs
    `podium.engine.spark_expectations.run`, which answers the common types in one pass
    and hands the rest to GX (its differential tests compare it with this)."""
    report = Report(suite=str(suite.path))
    built = build_expectations(suite)
    for dataset, frame in frames.items():
        batch = spark_batch_definition(dataset).get_batch(batch_parameters={"dataframe": frame})
        report.results.extend(validate_batch(suite, built, batch, dataset))
    return report


def run_sql(
    suite: Suite,
    sources: Mapping[str, Any],
    dtypes: Mapping[str, Mapping[str, str]] | None = None,
) -> Report:
    """Validate each named SQL source (`TableSource`, in_database) on GX's SQL execution
    engine: a table asset or a query asset, the metrics computed by queries in the
    database and the examples from a bounded `LIMIT`, never a fetched copy. Every
    expectation goes to GX (podium's pandas fast path is for frames only)."""
    report = Report(suite=str(suite.path))
    for dataset, source in sources.items():
        # A type check in pandas' names (what `podium suggest` writes) is answered from
        # the dtype pandas gives the column read whole (`dtypes`); GX's SQL engine knows
        # only the database's type names (INTEGER, TEXT), and none for a query.
        known = (dtypes or {}).get(dataset, {})
        own: dict[int, dict[str, Any]] = {}
        for index, item in enumerate(suite.expectations):
            kwargs = item.get("kwargs") or {}
            names = kwargs.get("type_list")
            if (
                item["type"] == "expect_column_values_to_be_in_type_list"
                and set(kwargs) <= {"column", "type_list"}
                and isinstance(names, list)
                and names
                and all(str(n) in PANDAS_TYPES for n in names)
                and kwargs.get("column") in known
            ):
                dtype = known[kwargs["column"]]
                success = dtype in names or (dtype == "str" and bool(set(names) & TEXT_TYPES))
                raw = {"observed_value": dtype}
                own[index] = make_result(
                    dataset, item["type"], gx_kwargs(item["type"], kwargs), success, raw
                )
        rest = [i for i in range(len(suite.expectations)) if i not in own]
        batch = _sql_batch_definition(dataset, source).get_batch() if rest else None
        found = iter(
            validate_batch(suite, build_expectations(suite, rest), batch, dataset) if rest else []
        )
        for index in range(len(suite.expectations)):
            report.results.append(own[index] if index in own else next(found))
    return report


# pandas' and numpy's dtype names, as `podium suggest` writes them in type checks
PANDAS_TYPES = {
    *(f"{s}int{b}" for s in ("", "u", "U") for b in (8, 16, 32, 64)),
    *(f"Int{b}" for b in (8, 16, 32, 64)),
    *("float16", "float32", "float64", "Float32", "Float64", "bool", "boolean"),
    *TEXT_TYPES,
}


def describe(result: Mapping[str, Any]) -> str:
    """One line for a failed expectation: what, where, what was seen, examples."""
    column = f" on '{result['column']}'" if result.get("column") else ""
    observed = result.get("observed")
    if isinstance(observed, dict) and "unexpected_count" in observed:
        seen = f"{observed['unexpected_count']:,} unexpected values"
        if observed.get("unexpected_percent") is not None:
            seen += f" ({observed['unexpected_percent']:.2f}%)"
    elif observed is None:
        seen = "column not found" if result["expectation"] in _ABOUT_PRESENCE else "not met"
    else:
        seen = f"observed {json.dumps(observed, default=str)}"
    examples = result.get("unexpected_examples") or []
    shown = f", e.g. {json.dumps(examples, default=str)}" if examples else ""
    return f"{result['expectation']}{column} failed on {result['dataset']}: {seen}{shown}"


def render_suite(name: str, expectations: list[dict[str, Any]], notes: str | None = None) -> str:
    """JSON text of a suite exactly as GX 1.x serialises it (checked by GX on the way).

    A suite of the types podium checks itself (all `podium suggest` writes) is written
    without importing GX — seconds of a `podium suggest` — in GX's very words
    (differential tests hold the two renderings equal); any other goes through GX.
    """
    if all(set(item) <= {"type", "kwargs", "meta"} and fast_config(item) for item in expectations):
        return _render_fast(name, expectations, notes)
    return _render_with_gx(name, expectations, notes)


def _render_with_gx(name: str, expectations: list[dict[str, Any]], notes: str | None) -> str:
    suite = Suite(path=Path(name), name=name, expectations=expectations)
    gx = _gx()
    built = gx.ExpectationSuite(name=name, expectations=build_expectations(suite), notes=notes)
    return json.dumps(built.to_json_dict(), indent=2) + "\n"


def _render_fast(name: str, expectations: list[dict[str, Any]], notes: str | None) -> str:
    """What `ExpectationSuite.to_json_dict` gives for items `fast_config` accepts."""
    from importlib.metadata import version

    document = {
        "name": name,
        "id": None,
        "expectations": [
            {
                "type": item["type"],
                "kwargs": gx_kwargs(item["type"], item.get("kwargs") or {}),
                "meta": dict(item.get("meta") or {}),
                "severity": "critical",
            }
            for item in expectations
        ],
        "meta": {"great_expectations_version": version("great_expectations")},
        "notes": notes,
    }
    return json.dumps(document, indent=2) + "\n"


# -- the fast path: GX's semantics in vectorised pandas ------------------------------

# kwargs each fast type accepts; any other kwarg (row_condition, column_index, ...) is GX's
_FAST_KWARGS = {
    "expect_column_to_exist": {"column"},
    "expect_column_values_to_not_be_null": {"column", "mostly"},
    "expect_column_values_to_be_between": {
        "column",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
        "mostly",
    },
    "expect_column_values_to_be_in_set": {"column", "value_set", "mostly"},
    "expect_column_values_to_be_unique": {"column", "mostly"},
    "expect_column_values_to_be_in_type_list": {"column", "type_list", "mostly"},
    "expect_table_row_count_to_be_between": {"min_value", "max_value", "strict_min", "strict_max"},
}


# GX's own order of each type's fields (its configuration lists kwargs in that order)
_BOUNDS = ("min_value", "max_value", "strict_min", "strict_max")
_FIELDS = {
    "expect_table_row_count_to_be_between": _BOUNDS,
    "expect_column_values_to_be_between": ("column", "mostly", *_BOUNDS),
    "expect_column_values_to_be_in_set": ("column", "mostly", "value_set"),
    "expect_column_values_to_be_in_type_list": ("column", "mostly", "type_list"),
}


def gx_kwargs(kind: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The kwargs as GX's configuration states them: its field order, defaults left out,
    `mostly` and a column's bounds as floats (GX compares with the float too)."""
    out: dict[str, Any] = {}
    for key in _FIELDS.get(kind, ("column", "mostly")):
        value = kwargs.get(key)
        if value is None or value is False or (key == "mostly" and value == 1):
            continue
        if key == "mostly" or (kind == "expect_column_values_to_be_between" and key in _BOUNDS[:2]):
            value = float(value)
        out[key] = value
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def fast_config(item: Mapping[str, Any]) -> bool:
    """Whether podium checks this item itself: a type and kwargs it knows, of plain types.

    Narrower than what GX accepts, never wider: whatever this refuses, GX checks (and
    loading a suite reports GX's error for it).
    """
    kind = item["type"]
    allowed = _FAST_KWARGS.get(kind)
    kwargs = item.get("kwargs") or {}
    meta = item.get("meta")
    if (
        allowed is None
        or not set(kwargs) <= allowed
        or not (meta is None or isinstance(meta, dict))
    ):
        return False
    if kind != "expect_table_row_count_to_be_between" and not isinstance(kwargs.get("column"), str):
        return False
    if "mostly" in kwargs and not (_number(kwargs["mostly"]) and 0 <= kwargs["mostly"] <= 1):
        return False
    if any(not isinstance(kwargs.get(k, False), bool) for k in ("strict_min", "strict_max")):
        return False
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bounds = [v for v in (low, high) if v is not None]
        # both None, or min > max, are errors GX reports in its own words
        if not bounds or not all(map(_number, bounds)):
            return False
        return len(bounds) < 2 or bounds[0] <= bounds[1]
    if kind == "expect_table_row_count_to_be_between":
        bounds = [kwargs.get("min_value"), kwargs.get("max_value")]
        return all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in bounds)
    if kind == "expect_column_values_to_be_in_set":
        values = kwargs.get("value_set")
        return isinstance(values, list) and all(
            isinstance(v, str | bool) or _number(v) for v in values
        )
    if kind == "expect_column_values_to_be_in_type_list":
        types = kwargs.get("type_list")
        return isinstance(types, list) and bool(types) and all(isinstance(t, str) for t in types)
    return True


def _fast(item: Mapping[str, Any], frame: pd.DataFrame, dataset: str) -> dict[str, Any] | None:
    """GX's result record for `item` on `frame`, or None where the dtype is GX's to judge."""
    import numpy as np
    import pandas as pd

    kind = item["type"]
    kwargs = gx_kwargs(kind, item.get("kwargs") or {})
    rows = len(frame)
    if kind == "expect_table_row_count_to_be_between":
        return make_result(
            dataset, kind, kwargs, within_bounds(rows, kwargs), {"observed_value": rows}
        )
    name = kwargs["column"]
    if kind == "expect_column_to_exist":
        return make_result(dataset, kind, kwargs, name in frame.columns, {})
    if name not in frame.columns or list(frame.columns).count(name) > 1:
        return None
    column = cast("pd.Series", frame[name])  # one column: duplicated names went to GX
    dtype = column.dtype
    plain = isinstance(dtype, np.dtype) and dtype.kind in "biufmM"
    categorical = isinstance(dtype, pd.CategoricalDtype)
    text = isinstance(dtype, pd.StringDtype)
    if kind == "expect_column_values_to_be_in_type_list":
        if not isinstance(dtype, np.dtype) or dtype.kind == "O":
            return None  # object columns: GX checks each value's type; extension dtypes: GX
        try:
            success = dtype in _comparable_types(kwargs["type_list"])
        except Exception:  # a type name GX would fail on: let GX say so in its words
            return None
        return make_result(dataset, kind, kwargs, success, {"observed_value": dtype.type.__name__})
    if not (plain or categorical or text):
        return None
    mostly = float(kwargs.get("mostly", 1.0))
    # one pass over the whole column, no filtered copies: GX's "nulls are not considered"
    # is a mask (numpy ints and bools cannot hold one)
    present = None if dtype.kind in "biu" else column.notna().to_numpy()
    if kind == "expect_column_values_to_not_be_null":
        unexpected = np.zeros(rows, dtype=bool) if present is None else ~present
        count = int(unexpected.sum())
        success = rows == 0 or (rows - count) / rows >= mostly
        percent = count / rows * 100 if rows else None
        examples = list(column.iloc[np.flatnonzero(unexpected)[:PARTIAL_VALUES]])
        return _map_result(dataset, kind, kwargs, success, rows, count, percent, examples)
    if kind == "expect_column_values_to_be_between":
        if dtype not in (np.dtype(int), np.dtype(float)):
            return None  # GX compares other dtypes value by value, with its own type rules
        ok = _between(column, kwargs)
    elif kind == "expect_column_values_to_be_in_set":
        if dtype.kind in "mM":
            return None  # GX parses the set for datetimes
        ok = column.isin(kwargs["value_set"])
    elif kind == "expect_column_values_to_be_unique":
        # whether a value repeats does not depend on the nulls beside it
        ok = ~column.duplicated(keep=False)
    else:
        return None
    unexpected = ~np.asarray(ok, dtype=bool)
    if present is not None:
        unexpected &= present
    count = int(unexpected.sum())
    considered = rows if present is None else int(present.sum())
    # nothing to consider is vacuously true, as GX says
    success = rows == 0 or considered == 0 or (considered - count) / considered >= mostly
    percent = count / considered * 100 if rows and considered else None
    examples = list(column.iloc[np.flatnonzero(unexpected)[:PARTIAL_VALUES]])
    return _map_result(dataset, kind, kwargs, success, rows, count, percent, examples)


PARTIAL_VALUES = 20  # GX's partial_unexpected_count, as _validate asks for


def _map_result(
    dataset: str,
    kind: str,
    kwargs: dict[str, Any],
    success: bool,
    rows: int,
    count: int,
    percent: float | None,
    examples: list[Any],
) -> dict[str, Any]:
    raw = {
        "element_count": rows,
        "unexpected_count": count,
        "unexpected_percent": percent,
        "partial_unexpected_list": examples,
    }
    return make_result(dataset, kind, kwargs, success, raw)


def within_bounds(value: Any, kwargs: Mapping[str, Any]) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    above = low is None or (value > low if kwargs.get("strict_min") else value >= low)
    below = high is None or (value < high if kwargs.get("strict_max") else value <= high)
    return bool(above and below)


def _between(values: pd.Series, kwargs: Mapping[str, Any]) -> Any:
    """GX's vectorised comparison for int64/float64 columns, operator for operator."""
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    strict_min, strict_max = kwargs.get("strict_min"), kwargs.get("strict_max")
    if low is None:
        return values < high if strict_max else values <= high
    if high is None:
        return values > low if strict_min else values >= low
    above = values > low if strict_min else values >= low
    below = values < high if strict_max else values <= high
    return above & below


def _comparable_types(type_list: list[str]) -> list[Any]:
    """What GX compares a pandas dtype with for each type name (its `_validate_pandas`)."""
    import numpy as np
    import pandas as pd
    from pandas.core.dtypes import dtypes as pandas_dtypes

    native = {"none": type(None), "bool": bool, "int": int, "long": int, "float": float}
    native |= {"bytes": bytes, "complex": complex, "str": str, "string_types": str}
    native |= {"list": list, "dict": dict}
    out: list[Any] = []
    for name in type_list:
        try:
            out.append(np.dtype(name).type)
            out.append(np.dtype(name))
        except TypeError:
            candidate = getattr(pd, name, None)
            if isinstance(candidate, type):
                out.append(candidate)
                try:
                    if isinstance(candidate(), pd.api.extensions.ExtensionDtype):
                        out.append(candidate())
                except TypeError:
                    pass
            candidate = getattr(pandas_dtypes, name, None)
            if isinstance(candidate, type):
                out.append(candidate)
        if name.lower() in native:
            out.append(native[name.lower()])
    return out


# -- GX plumbing --------------------------------------------------------------------

_CONTEXT: Any = None


def _gx() -> Any:
    """Import GX quietly: no analytics, no usage statistics, quiet loggers."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import logging
    import warnings

    from podium import warmup

    with warnings.catch_warnings(), warmup.importing():
        # GX imports pyspark when it is installed; pyspark warns about pandas 3 on import.
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        import great_expectations as gx

    for name in ("great_expectations", "great_expectations.core"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def _context() -> Any:
    """One ephemeral context per process: nothing written to disk, no progress bars."""
    global _CONTEXT
    if _CONTEXT is None:
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX hashes every value of each batch under 1 GB as a "fingerprint" (a third of its
        # time on millions of rows); podium fingerprints the data itself, once.
        pandas_execution_engine.HASH_THRESHOLD = 0

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        _CONTEXT = context
    return _CONTEXT


_BATCHES: dict[str, Any] = {}


def _batch_definition(dataset: str) -> Any:
    """A whole-dataframe batch definition per dataset name, made once per process."""
    if dataset not in _BATCHES:
        context = _context()
        try:
            source = context.data_sources.get("podium")
        except (KeyError, ValueError):
            source = context.data_sources.add_pandas("podium")
        asset = source.add_dataframe_asset(name=dataset)
        _BATCHES[dataset] = asset.add_batch_definition_whole_dataframe("whole")
    return _BATCHES[dataset]


def build_expectations(suite: Suite, indices: list[int] | None = None) -> list[Any]:
    """GX Expectation objects, one per item (or per listed index); bad ones are exit 2."""
    _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = []
    chosen = range(len(suite.expectations)) if indices is None else indices
    for index in chosen:
        item = suite.expectations[index]
        try:
            config = ExpectationConfiguration(
                type=item["type"],
                kwargs=dict(item.get("kwargs") or {}),
                meta=item.get("meta"),
            )
            built.append(config.to_domain_obj())
        except Exception as exc:  # GX raises many kinds here; all mean "fix this item"
            first = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise ConfigError(
                f"{suite.path}: expectations[{index}] ({item['type']}) is not a valid GX "
                f"expectation: {first}"
            ) from None
    return built


def spark_batch_definition(dataset: str) -> Any:
    """A whole-dataframe batch definition on GX's Spark source, per dataset name."""
    key = f"spark:{dataset}"
    if key not in _BATCHES:
        context = _context()
        try:
            source = context.data_sources.get("podium-spark")
        except (KeyError, ValueError):
            source = context.data_sources.add_spark("podium-spark")
        asset = source.add_dataframe_asset(name=dataset)
        _BATCHES[key] = asset.add_batch_definition_whole_dataframe("whole")
    return _BATCHES[key]


def _sql_batch_definition(dataset: str, source: Any) -> Any:
    """A whole-table batch definition on a GX SQL data source (one per URL), with a table
    asset for `table:` and a query asset for `sql:`, per source and dataset name."""
    import hashlib

    key = f"sql:{dataset}:{source.model_dump_json()}"
    if key not in _BATCHES:
        context = _context()
        name = "podium-sql-" + hashlib.sha256(str(source.uri).encode()).hexdigest()[:12]
        try:
            data_source = context.data_sources.get(name)
        except (KeyError, ValueError):
            import warnings

            with warnings.catch_warnings():
                # GX suggests its dialect-specific sources; the generic one runs them all
                warnings.filterwarnings("ignore", "You are using a generic SQLDatasource")
                if str(source.uri).startswith("sqlite"):
                    add = context.data_sources.add_sqlite
                else:
                    add = context.data_sources.add_sql
                data_source = add(name, connection_string=source.uri)
        asset_name = f"{dataset}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        if source.table and "." not in source.table:
            asset = data_source.add_table_asset(asset_name, table_name=source.table)
        else:  # GX deprecates a table asset's schema_name: a schema's table as a query
            query = source.sql or f"select * from {source.table}"
            asset = data_source.add_query_asset(asset_name, query=query.strip().rstrip(";"))
        _BATCHES[key] = asset.add_batch_definition_whole_table("whole")
    return _BATCHES[key]


def _validate(
    suite: Suite, expectations: list[Any], frame: pd.DataFrame, dataset: str
) -> list[dict[str, Any]]:
    """GX's records of `expectations` on a pandas frame."""
    if not expectations:
        return []
    batch = _batch_definition(dataset).get_batch(batch_parameters={"dataframe": frame})
    return validate_batch(suite, expectations, batch, dataset)


def validate_batch(
    suite: Suite, expectations: list[Any], batch: Any, dataset: str
) -> list[dict[str, Any]]:
    """GX's records of `expectations` on a batch (pandas or Spark), in the suite's order."""
    if not expectations:
        return []
    gx = _gx()
    import copy

    gx_suite = gx.ExpectationSuite(
        name=suite.name, expectations=[copy.copy(e) for e in expectations]
    )
    outcome = batch.validate(
        gx_suite,
        result_format={"result_format": "BASIC", "partial_unexpected_count": 20},
    )
    # GX does not keep the suite's order in its results: match them back by configuration.
    by_key: dict[str, list[Any]] = {}
    for result in outcome.results:
        by_key.setdefault(_key(result.expectation_config), []).append(result)
    out = []
    for expectation in expectations:
        result = by_key[_key(expectation.configuration)].pop(0)
        config = result.expectation_config
        kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
        problem = _exception(result.exception_info)
        if problem is not None:
            column = kwargs.get("column")
            on = f" on '{column}'" if column else ""
            raise DataError(
                f"{suite.path}: {config.type}{on} could not be evaluated on the {dataset} "
                f"data: {problem}; fix the expectation's kwargs or the data"
            )
        out.append(
            make_result(dataset, config.type, kwargs, bool(result.success), dict(result.result))
        )
    return out


def _key(config: Any) -> str:
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    return f"{config.type}:{json.dumps(kwargs, sort_keys=True, default=str)}"


def make_result(
    dataset: str, kind: str, kwargs: dict[str, Any], success: bool, raw: dict[str, Any]
) -> dict[str, Any]:
    if "observed_value" in raw:
        observed: Any = raw["observed_value"]
    elif "unexpected_count" in raw:
        observed = {
            "unexpected_count": raw.get("unexpected_count"),
            "unexpected_percent": raw.get("unexpected_percent"),
            "element_count": raw.get("element_count"),
        }
    else:
        observed = None
    counts = raw.get("partial_unexpected_counts") or []
    seen = [c.get("value") for c in counts] or list(raw.get("partial_unexpected_list") or [])
    examples: list[Any] = []
    for value in seen:  # distinct values say more than five copies of one
        if len(examples) < EXAMPLES and _jsonable(value) not in _jsonable(examples):
            examples.append(value)
    return {
        "dataset": dataset,
        "expectation": kind,
        "column": kwargs.get("column"),
        "kwargs": _jsonable(kwargs),
        "success": success,
        "observed": _jsonable(observed),
        "unexpected_examples": _jsonable(examples) if not success else [],
    }


def _text_type_check(item: dict[str, Any], dataset: str) -> dict[str, Any]:
    kwargs = dict(item.get("kwargs") or {})
    wanted = kwargs.get("type_list") or ([kwargs["type_"]] if kwargs.get("type_") else [])
    success = any(str(t) in TEXT_TYPES for t in wanted)
    return make_result(dataset, item["type"], kwargs, success, {"observed_value": "str"})


def _category_type_check(item: dict[str, Any], dataset: str) -> dict[str, Any]:
    kwargs = dict(item.get("kwargs") or {})
    wanted = kwargs.get("type_list") or ([kwargs["type_"]] if kwargs.get("type_") else [])
    success = any(str(t) in _CATEGORY_TYPES for t in wanted)
    return make_result(dataset, item["type"], kwargs, success, {"observed_value": "category"})


def _exception(info: Any) -> str | None:
    """The message of an exception GX caught while computing a result, if any."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")
    return None


def _columns_of(kwargs: Mapping[str, Any]) -> list[str]:
    names = [kwargs[k] for k in _COLUMN_KEYS if isinstance(kwargs.get(k), str)]
    for key in _COLUMN_LIST_KEYS:
        value = kwargs.get(key)
        if isinstance(value, list):
            names.extend(v for v in value if isinstance(v, str))
    return names


def _jsonable(value: Any) -> Any:
    """numpy / pandas scalars to plain JSON values; NaN and NaT to null."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
