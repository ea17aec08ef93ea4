"""Reading tables and turning them into features and target; every failure is one line."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from podium.data import Dataset, Table, check_excluded, check_labels, prepare, read_table
from podium.errors import DataError

CSV = "age,plan,churned\n31,monthly,1\n45,yearly,0\n,monthly,1\n52,,0\n"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def refused(path: Path, *fragments: str, label: str = "data.train") -> str:
    with pytest.raises(DataError) as caught:
        read_table(path, label=label)
    return _one_line(caught.value, path, fragments)


def _one_line(error: DataError, path: Path, fragments: tuple[str, ...]) -> str:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message
    return message


def frame_table(frame: pd.DataFrame, path: Path = Path("/data/eval.csv")) -> Table:
    return Table(path=path, frame=frame, sha256="0" * 64)


def prepared(
    frame: pd.DataFrame,
    *,
    target: str = "y",
    task: str = "classification",
    features: list[str] | None = None,
    exclude: list[str] | None = None,
    expected_types: dict[str, str] | None = None,
) -> Dataset:
    return prepare(
        frame_table(frame),
        target=target,
        task=task,
        features=features,
        exclude=exclude or [],
        expected_types=expected_types,
    )


def prepare_refused(frame: pd.DataFrame, *fragments: str, **options: Any) -> str:
    with pytest.raises(DataError) as caught:
        prepared(frame, **options)
    return _one_line(caught.value, Path("/data/eval.csv"), fragments)


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("train.csv", CSV),
        ("semicolon.csv", CSV.replace(",", ";")),
        ("tab.csv", CSV.replace(",", "\t")),
        ("pipe.csv", CSV.replace(",", "|")),
        ("explicit.tsv", CSV.replace(",", "\t")),
        ("bom.csv", "\ufeff" + CSV),
        ("crlf.csv", CSV.replace("\n", "\r\n")),
    ],
)
def test_delimited_text_is_read_whatever_the_delimiter(
    tmp_path: Path, name: str, text: str
) -> None:
    table = read_table(write(tmp_path, name, text), label="data.train")
    assert list(table.frame.columns) == ["age", "plan", "churned"]
    assert table.rows == 4
    assert table.frame["plan"].tolist()[:2] == ["monthly", "yearly"]


def test_semicolon_file_with_commas_inside_text(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.csv", "id;note;y\n1;late, twice, and rude;0\n2;ok;1\n")
    table = read_table(path, label="data.eval")
    assert table.frame["note"].tolist() == ["late, twice, and rude", "ok"]


@pytest.mark.parametrize("sep", [",", ";"])
def test_gzipped_csv(tmp_path: Path, sep: str) -> None:
    path = write(tmp_path, "train.csv.gz", gzip.compress(CSV.replace(",", sep).encode()))
    table = read_table(path, label="data.train")
    assert list(table.frame.columns) == ["age", "plan", "churned"]
    assert table.rows == 4
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_file_keeps_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "f": [0.5, np.nan, 1.5],
            "flag": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
            "plan": ["a", None, "b"],
            "y": [0, 1, 0],
        }
    )
    frame.to_parquet(tmp_path / "train.parquet")
    table = read_table(tmp_path / "train.parquet", label="data.train")
    assert table.rows == 3
    assert pd.api.types.is_datetime64_any_dtype(table.frame["when"])
    assert pd.api.types.is_bool_dtype(table.frame["flag"])
    assert len(table.sha256) == 64


def test_parquet_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "train.parquet"
    folder.mkdir()
    pd.DataFrame({"a": [1, 2], "y": [0, 1]}).to_parquet(folder / "part-0.parquet")
    pd.DataFrame({"a": [3], "y": [1]}).to_parquet(folder / "part-1.parquet")
    table = read_table(folder, label="data.train")
    assert table.rows == 3
    before = table.sha256
    pd.DataFrame({"a": [4], "y": [0]}).to_parquet(folder / "part-2.parquet")
    assert read_table(folder, label="data.train").sha256 != before


def test_fingerprint_is_the_sha256_of_the_bytes_and_follows_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "train.csv", CSV)
    first = read_table(path, label="data.train")
    assert first.sha256 == hashlib.sha256(CSV.encode()).hexdigest()
    assert first.describe() == {
        "path": str(path),
        "rows": 4,
        "columns": 3,
        "sha256": first.sha256,
    }
    assert read_table(path, label="data.train") is first  # parsed once per process
    changed = CSV + "60,monthly,1\n"
    path.write_text(changed)
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    second = read_table(path, label="data.train")
    assert second.rows == 5
    assert second.sha256 == hashlib.sha256(changed.encode()).hexdigest()


# -- unreadable inputs --------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nope.csv", "file not found", "data.train", "podium.yaml")


def test_empty_file(tmp_path: Path) -> None:
    refused(write(tmp_path, "train.csv", ""), "file is empty", "header row")


def test_blank_lines_only(tmp_path: Path) -> None:
    refused(write(tmp_path, "train.csv", "\n\n\n"), "no columns")


def test_header_only(tmp_path: Path) -> None:
    refused(
        write(tmp_path, "eval.csv", "age,plan,churned\n"),
        "no data rows",
        "data.eval",
        label="data.eval",
    )


def test_empty_parquet(tmp_path: Path) -> None:
    pd.DataFrame({"a": pd.Series([], dtype="float64")}).to_parquet(tmp_path / "t.parquet")
    refused(tmp_path / "t.parquet", "no data rows")


@pytest.mark.parametrize("header", ["age,age,churned", "age, age ,churned"])
def test_duplicate_column_names(tmp_path: Path, header: str) -> None:
    refused(
        write(tmp_path, "train.csv", f"{header}\n1,2,0\n"), "duplicate column", "'age'", "rename"
    )


def test_rows_with_more_fields_than_the_header(tmp_path: Path) -> None:
    # pandas would turn the extra leading fields into an index and shift every column
    text = "age,churned\n31,monthly,1\n45,yearly,0\n59,monthly,1\n"
    refused(write(tmp_path, "train.csv", text), "more fields than the header", "delimiter")


def test_unbalanced_quote(tmp_path: Path) -> None:
    refused(write(tmp_path, "train.csv", 'a,y\n"1,2\n'), "cannot be parsed")


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "plan,y\ncaf\xe9,1\n".encode("latin-1"),
    ],
    ids=["binary", "latin-1"],
)
def test_file_that_is_not_utf8_text(tmp_path: Path, content: bytes) -> None:
    refused(write(tmp_path, "train.csv", content), "not UTF-8", "UTF-8 csv")


def test_corrupt_parquet(tmp_path: Path) -> None:
    refused(write(tmp_path, "train.parquet", "not,parquet\n1,2\n"), "cannot be parsed")


def test_a_folder_is_not_a_csv(tmp_path: Path) -> None:
    (tmp_path / "train.csv").mkdir()
    refused(tmp_path / "train.csv", "is a folder")


@pytest.mark.parametrize("name", ["train.xlsx", "train.json", "train"])
def test_unsupported_file_type(tmp_path: Path, name: str) -> None:
    refused(write(tmp_path, name, CSV), "unsupported file type", ".csv or .parquet")


# -- preparing features and target ----------------------------------------------------------


def test_features_are_every_column_but_target_and_excluded() -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "age": [30, 40], "plan": ["m", "y"], "y": [0, 1]})
    dataset = prepared(frame, exclude=["id"])
    assert list(dataset.features.columns) == ["age", "plan"]
    assert dataset.feature_types == {"age": "numeric", "plan": "categorical"}
    assert prepared(frame, features=["plan"]).feature_types == {"plan": "categorical"}


def test_a_typo_in_exclude_is_refused_not_left_in_as_a_feature() -> None:
    train = frame_table(
        pd.DataFrame({"house id": [1, 2], "age": [30, 40], "y": [0, 1]}), Path("/d/train.csv")
    )
    evaluation = frame_table(pd.DataFrame({"house id": [3], "age": [50], "group": ["a"]}))
    with pytest.raises(DataError) as caught:
        check_excluded(["house_id"], train, evaluation)
    message = str(caught.value)
    assert message.startswith("/d/train.csv: data.exclude lists 'house_id'")
    assert "(did you mean 'house id'?); fix data.exclude in podium.yaml" in message
    # a column of either table is fine: an attribute only the evaluation data has, for slices
    check_excluded(["house id", "group"], train, evaluation)


def test_an_evaluation_label_the_training_data_lacks_is_bad_input() -> None:
    # It was scored anyway and failed inside scikit-learn's log loss (exit 1, its message).
    train = prepared(pd.DataFrame({"x": [1, 2, 3, 4], "y": ["low", "mid", "high", "low"]}))
    evaluation = prepared(pd.DataFrame({"x": [1, 2, 3], "y": ["low", "vip", "vip"]}))
    with pytest.raises(DataError) as caught:
        check_labels(train, evaluation, target="y", path="/d/eval.csv")
    assert str(caught.value).startswith(
        "/d/eval.csv: target 'y' has label(s) 'vip' (2 rows) that the training data does not have"
    )
    assert "add such rows to data.train or drop them from data.eval" in str(caught.value)
    check_labels(train, prepared(pd.DataFrame({"x": [1], "y": ["mid"]})), target="y", path="e")
    numbers = prepared(pd.DataFrame({"x": [1, 2], "y": [0, 2]}))
    with pytest.raises(DataError, match=r"has label\(s\) 2 \(1 rows\)"):
        check_labels(
            prepared(pd.DataFrame({"x": [1, 2], "y": [0, 1]})), numbers, target="y", path="e"
        )


def test_a_measured_target_under_classification_suggests_regression() -> None:
    # A house-price table left at task: classification: every eval price was an "unseen
    # label", and the message only said to add rows to data.train.
    train = prepared(pd.DataFrame({"x": [1, 2, 3], "y": [101.5, 230.25, 99.0]}))
    evaluation = prepared(pd.DataFrame({"x": [1, 2], "y": [120.75, 230.25]}))
    with pytest.raises(DataError) as caught:
        check_labels(train, evaluation, target="y", path="e")
    assert "is 'y' a number to predict? set model.task: regression" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_target_suggests_the_closest_column() -> None:
    frame = pd.DataFrame({"age": [1, 2], "churned": [0, 1]})
    prepare_refused(
        frame, "target column 'churn'", "did you mean 'churned'?", "data.target", target="churn"
    )


def test_missing_target_suggests_a_column_differing_only_in_case() -> None:
    frame = pd.DataFrame({"age": [1, 2], "Churned": [0, 1]})
    prepare_refused(frame, "did you mean 'Churned'?", target="churned")


def test_missing_target_in_a_file_read_as_one_column_points_at_the_delimiter() -> None:
    frame = pd.DataFrame({"age plan churned": ["1 a 0", "2 b 1"]})
    prepare_refused(frame, "single column 'age plan churned'", "tab", target="churned")


def test_missing_feature_column_named_by_the_listed_features() -> None:
    frame = pd.DataFrame({"age": [1, 2], "y": [0, 1]})
    prepare_refused(
        frame, "missing column(s) 'tenure'", "data.features", features=["age", "tenure"]
    )


def test_eval_data_must_have_every_training_column() -> None:
    frame = pd.DataFrame({"age": [1, 2], "plan_": ["a", "b"], "y": [0, 1]})
    expected = {"age": "numeric", "plan": "categorical"}
    prepare_refused(
        frame, "missing column(s) 'plan'", "did you mean 'plan_'?", expected_types=expected
    )


def test_eval_data_extra_columns_are_ignored() -> None:
    frame = pd.DataFrame({"age": [1, 2], "new": ["x", "y"], "y": [0, 1]})
    dataset = prepared(frame, expected_types={"age": "numeric"})
    assert list(dataset.features.columns) == ["age"]


def test_only_a_target_and_no_features() -> None:
    prepare_refused(pd.DataFrame({"y": [0, 1]}), "no feature columns")


def test_all_nan_column() -> None:
    frame = pd.DataFrame({"age": [np.nan, np.nan], "plan": ["a", "b"], "y": [0, 1]})
    prepare_refused(frame, "column 'age' has no values", "data.exclude")


def test_all_nan_column_is_fine_once_excluded() -> None:
    frame = pd.DataFrame({"age": [np.nan, np.nan], "plan": ["a", "b"], "y": [0, 1]})
    assert list(prepared(frame, exclude=["age"]).features.columns) == ["plan"]


def test_text_in_a_column_that_was_numeric_in_training() -> None:
    frame = pd.DataFrame({"age": ["31", "forty", None], "y": [0, 1, 0]})
    prepare_refused(
        frame,
        "column 'age' is numeric in the training data",
        "'forty'",
        expected_types={"age": "numeric"},
    )


def test_numbers_written_as_text_in_eval_are_accepted_when_training_was_numeric() -> None:
    frame = pd.DataFrame({"age": ["31", "40.5", None], "y": [0, 1, 0]})
    dataset = prepared(frame, expected_types={"age": "numeric"})
    assert dataset.features["age"].tolist()[:2] == [31.0, 40.5]
    assert np.isnan(dataset.features["age"].iloc[2])


def test_numbers_in_a_column_that_was_text_in_training_become_text() -> None:
    frame = pd.DataFrame({"zip": [1000.0, 2000.0, np.nan], "y": [0, 1, 0]})
    dataset = prepared(frame, expected_types={"zip": "categorical"})
    assert dataset.features["zip"].tolist()[:2] == ["1000", "2000"]  # not '1000.0'
    assert pd.isna(dataset.features["zip"].iloc[2])


def _text_one_by_one(series: pd.Series) -> list[Any]:
    """What text columns become, value by value: str, or NaN where missing."""
    values = series.astype(object)
    if isinstance(series.dtype, pd.StringDtype):  # its missing marker, whichever, is missing
        values = values.where(series.notna(), None)
    out: list[Any] = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(np.nan)
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return out


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["b", None, "a", "b", "é", ""], dtype="str"),
        pd.Series(["b", None, "a", "b"], dtype="string"),  # missing as pd.NA
        pd.Series(["b", None, "a", np.nan, "b"], dtype=object),
        pd.Series([None, None, "a"], dtype=object, index=[7, 3, 5], name="plan"),
        pd.Series(["a", 1, 1.0, True, None, 2.5], dtype=object),  # mixed: value by value
        pd.Series(["a", pd.NA, "b"], dtype=object),  # pd.NA in object: value by value
        pd.Series([1000.0, np.nan, 2.5]),
    ],
)
def test_text_columns_are_python_str_with_nan_for_missing(series: pd.Series) -> None:
    from podium.data import _as_text

    text = _as_text(series)
    assert text.dtype == object
    assert text.index.equals(series.index) and text.name == series.name
    expected = _text_one_by_one(series)
    assert [type(v) for v in text] == [type(v) for v in expected]
    assert [v for v in text if isinstance(v, str)] == [v for v in expected if isinstance(v, str)]


def test_infinite_feature_value_is_named() -> None:
    frame = pd.DataFrame({"ratio": [1.0, np.inf, 2.0], "y": [0, 1, 0]})
    prepare_refused(frame, "column 'ratio' has an infinite value", "row 1")


def test_column_types_numeric_bool_int_text() -> None:
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "f": [0.5, np.nan, 2.0],
            "b": [True, False, True],
            "nb": pd.array([True, None, False], dtype="boolean"),
            "s": ["x", None, "z"],
            "y": [0, 1, 0],
        }
    )
    dataset = prepared(frame)
    assert dataset.feature_types == {
        "i": "numeric",
        "nullable": "numeric",
        "f": "numeric",
        "b": "numeric",
        "nb": "numeric",
        "s": "categorical",
    }
    features = dataset.features
    assert all(features[c].dtype == "float64" for c in ["i", "nullable", "f", "b", "nb"])
    assert features["b"].tolist() == [1.0, 0.0, 1.0]
    assert np.isnan(features["nullable"].iloc[1])
    assert np.isnan(features["nb"].iloc[1])
    assert features["s"].tolist()[0] == "x"
    assert pd.isna(features["s"].iloc[1])  # missing text stays missing (imputed in the model)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetimes_become_epoch_seconds_whatever_their_unit(unit: str) -> None:
    when = pd.Series(pd.to_datetime(["1970-01-02", "2024-01-01", None])).astype(
        f"datetime64[{unit}]"
    )
    dataset = prepared(pd.DataFrame({"when": when, "y": [0, 1, 0]}))
    assert dataset.feature_types == {"when": "numeric"}
    values = dataset.features["when"].tolist()
    assert values[:2] == [86400.0, 1704067200.0]
    assert np.isnan(values[2])


def test_timezone_aware_datetimes_are_converted_to_utc() -> None:
    when = pd.Series(pd.to_datetime(["2024-01-01 01:00"])).dt.tz_localize("Europe/Paris")
    dataset = prepared(pd.DataFrame({"when": when, "y": [1]}))
    assert dataset.features["when"].tolist() == [1704067200.0]


def test_datetimes_read_from_csv_and_parquet_agree(tmp_path: Path) -> None:
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-03-01", "2024-03-02"]), "y": [0, 1]})
    frame.astype({"when": "datetime64[ns]"}).to_parquet(tmp_path / "train.parquet")
    frame.astype({"when": "datetime64[ms]"}).to_parquet(tmp_path / "eval.parquet")
    train = prepare(
        read_table(tmp_path / "train.parquet", label="data.train"),
        target="y",
        task="classification",
        features=None,
        exclude=[],
    )
    evaluation = prepare(
        read_table(tmp_path / "eval.parquet", label="data.eval"),
        target="y",
        task="classification",
        features=None,
        exclude=[],
        expected_types=train.feature_types,
    )
    assert train.features["when"].tolist() == evaluation.features["when"].tolist()


def test_unlabelled_rows_are_dropped_and_counted() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "y": ["no", None, "yes", np.nan, "no"]})
    dataset = prepared(frame)
    assert dataset.dropped_unlabelled == 2
    assert dataset.target.tolist() == ["no", "yes", "no"]
    assert dataset.features["a"].tolist() == [1.0, 3.0, 5.0]
    assert list(dataset.features.index) == list(dataset.target.index)


def test_target_empty_in_every_row() -> None:
    prepare_refused(pd.DataFrame({"a": [1, 2], "y": [None, None]}), "target column 'y' is empty")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([1.0, 0.0, 1.0], [1, 0, 1]),  # float labels from a csv with gaps elsewhere
        ([True, False, True], [1, 0, 1]),
        (["yes", "no", "yes"], ["yes", "no", "yes"]),
        ([2, 0, 1], [2, 0, 1]),
    ],
)
def test_classification_labels_are_normalised(labels: list[Any], expected: list[Any]) -> None:
    assert prepared(pd.DataFrame({"a": [1, 2, 3], "y": labels})).target.tolist() == expected


def test_regression_target_must_be_numeric() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "y": ["1.5", "high", "2"]})
    prepare_refused(
        frame, "target 'y' must be numeric for regression", "'high'", "task", task="regression"
    )


def test_regression_target_written_as_text_numbers_is_accepted() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "y": ["1.5", "2", "-3e2"]})
    assert prepared(frame, task="regression").target.tolist() == [1.5, 2.0, -300.0]


def test_regression_target_with_infinity() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "y": [1.0, 2.0, -np.inf]})
    prepare_refused(frame, "column 'y' has an infinite value", task="regression")


def test_csv_round_trip_through_prepare(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "train.csv", CSV.replace(",", ";")), label="data.train")
    dataset = prepare(table, target="churned", task="classification", features=None, exclude=[])
    assert dataset.feature_types == {"age": "numeric", "plan": "categorical"}
    assert dataset.target.tolist() == [1, 0, 1, 0]
    assert np.isnan(dataset.features["age"].iloc[2])
    assert pd.isna(dataset.features["plan"].iloc[3])


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-01", "2024-01-02", None],
        ["2024-01-01T00:00:00Z", "2024-01-02 00:00", None],
        ["2024-01-01T01:00:00+01:00", "2024-01-02T00:00:00.000", None],
    ],
)
def test_iso_dates_in_text_are_dates(values: list[str | None]) -> None:
    dataset = prepared(pd.DataFrame({"when": values, "y": [0, 1, 0]}))
    assert dataset.feature_types == {"when": "numeric"}
    assert dataset.features["when"].tolist()[:2] == [1704067200.0, 1704153600.0]
    assert np.isnan(dataset.features["when"].iloc[2])


@pytest.mark.parametrize(
    "values",
    [["2024-01-01", "soon"], ["2024-13-45", "2024-01-01"], ["20240101", "20240102"], ["a", "b"]],
)
def test_text_that_is_not_entirely_dates_stays_categorical(values: list[str]) -> None:
    dataset = prepared(pd.DataFrame({"when": values, "y": [0, 1]}))
    assert dataset.feature_types == {"when": "categorical"}
    assert dataset.features["when"].tolist() == values


def test_dates_in_parquet_training_and_csv_evaluation_agree(tmp_path: Path) -> None:
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-03-01", "2024-03-02"]), "y": [0, 1]})
    frame.to_parquet(tmp_path / "train.parquet")
    frame.to_csv(tmp_path / "eval.csv", index=False)
    train = prepare(
        read_table(tmp_path / "train.parquet", label="data.train"),
        target="y",
        task="classification",
        features=None,
        exclude=[],
    )
    evaluation = prepare(
        read_table(tmp_path / "eval.csv", label="data.eval"),
        target="y",
        task="classification",
        features=None,
        exclude=[],
        expected_types=train.feature_types,
    )
    assert train.features["when"].tolist() == evaluation.features["when"].tolist()


def test_a_date_column_that_was_text_for_the_champion_stays_text() -> None:
    frame = pd.DataFrame({"when": ["2024-01-01", "2024-01-02"], "y": [0, 1]})
    dataset = prepared(frame, expected_types={"when": "categorical"})
    assert dataset.features["when"].tolist() == ["2024-01-01", "2024-01-02"]


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    """A training and an evaluation csv of 50 and 9 rows."""
    train, evaluation = tmp_path / "train.csv", tmp_path / "eval.csv"
    pd.DataFrame({"x": range(50), "y": [0, 1] * 25}).to_csv(train, index=False)
    pd.DataFrame({"x": range(9), "y": [0, 1, 0] * 3}).to_csv(evaluation, index=False)
    return train, evaluation


def _readers(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The name of the thread that parses each file (by label), as files are read."""
    import threading

    from podium import data

    readers: dict[str, str] = {}
    parse = data._read_table

    def noted(path: Path, *, label: str) -> Table:
        readers[label] = threading.current_thread().name
        return parse(path, label=label)

    monkeypatch.setattr(data, "_read_table", noted)
    return readers


def test_both_files_are_read_side_by_side_and_kept(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from podium import data

    train, evaluation = two_files
    monkeypatch.setattr(data, "_CACHE", {})
    readers = _readers(monkeypatch)
    first, second = data.read_both(train, evaluation)
    assert readers["data.eval"] != readers["data.train"] == threading.current_thread().name
    assert (first.rows, second.rows) == (50, 9)
    assert first.sha256 == hashlib.sha256(train.read_bytes()).hexdigest()
    assert second.sha256 == hashlib.sha256(evaluation.read_bytes()).hexdigest()
    # kept: the next stage of the same process reads neither again
    assert read_table(train, label="data.train") is first
    assert read_table(evaluation, label="data.eval") is second


def test_files_too_large_to_parse_at_once_are_read_one_after_the_other(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from podium import data

    train, evaluation = two_files
    together = train.stat().st_size + evaluation.stat().st_size
    readers = _readers(monkeypatch)
    for limit, side_by_side in ((together, True), (together - 1, False)):
        monkeypatch.setattr(data, "_CACHE", {})
        monkeypatch.setattr(data, "SIDE_BY_SIDE_BYTES", limit)
        first, second = data.read_both(train, evaluation)
        assert (readers["data.eval"] != readers["data.train"]) is side_by_side, limit
        assert readers["data.train"] == threading.current_thread().name
        assert (first.rows, second.rows) == (50, 9)
        assert second.sha256 == hashlib.sha256(evaluation.read_bytes()).hexdigest()


def test_reading_both_reports_the_training_files_problem_first(tmp_path: Path) -> None:
    from podium import data

    good, empty = tmp_path / "good.csv", tmp_path / "empty.csv"
    good.write_text("x,y\n1,0\n2,1\n")
    empty.write_text("")
    with pytest.raises(DataError, match=r"missing\.csv: file not found \(data\.train\)"):
        data.read_both(tmp_path / "missing.csv", empty)
    with pytest.raises(DataError, match=r"empty\.csv: file is empty \(data\.eval\)"):
        data.read_both(good, empty)
    with pytest.raises(DataError, match=r"empty\.csv: file is empty \(data\.train\)"):
        data.read_both(empty, good)
