"""Reading training/evaluation tables and turning them into features and target.

Every way a table can be unusable ends in a `DataError` that names the file and the
column and says what to do. Each file is read once; its fingerprint is a streaming
sha256 of the bytes on disk (cheap next to parsing, and exact).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from podium.errors import DataError, closest
from podium.raw_rows import as_text as _as_text
from podium.raw_rows import epoch_seconds as _epoch_seconds
from podium.raw_rows import iso_dates as _iso_dates

if TYPE_CHECKING:
    import pandas as pd

    from podium.config import TableSource

_DELIMITERS = (",", ";", "\t", "|")
T = TypeVar("T")


@dataclass(frozen=True)
class Table:
    """A loaded table and where it came from (a file, or a SQL/Spark source's description)."""

    path: Path | str
    frame: pd.DataFrame
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

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
_CACHE_LOCK = threading.Lock()


def read_table(path: Path | TableSource, *, label: str) -> Table:
    """Read a csv or parquet file, or a SQL/Spark source; `label` is the config key it came
    from (for messages).

    Within one process a table is read once: `podium run` chains validate, train and
    evaluate on the same tables without re-reading them (files keyed on path, size,
    mtime; SQL and Spark sources on their definition, so every stage sees one snapshot).
    """
    if not isinstance(path, Path):
        source_key = ("source", hash(path.model_dump_json()), 0)
        if source_key not in _CACHE:
            _remember(source_key, _read_source(path, label=label))
        return _CACHE[source_key]
    key = _cache_key(path)
    if key is not None and key in _CACHE:
        return _CACHE[key]
    table = _read_table(path, label=label)
    if key is not None:
        _remember(key, table)
    return table


# Above this many bytes of files, read_both parses them one after the other: pandas' csv
# parser holds a whole file's tokens until it has converted them (≈ 1.6× the parsed data for
# a moment), and two such parses at once were `podium run`'s memory peak on large tables.
SIDE_BY_SIDE_BYTES = 256 * 1024 * 1024


def read_both(train: Path | TableSource, evaluation: Path | TableSource) -> tuple[Table, Table]:
    """data.train and data.eval, as `read_table` reads them — two files side by side: the
    evaluation file is parsed on a second thread while the training file is (the csv and
    parquet readers release the GIL), unless together they exceed SIDE_BY_SIDE_BYTES. A
    problem is reported as reading one after the other would: the training file's first."""
    train_key = _cache_key(train) if isinstance(train, Path) else None
    eval_key = _cache_key(evaluation) if isinstance(evaluation, Path) else None
    if (
        train_key is None
        or eval_key is None
        or train_key == eval_key  # one file twice
        or train_key[1] + eval_key[1] > SIDE_BY_SIDE_BYTES
    ):
        return read_table(train, label="data.train"), read_table(evaluation, label="data.eval")
    later = beside(lambda: read_table(evaluation, label="data.eval"), name="podium-read-eval")
    try:
        first = read_table(train, label="data.train")
    except BaseException:
        with contextlib.suppress(BaseException):  # not the problem to report first
            later()
        raise
    return first, later()


def _remember(key: tuple[str, int, int], table: Table) -> None:
    with _CACHE_LOCK:  # two files may be read side by side (read_both)
        while len(_CACHE) >= 4:  # train + eval (+ a changed copy of each), no more
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = table


def _read_source(source: TableSource, *, label: str) -> Table:
    """A SQL table/query through SQLAlchemy, or a Spark table/query/path, as pandas."""
    reader = _read_spark if source.engine == "spark" else _read_sql
    frame, where = reader(source, label)
    if len(frame.columns) == 0:
        raise DataError(f"{where}: returned no columns ({label}); check the table or query")
    if frame.empty:
        raise DataError(f"{where}: returned no rows ({label}); check the table or query")
    _strip_column_names(frame, where, label, fix="alias them")
    return Table(path=where, frame=frame, sha256=frame_fingerprint(frame))


def _strip_column_names(frame: pd.DataFrame, where: Path | str, label: str, *, fix: str) -> None:
    """Column names as trimmed text; two columns with one name are refused, not renamed."""
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise DataError(f"{where}: duplicate column name(s) {duplicated} ({label}); {fix}")


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a table's content (names, dtypes, values): for sources with no file."""
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _read_sql(source: TableSource, label: str) -> tuple[pd.DataFrame, str]:
    import pandas as pd
    import sqlalchemy as sa

    engine, where = sql_engine(source, label)
    try:
        with engine.connect() as connection:
            query: Any
            if source.table:
                schema, _, name = source.table.rpartition(".")
                if not sa.inspect(connection).has_table(name, schema=schema or None):
                    raise DataError(
                        f"{where}: no such table '{source.table}' ({label}); fix {label}.table"
                    )
                table = sa.table(name, schema=schema or None)
                query = sa.select(sa.text("*")).select_from(table)
            else:
                query = sa.text(source.sql or "")
            frame = pd.read_sql(query, connection)
    except DataError:
        raise
    except pd.errors.DatabaseError as exc:  # pandas wraps the driver's error
        cause = getattr(exc.__cause__, "orig", None) or exc.__cause__ or exc
        raise DataError(f"{where}: {_first_line(cause)} ({label}); fix {label}.sql") from None
    except sa.exc.SQLAlchemyError as exc:
        raise sql_error(exc, where, label) from None
    finally:
        engine.dispose()
    return frame, where


def sql_engine(source: TableSource, label: str) -> tuple[Any, str]:
    """(a SQLAlchemy engine, how messages name the source) for a SQL source; a bad URL,
    a missing sqlite file or a missing driver is a DataError naming `label`."""
    import sqlalchemy as sa

    assert source.uri is not None
    try:
        url = sa.engine.make_url(source.uri)
    except sa.exc.ArgumentError:
        raise DataError(
            f"{label}.uri: '{source.uri}' is not a SQLAlchemy URL; write e.g. "
            "sqlite:///data/warehouse.db or postgresql+psycopg://host/db"
        ) from None
    what = f"table {source.table}" if source.table else "query"
    where = f"{url.render_as_string(hide_password=True)} ({what})"
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(str(url.database)).is_file():
        raise DataError(f"{url.database}: sqlite database not found ({label}); fix {label}.uri")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise DataError(
            f"{where}: cannot connect ({label}): {_first_line(exc)}; "
            "install the database driver or fix the URL"
        ) from None
    return engine, where


def sql_error(exc: Exception, where: str, label: str) -> Exception:
    """A SQLAlchemy error in words: a lost or refused connection is the database's failure
    (ServiceError), anything else the query's or the table's (DataError)."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.OperationalError):
        if "unable to open" in str(exc) or "could not connect" in str(exc).lower():
            from podium.errors import ServiceError

            return ServiceError(f"{where}: {_first_line(exc.orig or exc)}")
        problem = _first_line(exc.orig or exc)
        return DataError(f"{where}: {problem} ({label}); fix {label}.sql or .table")
    return DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}")


def spark_where(source: TableSource) -> str:
    """How messages name an `engine: spark` source."""
    if source.table:
        return f"spark table {source.table}"
    if source.sql:
        return "spark query"
    return f"spark {source.path}"


def spark_frame(source: TableSource, spark: Any) -> Any:
    """An `engine: spark` source as a Spark DataFrame, not read yet (Spark's own errors
    pass through: the callers word them)."""
    if source.table:
        return spark.table(source.table)
    if source.sql:
        return spark.sql(source.sql)
    assert source.path is not None
    fmt = source.format or Path(source.path.rstrip("/")).suffix.lstrip(".") or "parquet"
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    return reader.load(source.path)


def _read_spark(source: TableSource, label: str) -> tuple[pd.DataFrame, str]:
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            f"{label}: engine: spark needs pyspark (and Java 17+); `pip install pyspark` "
            "or use a file or SQL source"
        ) from None
    spark = SparkSession.builder.appName("podium").getOrCreate()
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    where = spark_where(source)
    try:
        frame = spark_frame(source, spark)
        import warnings

        with warnings.catch_warnings():
            # pyspark's Arrow path still passes pandas 3's deprecated `copy=` keyword
            warnings.filterwarnings("ignore", "The copy keyword is deprecated")
            return frame.toPandas(), where
    except PySparkException as exc:
        raise DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split())[:300] if text else type(exc).__name__


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
    # The file's digest on a second thread while pandas parses it: hashlib and the csv and
    # parquet readers all release the GIL, so on two cores the hashing costs no time.
    digesting = beside(lambda: fingerprint(path) if path.is_file() else _folder_fingerprint(path))
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
    digest = digesting()
    if frame.empty:
        raise DataError(f"{path}: has a header but no data rows ({label}); add rows")
    _strip_column_names(frame, path, label, fix="rename them")
    return Table(path=path, frame=frame, sha256=digest)


def beside(work: Callable[[], T], name: str = "podium-fingerprint") -> Callable[[], T]:
    """Start `work()` on a daemon thread; the returned function waits for its result (or
    raises its error)."""
    import threading

    found: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            found.append(work())
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if failed:
            raise failed[0]
        return found[0]

    return result


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
    coerce: Collection[str] = (),
) -> Dataset:
    """Select and normalise feature columns; check the target.

    `expected_types` (from the training data) makes the evaluation data conform: same
    columns, and a numeric column must stay numeric.
    `coerce` (data.coerce_numeric): columns whose values that are not numbers are read as
    missing; any other column numeric but for a few values is a DataError naming them.
    """
    import pandas as pd

    frame = table.frame
    path = table.path
    if target not in frame.columns and len(frame.columns) == 1:
        # a delimiter podium does not recognise (e.g. spaces)
        raise DataError(
            f"{path}: target column '{target}' not found: the file was read as a single "
            f"column '{str(frame.columns[0])[:60]}'; separate columns with , ; tab or |"
        )
    wanted = feature_columns(
        path, list(frame.columns), target, features, exclude, expected_types=expected_types
    )

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
        y = normalise_labels(y)

    x = pd.DataFrame(index=frame.index)
    types: dict[str, str] = {}
    for column in wanted:
        series = frame[column]
        kind = expected_types.get(column) if expected_types else None
        x[column], types[column] = _normalise_column(
            series, column, path, kind, coerce=column in coerce
        )
    return Dataset(features=x, target=y, feature_types=types, dropped_unlabelled=dropped)


class Columns(Protocol):
    """A table as far as its column names go (any engine's table has them)."""

    @property
    def path(self) -> Path | str: ...

    @property
    def columns(self) -> list[str]: ...


def check_excluded(exclude: list[str], train: Columns, evaluation: Columns) -> None:
    """Every `data.exclude` name is a column of the training or evaluation data.

    A typo there would otherwise leave the column — often an id — in as a feature.
    A name only the evaluation data has (an attribute kept for slicing) is fine.
    """
    known = train.columns + evaluation.columns
    for name in exclude:
        if name not in known:
            raise DataError(
                f"{train.path}: data.exclude lists '{name}', which is not a column of the "
                f"training or evaluation data{_close(name, known)}; fix data.exclude in "
                "podium.yaml"
            )


def check_labels(train: Dataset, evaluation: Dataset, *, target: str, path: Path | str) -> None:
    """Every class in the evaluation data is one the classifier can learn from data.train.

    A class the model never saw has no probability column: its metrics cannot be scored.
    """
    import pandas as pd

    # .tolist(): Python values, so that a label reads 1, not np.int64(1)
    unseen = sorted(
        set(evaluation.target.unique().tolist()) - set(train.target.unique().tolist()), key=str
    )
    if unseen:
        rows = int(evaluation.target.isin(unseen).sum())
        shown = ", ".join(repr(label) for label in unseen[:5])
        fix = "add such rows to data.train or drop them from data.eval"
        if pd.api.types.is_float_dtype(train.target):  # labels like 109115.15: a quantity
            fix = f"is '{target}' a number to predict? set model.task: regression (or {fix})"
        raise DataError(
            f"{path}: target '{target}' has label(s) {shown} ({rows:,} rows) that the training "
            f"data does not have, so no model can predict them; {fix}"
        )


def normalise_labels(y: pd.Series) -> pd.Series:
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
    series: pd.Series,
    column: str,
    path: Path | str,
    expected: str | None,
    *,
    coerce: bool = False,
) -> tuple[pd.Series, str]:
    """Numeric columns become float64 (so missing values survive the model signature);
    text columns become str with missing values kept as NaN.

    Text that is numbers but for a few values (a stray 'unknown' among ages) is refused,
    naming the values and rows, rather than turned into a category per number; with
    `coerce` (data.coerce_numeric) those values are read as missing instead.
    """
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
    if expected == "numeric" or coerce or (expected is None and _mostly_numbers(series)):
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad) and not coerce:
            where = (
                "is numeric in the training data but has"
                if expected == "numeric"
                else f"is numeric in {len(series) - len(bad):,} rows but has"
            )
            raise DataError(
                f"{path}: column '{column}' {where} {_stray(bad)}; fix the data, or list "
                f"'{column}' in data.coerce_numeric to read such values as missing"
            )
        return _finite(converted.astype("float64"), column, path), "numeric"
    return _as_text(series), "categorical"


# A text column is "numbers but for a few values" when at most this share of its present
# values (and at most _STRAY_DISTINCT distinct ones) are not numbers: a stray 'unknown' or
# 'n/a', not a category such as '4+' on a tenth of the rows.
_STRAY_SHARE = 0.02
_STRAY_DISTINCT = 5


def _mostly_numbers(series: pd.Series) -> bool:
    """Whether text is numbers but for a few stray values (decided on distinct values:
    a category column has few, so this costs next to nothing there)."""
    import pandas as pd

    present = series.dropna()
    if present.empty:
        return False
    distinct = pd.Series(pd.unique(present))
    numbers = pd.to_numeric(distinct, errors="coerce")
    strays = distinct[numbers.isna()]
    if strays.empty or len(strays) > _STRAY_DISTINCT or numbers.notna().sum() < 2:
        return False
    stray_rows = int(present.isin(strays).sum())
    return stray_rows <= _STRAY_SHARE * len(present)


def _stray(bad: pd.Series) -> str:
    """'1 non-numeric value 'unknown' (row 1,203)', or the count, the first values and rows
    (rows counted from 1, the first data row under the header)."""
    values = list(dict.fromkeys(str(v) for v in bad))
    shown = ", ".join(repr(v) for v in values[:3]) + (", …" if len(values) > 3 else "")
    rows = [_row_number(i) for i in bad.index[:3]]
    at = ", ".join(f"{r:,}" for r in rows) + (", …" if len(bad) > 3 else "")
    count = len(bad)
    plural = "s" if count > 1 else ""
    return f"{count:,} non-numeric value{plural} {shown} (row{plural} {at})"


def _row_number(index: Any) -> Any:
    """A frame's row label as the data row a person counts (1 = first row under the header)."""
    import numbers

    return int(index) + 1 if isinstance(index, numbers.Integral) else index


def _finite(values: pd.Series, column: str, path: Path | str) -> pd.Series:
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


def feature_columns(
    path: Any,
    columns: list[str],
    target: str,
    features: list[str] | None,
    exclude: list[str],
    *,
    expected_types: dict[str, str] | None = None,
) -> list[str]:
    """The feature columns of a table with `columns` (any engine): the trained model's when
    `expected_types` is given, else data.features, else every column but the target and
    data.exclude. A missing target or feature is a DataError naming it (with a did-you-mean)."""
    if target not in columns:
        raise DataError(
            f"{path}: target column '{target}' not found{_close(target, columns)}; "
            "fix data.target in podium.yaml"
        )
    if expected_types is not None:
        wanted = list(expected_types)
    elif features is not None:
        wanted = list(features)
    else:
        wanted = [c for c in columns if c != target and c not in set(exclude)]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}"
            f"{_close(missing[0], columns)}; add them to the data or change data.features"
        )
    if not wanted:
        raise DataError(f"{path}: no feature columns besides the target '{target}'")
    return wanted


def _close(name: str, candidates: Any) -> str:
    hint = closest(name, candidates)
    return f" (did you mean '{hint}'?)" if hint else ""


def features_like(
    table: Table, expected_types: dict[str, str], *, label: str, coerce: Collection[str] = ()
) -> pd.DataFrame:
    """Every row's feature columns, normalised as at training time (no target needed).

    For production inputs (`podium monitor`): a missing column is a DataError naming it.
    """
    import pandas as pd

    frame = table.frame
    missing = [c for c in expected_types if c not in frame.columns]
    if missing:
        raise DataError(
            f"{table.path}: missing column(s) {', '.join(repr(c) for c in missing)}"
            f"{_close(missing[0], frame.columns)} ({label}); the champion was trained on "
            "them — export them with the production data"
        )
    out = pd.DataFrame(index=frame.index)
    for column, kind in expected_types.items():
        if frame[column].isna().all():  # all missing is drift to report, not bad input
            out[column] = frame[column].astype("float64" if kind == "numeric" else object)
            continue
        out[column], _ = _normalise_column(
            frame[column], column, table.path, kind, coerce=column in coerce
        )
    return out


def check_columns(
    where: str,
    columns: list[str],
    types: dict[str, str],
    id_column: str | None,
    *,
    label: str = "--data",
) -> None:
    """A table to score (`podium predict`, on any engine) holds every feature the version
    was trained on, and the id column: DataError (exit 2) naming what is missing."""
    from podium.errors import closest

    if id_column is not None and id_column not in columns:
        raise DataError(
            f"--id '{id_column}' is not a column of {where}; name one of its columns "
            f"(e.g. {', '.join(columns[:5])})"
        )
    missing = [c for c in types if c not in columns]
    if missing:
        hint = closest(missing[0], columns)
        did_you = f" (did you mean '{hint}'?)" if hint else ""
        raise DataError(
            f"{where}: missing column(s) {', '.join(repr(c) for c in missing)}{did_you} "
            f"({label}); the version was trained on them — export them with the data"
        )
