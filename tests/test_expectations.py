"""The GX adapter on its own: loading suites, running them on frames, serialising them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium import expectations
from podium.errors import ConfigError, DataError


def _suite(tmp_path: Path, items: list[dict[str, object]]) -> expectations.Suite:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"name": "t", "expectations": items}))
    return expectations.load_suite(path)


FRAME = pd.DataFrame(
    {
        "n": [1.0, 2.0, 3.0, np.nan, 5.0],
        "k": [1, 2, 3, 4, 5],
        "s": ["x", "y", "z", None, "x"],
    }
)


def test_results_keep_suite_order_and_report_examples(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "s", "value_set": ["x"]},
            },
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "k", "max_value": 3},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n"}},
        ],
    )
    report = expectations.run(suite, {"train": FRAME})
    assert [r["expectation"] for r in report.results] == [
        "expect_column_values_to_be_in_set",
        "expect_table_row_count_to_be_between",
        "expect_column_values_to_be_between",
        "expect_column_values_to_not_be_null",
    ]
    assert [r["success"] for r in report.results] == [False] * 4
    in_set, rows, between, nulls = report.results
    assert in_set["unexpected_examples"] == ["y", "z"]  # distinct values, no repeats
    assert rows["observed"] == 5
    assert between["unexpected_examples"] == [4, 5]
    assert nulls["unexpected_examples"] == [None]  # NaN is JSON null
    json.dumps(report.to_dict(), allow_nan=False)  # strictly JSON-ready
    assert expectations.describe(between) == (
        "expect_column_values_to_be_between on 'k' failed on train: "
        "2 unexpected values (40.00%), e.g. [4, 5]"
    )


def test_mostly_lets_a_share_of_values_fail(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n", "mostly": 0.8}}],
    )
    report = expectations.run(suite, {"train": FRAME})
    assert report.passed
    assert report.results[0]["unexpected_examples"] == []


def test_text_type_checks_on_the_str_dtype_and_on_object(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "s", "type_list": ["str"]},
            },
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "s", "type_": "int64"},
            },
        ],
    )
    assert isinstance(FRAME["s"].dtype, pd.StringDtype)
    report = expectations.run(suite, {"new": FRAME, "old": FRAME.astype({"s": object})})
    assert [r["success"] for r in report.results] == [True, False, True, False]


def test_type_checks_on_a_categorical_column(tmp_path: Path) -> None:
    # A parquet file with a dictionary (categorical) column: `podium suggest` wrote
    # type_list ['category'] and validate then failed it on the very same data, as GX
    # matches no type name to a categorical dtype.
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "s", "type_list": ["category"]},
            },
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "s", "type_": "CategoricalDtype"},
            },
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "s", "type_list": ["str", "int64"]},
            },
        ],
    )
    report = expectations.run(suite, {"train": FRAME.astype({"s": "category"})})
    assert [r["success"] for r in report.results] == [True, True, False]
    assert report.results[2]["observed"] == "category"


def test_check_columns_names_the_missing_column(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [
            {
                "type": "expect_column_to_exist",
                "kwargs": {"column": "gone"},
            },  # a finding, not an error
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": "k", "column_B": "m"},
            },
        ],
    )
    with pytest.raises(
        DataError, match=r"expectations\[1\] .* names column 'm', which the eval data"
    ):
        expectations.check_columns(suite, list(FRAME.columns), dataset="eval", source="e.csv")


def test_an_expectation_gx_cannot_evaluate_on_the_data_is_exit_2(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "s", "min_value": 0}}],
    )
    with pytest.raises(DataError, match="on 's' could not be evaluated on the train data: Column"):
        expectations.run(suite, {"train": FRAME})


def test_render_suite_writes_what_gx_reads_back(tmp_path: Path) -> None:
    items = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "k", "min_value": 1, "max_value": 5},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "s", "value_set": ["x", "y", "z"]},
        },
    ]
    text = expectations.render_suite("churn", items, notes="edit me")
    document = json.loads(text)
    assert document["name"] == "churn"
    assert document["notes"] == "edit me"
    assert [e["type"] for e in document["expectations"]] == [i["type"] for i in items]
    assert "great_expectations_version" in document["meta"]
    path = tmp_path / "churn.json"
    path.write_text(text)
    assert expectations.run(expectations.load_suite(path), {"train": FRAME}).passed


_RENDERED = [
    {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 750, "max_value": 8000},
    },
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": None}},
    {"type": "expect_column_to_exist", "kwargs": {"column": "k"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "k", "mostly": 0.95}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "k", "mostly": 1}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "k", "mostly": 0}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "k", "min_value": 0, "max_value": 72, "mostly": 0.5},
    },
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "k", "max_value": 2.5, "strict_max": True, "strict_min": False},
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"value_set": ["b", "a", 1, 2.5, True], "column": "s"},
        "meta": {"notes": "kept", "n": [1, 2]},
    },
    {
        "type": "expect_column_values_to_be_in_type_list",
        "kwargs": {"column": "s", "type_list": ["str", "object", "string"]},
    },
]


@pytest.mark.parametrize("notes", [None, "edit me"])
def test_render_suite_without_gx_writes_what_gx_writes(notes: str | None) -> None:
    assert expectations._render_fast("churn", _RENDERED, notes) == (
        expectations._render_with_gx("churn", _RENDERED, notes)
    )


def test_render_suite_of_suggested_rules_matches_gx() -> None:
    from podium import sample
    from podium.stages.suggest import rules

    frames = list(sample.churn_tables())
    items = rules(frames, target="churned", task="classification")
    assert all(expectations.fast_config(item) for item in items)  # written without GX
    assert expectations.render_suite("churn", items, "n") == (
        expectations._render_with_gx("churn", items, "n")
    )


def test_render_suite_goes_through_gx_for_what_podium_does_not_check() -> None:
    items = [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "s", "regex": "x"}}
    ]
    document = json.loads(expectations.render_suite("churn", items))
    assert document["expectations"][0]["kwargs"] == {"column": "s", "regex": "x"}


def test_render_suite_refuses_an_invalid_expectation() -> None:
    with pytest.raises(ConfigError, match="is not a valid GX expectation"):
        expectations.render_suite(
            "x", [{"type": "expect_column_values_to_be_between", "kwargs": {}}]
        )


# -- the fast path gives GX's records: differential tests -----------------------------

_BASE = pd.DataFrame(
    {
        "i": [1, 2, 3, 4, 5, 5],
        "f": [0.5, np.nan, 2.5, 2.5, -1.0, np.nan],
        "s": ["a", None, "b", "b", "c", None],
        "o": pd.Series(["a", None, "b", "b", 3, "a"], dtype=object),
        "c": pd.Categorical(["a", "b", None, "a", "c", "d"]),
        "b": [True, False, True, True, False, True],
        "t": pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-03", None, "2024-02-01"]),
        "i32": np.array([1, 2, 3, 4, 5, 6], dtype="int32"),
        "ni": pd.array([1, None, 3, 3, 5, 6], dtype="Int64"),
        "fnull": [np.nan] * 6,
        "snull": pd.Series([None] * 6, dtype="str"),
    }
)
_LONG = pd.DataFrame(
    {
        "i": [v % 9 for v in range(60)],
        "f": [np.nan if v % 7 == 0 else v / 3 for v in range(60)],
        "s": [None if v % 5 == 0 else f"v{v % 11}" for v in range(60)],
    }
)
_FRAMES = {
    "base": _BASE,
    "empty": _BASE.iloc[:0],
    "long": _LONG,
    "one": _BASE.iloc[:1],
}
_TYPE_LISTS = [
    ["int64"],
    ["float64", "int64"],
    ["int", "float"],
    ["bool"],
    ["str"],
    ["datetime64[ns]"],
    ["datetime64[us]"],
    ["Int64"],
    ["float"],
    ["int32"],
    ["BooleanDtype"],
    ["int8", "int16", "int32", "int64", "uint8", "Int64", "float16", "float32", "float64"],
    ["bool", "boolean"],
    ["str", "object", "string"],
]


def _set_for(column: pd.Series) -> list[list[object]]:
    present = [v.item() if hasattr(v, "item") else v for v in column.dropna().unique()]
    present = [v for v in present if isinstance(v, str | int | float)]  # JSON values
    return [present, present[:2], [], [1, 2.0, "a", True], ["b", "v1", 3]]


def _items(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Fast-path items over every column, with bounds, strictness and mostly varied."""
    items: list[dict[str, object]] = []

    def add(kind: str, **kwargs: object) -> None:
        items.append({"type": kind, "kwargs": kwargs})

    for low, high in [(1, 4), (None, 3), (2.5, None), (0, 0), (-1.0, 2.5), (None, 1000)]:
        for strict in [{}, {"strict_min": True}, {"strict_max": True}]:
            add("expect_table_row_count_to_be_between", min_value=low, max_value=high, **strict)
    add("expect_column_to_exist", column="nope")
    for name in frame.columns:
        column = frame[name]
        add("expect_column_to_exist", column=name)
        for mostly in [{}, {"mostly": 0.5}, {"mostly": 0.8}, {"mostly": 0}, {"mostly": 1}]:
            add("expect_column_values_to_not_be_null", column=name, **mostly)
            add("expect_column_values_to_be_unique", column=name, **mostly)
            for values in _set_for(column):
                add("expect_column_values_to_be_in_set", column=name, value_set=values, **mostly)
        for types in _TYPE_LISTS if column.dtype != object else []:  # object: GX's
            add("expect_column_values_to_be_in_type_list", column=name, type_list=types)
        if str(column.dtype) in ("int64", "float64", "int32"):
            for low, high in [(1, 4), (None, 2.5), (2.5, None), (0, 0), (-1.0, 2)]:
                for strict in [{}, {"strict_min": True}, {"strict_max": True, "mostly": 0.5}]:
                    add(
                        "expect_column_values_to_be_between",
                        column=name,
                        min_value=low,
                        max_value=high,
                        **strict,
                    )
    return items


def _both(
    tmp_path: Path, items: list[dict[str, object]], frame: pd.DataFrame
) -> tuple[list[dict[str, object] | None], list[dict[str, object]]]:
    """The fast path's record per item (None: it defers to GX) and GX's own records."""
    suite = _suite(tmp_path, items)
    fast = [expectations._fast(item, frame, "train") for item in suite.expectations]
    built = expectations.build_expectations(suite)
    return fast, expectations._validate(suite, built, frame, "train")


@pytest.mark.parametrize("name", list(_FRAMES))
def test_fast_path_records_equal_gx_records(tmp_path: Path, name: str) -> None:
    frame = _FRAMES[name]
    items = [i for i in _items(frame) if expectations.fast_config(i)]
    fast, gx = _both(tmp_path, items, frame)
    compared = 0
    for item, ours, theirs in zip(items, fast, gx, strict=True):
        if ours is not None:
            assert json.dumps(ours) == json.dumps(theirs), item  # key order too
            compared += 1
    assert compared > len(items) // 2  # the fast path covers most of them


def test_fast_path_defers_what_gx_treats_specially() -> None:
    def fast(kind: str, **kwargs: object) -> dict[str, object] | None:
        item = {"type": kind, "kwargs": kwargs}
        assert expectations.fast_config(item)
        return expectations._fast(item, _BASE, "train")

    # object columns: GX checks each value's type; extension dtypes and datetimes: GX
    assert fast("expect_column_values_to_be_in_type_list", column="o", type_list=["str"]) is None
    assert fast("expect_column_values_to_be_in_type_list", column="ni", type_list=["int"]) is None
    assert fast("expect_column_values_to_be_in_set", column="t", value_set=["2024"]) is None
    assert fast("expect_column_values_to_be_between", column="i32", min_value=1) is None
    assert fast("expect_column_values_to_not_be_null", column="ni") is None


@pytest.mark.parametrize(
    "item",
    [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "i"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "i", "min_value": 3, "max_value": 1},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "i", "value_set": [1], "row_condition": "i>1"},
        },
        {"type": "expect_column_to_exist", "kwargs": {"column": "i", "column_index": 0}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "i", "mostly": 2}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "i"}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "i", "min_value": 0}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1.5}},
    ],
)
def test_configurations_outside_the_fast_path_go_to_gx(item: dict[str, object]) -> None:
    assert not expectations.fast_config(item)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.one_of(st.none(), st.integers(-5, 5).map(float), st.floats(-5, 5, width=32)),
        max_size=30,
    ),
    low=st.one_of(st.none(), st.integers(-5, 5)),
    high=st.one_of(st.none(), st.floats(-5, 5)),
    strict_min=st.booleans(),
    strict_max=st.booleans(),
    mostly=st.sampled_from([None, 0.0, 0.3, 0.9, 1.0]),
)
def test_fast_path_equals_gx_on_generated_floats(
    tmp_path: Path,
    values: list[float | None],
    low: int | None,
    high: float | None,
    strict_min: bool,
    strict_max: bool,
    mostly: float | None,
) -> None:
    frame = pd.DataFrame({"x": pd.Series(values, dtype="float64")})
    extra = {} if mostly is None else {"mostly": mostly}
    items: list[dict[str, object]] = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x", **extra}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x", **extra}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "x", "value_set": [0.0, 1, 2.5], **extra},
        },
    ]
    if low is not None or high is not None:
        if low is not None and high is not None and low > high:
            low, high = high, low  # type: ignore[assignment]
        bounds = {"min_value": low, "max_value": high}
        strict = {"strict_min": strict_min, "strict_max": strict_max}
        items.append(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "x", **bounds, **strict, **extra},
            }
        )
    fast, gx = _both(tmp_path, items, frame)
    assert json.dumps(fast) == json.dumps(gx)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "dd", ""])), max_size=30),
    mostly=st.sampled_from([None, 0.5, 1.0]),
)
def test_fast_path_equals_gx_on_generated_text(
    tmp_path: Path, values: list[str | None], mostly: float | None
) -> None:
    extra = {} if mostly is None else {"mostly": mostly}
    frame = pd.DataFrame({"x": pd.Series(values, dtype="str")})
    items: list[dict[str, object]] = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x", **extra}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x", **extra}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "x", "value_set": ["a", "dd"], **extra},
        },
    ]
    fast, gx = _both(tmp_path, items, frame)
    assert json.dumps(fast) == json.dumps(gx)


def test_a_suite_the_fast_path_covers_never_imports_gx(tmp_path: Path) -> None:
    from podium.stages.suggest import rules

    frame = _BASE[["i", "f", "s", "b"]]
    path = tmp_path / "suite.json"
    path.write_text(
        json.dumps({"name": "t", "expectations": rules([frame], target="b", task="classification")})
    )
    frame.to_parquet(tmp_path / "data.parquet")
    # a script file, not `python -c`: pyspark (which GX imports) ends a `-c` process early
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom pathlib import Path\nimport pandas as pd\n"
        "from podium import expectations\n"
        "suite = expectations.load_suite(Path(sys.argv[1]))\n"
        "report = expectations.run(suite, {'train': pd.read_parquet(sys.argv[2])})\n"
        "print(report.passed, len(report.results), 'great_expectations' in sys.modules)\n"
    )
    command = [sys.executable, str(probe), str(path), str(tmp_path / "data.parquet")]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    passed, count, imported = done.stdout.split()
    assert (passed, imported) == ("True", "False")
    assert int(count) > 10
    # the probe can tell: a type the fast path leaves to GX imports it
    document = json.loads(path.read_text())
    document["expectations"].append(
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "i", "min_value": 0}}
    )
    path.write_text(json.dumps(document))
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert done.stdout.split()[2] == "True"
