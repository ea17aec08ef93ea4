"""Reading training/evaluation tables and turning them into features and target.

Every way a table can be unusable ends in a `DataError` that names the file and the
column and says what to do. Each file is read once; its fingerprint is a streaming
sha256 of the bytes on disk (cheap next to parsing, and exact).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Table:
    """A loaded table and where it came from."""

    path: Path
    frame: pd.DataFrame
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.frame)

    def describe(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "rows": self.rows,
            "columns": len(self.frame.columns),
            "sha256": self.sha256,
        }


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_CACHE: dict[tuple[str, int, int], Table] = {}


def read_table(path: Path, *, label: str) -> Table:
    """Read a csv or parquet file; `label` is the config key it came from (for messages).

    Within one process a file is parsed once: `podium run` chains validate, train and
    evaluate on the same tables without re-reading them (keyed on path, size, mtime).
    """
    key = _cache_key(path)
    if key is not None and key in _CACHE:
        return _CACHE[key]
    table = _read_table(path, label=label)
    if key is not None:
        while len(_CACHE) >= 4:  # train + eval (+ a changed copy of each), no more
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = table
    return table


def _cache_key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _read_table(path: Path, *, label: str) -> Table:
    import pandas as pd

    if not path.exists():
        raise DataError(f"{path}: file not found ({label}); fix the path in podium.yaml")
    if path.is_dir() and path.suffix != ".parquet":
        raise DataError(f"{path}: is a folder, not a csv or parquet file ({label})")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty ({label}); it needs a header row and data rows")
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        elif suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            sep = _sniff_delimiter(path)
            _refuse_duplicate_header(path, sep, label)
            frame = pd.read_csv(path, sep=sep, low_memory=False)
            if not frame.index.equals(pd.RangeIndex(len(frame))):
                # More fields in the rows than in the header: pandas would silently
                # turn the leading columns into an index and shift every value.
                raise DataError(
                    f"{path}: rows have more fields than the header's {len(frame.columns)} "
                    f"({label}); check the delimiter and the quoting of text with '{sep}'"
                )
        else:
            raise DataError(
                f"{path}: unsupported file type '{path.suffix}' ({label}); use .csv or .parquet"
            )
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: no columns found ({label}); is the file empty?") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: is not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"offset {exc.start}) ({label}); export it as UTF-8 csv or use parquet"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot be parsed ({label}): {first}") from None
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows ({label}); add rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise DataError(f"{path}: duplicate column name(s) {duplicated} ({label}); rename them")
    digest = fingerprint(path) if path.is_file() else _folder_fingerprint(path)
    return Table(path=path, frame=frame, sha256=digest)


def _folder_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for part in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(part.relative_to(path).as_posix().encode())
        digest.update(fingerprint(part).encode())
    return digest.hexdigest()


def _header_line(path: Path) -> str:
    import gzip

    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return str(handle.readline()).removeprefix("\ufeff")


def _refuse_duplicate_header(path: Path, sep: str, label: str) -> None:
    """pandas renames a repeated column to `x.1`; that hides a broken export."""
    import csv

    names = [n.strip() for n in next(csv.reader([_header_line(path)], delimiter=sep), [])]
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise DataError(f"{path}: duplicate column name(s) {duplicated} ({label}); rename them")


def _sniff_delimiter(path: Path) -> str:
    """Pick the delimiter from the header line (comma unless another clearly dominates)."""
    header = _header_line(path)
    if path.suffix == ".tsv":
        return "\t"
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


@dataclass(frozen=True)
class Dataset:
    """Features and target ready for scikit-learn, plus the feature schema."""

    features: pd.DataFrame
    target: pd.Series
    feature_types: dict[str, str]  # column -> "numeric" | "categorical"
    dropped_unlabelled: int


def prepare(
    table: Table,
    *,
    target: str,
    task: str,
    features: list[str] | None,
    exclude: list[str],
    expected_types: dict[str, str] | None = None,
) -> Dataset:
    """Select and normalise feature columns; check the target.

    `expected_types` (from the training data) makes the evaluation data conform: same
    columns, and a numeric column must stay numeric.
    """
    import pandas as pd

    frame = table.frame
    path = table.path
    if target not in frame.columns:
        if len(frame.columns) == 1:  # a delimiter podium does not recognise (e.g. spaces)
            raise DataError(
                f"{path}: target column '{target}' not found: the file was read as a single "
                f"column '{str(frame.columns[0])[:60]}'; separate columns with , ; tab or |"
            )
        close = _close(target, frame.columns)
        raise DataError(
            f"{path}: target column '{target}' not found{close}; fix data.target in podium.yaml"
        )
    if expected_types is not None:
        wanted = list(expected_types)
    elif features is not None:
        wanted = list(features)
    else:
        wanted = [c for c in frame.columns if c != target and c not in set(exclude)]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}"
            f"{_close(missing[0], frame.columns)}; add them to the data or change data.features"
        )
    if not wanted:
        raise DataError(f"{path}: no feature columns besides the target '{target}'")

    labelled = frame[target].notna()
    dropped = int((~labelled).sum())
    if dropped == len(frame):
        raise DataError(f"{path}: target column '{target}' is empty in every row; fill it")
    if dropped:
        frame = frame.loc[labelled]
    y = frame[target]
    if task == "regression":
        converted = pd.to_numeric(y, errors="coerce")
        bad = y[converted.isna()]
        if len(bad):
            raise DataError(
                f"{path}: target '{target}' must be numeric for regression; "
                f"found {bad.iloc[0]!r}; fix the data or set model.task: classification"
            )
        y = _finite(converted.astype(float), target, path)
    else:
        y = _normalise_labels(y)

    x = pd.DataFrame(index=frame.index)
    types: dict[str, str] = {}
    for column in wanted:
        series = frame[column]
        kind = expected_types.get(column) if expected_types else None
        x[column], types[column] = _normalise_column(series, column, path, kind)
    return Dataset(features=x, target=y, feature_types=types, dropped_unlabelled=dropped)


def _normalise_labels(y: pd.Series) -> pd.Series:
    """Integer-valued float labels (1.0) become ints so that '1' and 1.0 agree."""
    import pandas as pd

    if pd.api.types.is_float_dtype(y) and (y == y.round()).all():
        return y.astype("int64")
    if pd.api.types.is_bool_dtype(y):
        return y.astype("int64")
    if pd.api.types.is_numeric_dtype(y):
        return y
    return y.astype(str)


def _normalise_column(
    series: pd.Series, column: str, path: Path, expected: str | None
) -> tuple[pd.Series, str]:
    """Numeric columns become float64 (so missing values survive the model signature);
    text columns become str with missing values kept as NaN."""
    import pandas as pd

    if series.isna().all():
        raise DataError(
            f"{path}: column '{column}' has no values at all; drop it or list it in data.exclude"
        )
    if expected == "categorical":
        return _as_text(series), "categorical"
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64"), "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return _epoch_seconds(series), "numeric"
    if pd.api.types.is_numeric_dtype(series):
        return _finite(series.astype("float64"), column, path), "numeric"
    dates = _iso_dates(series)
    if dates is not None:  # csv has no date type: ISO dates in text are still dates
        return _epoch_seconds(dates), "numeric"
    if expected == "numeric":
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad):
            raise DataError(
                f"{path}: column '{column}' is numeric in the training data but has "
                f"non-numeric value {bad.iloc[0]!r} here; fix the value or the export"
            )
        return _finite(converted.astype("float64"), column, path), "numeric"
    return _as_text(series), "categorical"


_ISO_DATE = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def _iso_dates(series: pd.Series) -> pd.Series | None:
    """Text that is entirely ISO 8601 dates/timestamps, as UTC datetimes; else None."""
    import pandas as pd

    present = series.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.head(100)):
        return None
    text = present.astype(str)
    if not text.head(100).str.fullmatch(_ISO_DATE).all() or not text.str.fullmatch(_ISO_DATE).all():
        return None
    try:
        return pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, OverflowError):
        return None  # e.g. 2024-13-45: not a date after all, keep it as text


def _epoch_seconds(series: pd.Series) -> pd.Series:
    """Seconds since the epoch (UTC) whatever the unit: pandas 3 reads text as µs and
    parquet may hold ns or ms, yet train and eval must agree on the scale."""
    import pandas as pd

    naive = series.dt.tz_convert(None) if series.dt.tz is not None else series
    seconds = (naive - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")


def _finite(values: pd.Series, column: str, path: Path) -> pd.Series:
    """±inf is neither a measurement nor 'missing': name it instead of failing in the fit."""
    import numpy as np

    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = values.index[infinite.argmax()]
        raise DataError(
            f"{path}: column '{column}' has an infinite value (row {row}); "
            "replace it with a number or leave the cell empty"
        )
    return values


def _as_text(series: pd.Series) -> pd.Series:
    """Text categories as Python str, missing as NaN; integral numbers print without '.0'."""
    import numpy as np

    def text(value: Any) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return series.astype(object).map(text).astype(object)


def _close(name: str, candidates: Any) -> str:
    import difflib

    names = [str(c) for c in candidates]
    same_but_case = [c for c in names if c.lower() == name.lower()]
    hint = same_but_case or difflib.get_close_matches(name, names, n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""
