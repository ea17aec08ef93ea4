"""A SQL source with `in_database: true`: podium's checks and profile run in its database.

What comes to the runner is bounded whatever the table's size: aggregates (counts, bin
and category counts), a few thousand order statistics per numeric feature, and rows in
chunks of `CHUNK_ROWS` for the one pass that must see every row — the fingerprint. What
comes back is what a `data.Table`/`data.Dataset` would say about the same rows (names,
counts, feature types, classes), so the stages judge both alike, and the profile has
`drift.profile`'s format, so a SQL-trained champion and a file-trained challenger compare.

How each part is computed (portable SQL: SQLAlchemy Core, window functions as sqlite
3.25+, Postgres and MySQL 8 have them):
- row count, labelled rows, empty columns, ±inf: one aggregate query per table;
- classes: a GROUP BY on the target;
- quantile bin edges: exact — the order statistics around each quantile, picked with
  ROW_NUMBER() OVER (ORDER BY value), interpolated as numpy's `quantile` does;
- bin, category and missing counts: one aggregate query (CASE per bin); the 50 most
  frequent categories with a GROUP BY … ORDER BY count DESC LIMIT;
- the KS sample: at most `drift.SAMPLE_SIZE` values picked by rank, the ranks drawn by a
  seeded numpy generator (all values in a table that small, as the pandas path does);
- the fingerprint: no portable SQL hashes rows, so the rows are streamed in chunks and
  each row's content hashed (pandas' row hash of the values as text, two keys); the
  hashes are summed, so the digest does not depend on the database's row order. It is
  not the digest the read-into-pandas path gives for the same rows;
- number or text per column: from the same streamed pass (what pandas would make of the
  values), with the first value that is not a number, for the eval data's checks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium import drift
from podium.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from podium.config import TableSource

CHUNK_ROWS = 50_000  # rows per chunk of the streamed passes: bounded runner memory
_LARGEST = 1.7976931348623157e308  # a value beyond it is ±inf in any database's float
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class SqlTable:
    """A table or query in a database and what podium knows of it without holding it."""

    path: str  # how messages name it: the URL without password, and table or query
    source: TableSource
    label: str  # the config key it came from (data.train, data.eval)
    columns: list[str]
    rows: int
    sha256: str
    numeric: dict[str, bool]  # column -> every value is a number (what pandas would read)
    not_numeric: dict[str, Any]  # column -> a value that is not a number
    dtypes: dict[str, str] = field(default_factory=dict)  # column -> pandas' dtype, read whole

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "columns": len(self.columns),
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class SqlDataset:
    """What `data.prepare` would say of a SQL table, and how to select its features."""

    table: SqlTable
    target: str
    feature_types: dict[str, str]
    rows: int  # labelled rows
    dropped_unlabelled: int
    classes: dict[str, int] = field(default_factory=dict)  # label (as text) -> rows


_TABLES: dict[str, SqlTable] = {}
_PREPARED: dict[str, SqlDataset] = {}


def read(source: TableSource, *, label: str) -> SqlTable:
    """Count, type and fingerprint a SQL source without holding it (once per process:
    validate, train and evaluate in `podium run` see one snapshot)."""
    key = source.model_dump_json()
    if key not in _TABLES:
        while len(_TABLES) >= 4:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = _read(source, label)
    return _TABLES[key]


def forget() -> None:
    """Drop the tables and prepared datasets remembered in this process (a new snapshot)."""
    _TABLES.clear()
    _PREPARED.clear()


def _read(source: TableSource, label: str) -> SqlTable:
    import sqlalchemy as sa

    from podium import data

    engine, where = data.sql_engine(source, label)
    try:
        with engine.connect() as connection:
            relation = _relation(source, connection, where, label)
            columns = [str(c.name).strip() for c in relation.c]
            if not columns:
                raise DataError(f"{where}: returned no columns ({label}); check the table or query")
            duplicated = sorted({c for c in columns if columns.count(c) > 1})
            if duplicated:
                raise DataError(
                    f"{where}: duplicate column name(s) {duplicated} ({label}); alias them"
                )
            rows, sha256, numeric, not_numeric, dtypes = _stream_fingerprint(connection, relation)
    except DataError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise data.sql_error(exc, where, label) from None
    finally:
        engine.dispose()
    if rows == 0:
        raise DataError(f"{where}: returned no rows ({label}); check the table or query")
    return SqlTable(where, source, label, columns, rows, sha256, numeric, not_numeric, dtypes)


def _relation(source: TableSource, connection: Any, where: str, label: str) -> Any:
    """The table, or the query as a subquery, with its columns known (a failing query
    fails here, before anything is counted)."""
    import sqlalchemy as sa

    if source.table:
        schema, _, name = source.table.rpartition(".")
        if not sa.inspect(connection).has_table(name, schema=schema or None):
            raise DataError(f"{where}: no such table '{source.table}' ({label}); fix {label}.table")
        return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=connection)
    text = (source.sql or "").strip().rstrip(";")
    probe = sa.select(sa.text("*")).select_from(sa.text(f"({text}) AS podium_probe")).limit(0)
    names = list(connection.execute(probe).keys())
    return sa.text(text).columns(*[sa.column(n) for n in names]).subquery("podium_query")


def _connected(table: SqlTable) -> tuple[Any, Any, Any]:
    """(engine, connection, relation) for a table read before; the caller closes them."""
    from podium import data

    engine, where = data.sql_engine(table.source, table.label)
    connection = engine.connect()
    return engine, connection, _relation(table.source, connection, where, table.label)


def _stream(connection: Any, query: Any) -> Any:
    """The query's rows as pandas chunks of `CHUNK_ROWS`, through a server-side cursor
    where the driver has one."""
    import pandas as pd

    streaming = connection.execution_options(stream_results=True)
    return pd.read_sql(query, streaming, chunksize=CHUNK_ROWS)


def _canonical(chunk: pd.DataFrame) -> pd.DataFrame:
    """Each value as text that does not depend on the chunk's dtype (1, 1.0 and an int
    column with a NULL elsewhere all read '1.0'; NULL and NaN one marker)."""
    import pandas as pd

    out = {}
    for name in chunk.columns:
        series = chunk[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.astype("float64")
            out[name] = values.map(repr).where(values.notna(), "\x00")
        else:
            out[name] = series.map(_text_of)
    return pd.DataFrame(out)


def _text_of(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\x00"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value))
    return f"{type(value).__name__}:{value}"


def _stream_fingerprint(
    connection: Any, relation: Any
) -> tuple[int, str, dict[str, bool], dict[str, Any], dict[str, str]]:
    """(rows, sha256 of the content, number-or-text per column, a non-number per column,
    the dtype pandas gives each column read whole) in one streamed pass. The sums of two
    64-bit row hashes make the digest independent of the row order."""
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    rows = 0
    sums = [0, 0]
    numeric: dict[str, bool] = {}
    not_numeric: dict[str, Any] = {}
    names: list[str] = []
    kinds: dict[str, set[str]] = {}
    for chunk in _stream(connection, sa.select(relation)):
        names = [str(c).strip() for c in chunk.columns]
        chunk.columns = names
        rows += len(chunk)
        canonical = _canonical(chunk)
        for index, key in enumerate(("podium-row-hash-0", "podium-row-hash-1")):
            hashed = pd.util.hash_pandas_object(canonical, index=False, hash_key=key.ljust(16)[:16])
            # Python ints: exact sums, no overflow, whatever the number of rows
            sums[index] = (
                sums[index] + int(hashed.to_numpy(dtype=np.uint64).sum(dtype=object))
            ) & _MASK
        for name in names:
            present = chunk[name].dropna()
            seen = kinds.setdefault(name, set())
            if len(present) < len(chunk):
                seen.add("missing")
            if present.empty:
                continue
            seen.add(_family(present))
            number = pd.api.types.is_numeric_dtype(present)
            numeric[name] = numeric.get(name, True) and number
            if not number and name not in not_numeric:
                converted = pd.to_numeric(present, errors="coerce")
                bad = present[converted.isna()]
                if len(bad):
                    not_numeric[name] = bad.iloc[0]
    digest = hashlib.sha256()
    digest.update(repr(names).encode())
    digest.update(repr([rows, *sums]).encode())
    dtypes = {name: _dtype(seen) for name, seen in kinds.items()}
    return rows, digest.hexdigest(), numeric, not_numeric, dtypes


def _family(present: pd.Series) -> str:
    from podium.suggestions import dtype_family

    found = dtype_family(present.dtype)
    return "text" if found == "other" else found


def _dtype(seen: set[str]) -> str:
    """The dtype pandas infers for the whole column from what the chunks held: ints with
    a NULL anywhere are float64, mixed numbers and text are objects."""
    values = seen - {"missing"}
    if values == {"int"}:
        return "float64" if "missing" in seen else "int64"
    if values <= {"int", "float"} and values:
        return "float64"
    if values == {"bool"} and "missing" not in seen:
        return "bool"
    return "str" if values == {"text"} else "object"


# -- features and target, as data.prepare makes them ----------------------------------


def prepare(
    table: SqlTable,
    *,
    target: str,
    task: str,
    features: list[str] | None,
    exclude: list[str],
    expected_types: dict[str, str] | None = None,
) -> SqlDataset:
    """`data.prepare`'s checks and messages, as aggregate queries in the database."""
    key = repr((table.path, table.sha256, target, task, features, exclude, expected_types))
    if key not in _PREPARED:
        while len(_PREPARED) >= 8:
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = _prepare(table, target, task, features, exclude, expected_types)
    return _PREPARED[key]


def _prepare(
    table: SqlTable,
    target: str,
    task: str,
    features: list[str] | None,
    exclude: list[str],
    expected_types: dict[str, str] | None,
) -> SqlDataset:
    import sqlalchemy as sa

    from podium import data

    path, columns = table.path, table.columns
    wanted = data.feature_columns(
        path, columns, target, features, exclude, expected_types=expected_types
    )
    if task == "regression" and not table.numeric.get(target, True):
        raise DataError(
            f"{path}: target '{target}' must be numeric for regression; found "
            f"{table.not_numeric.get(target)!r}; fix the data or set model.task: classification"
        )
    types: dict[str, str] = {}
    for column in wanted:
        expected = expected_types.get(column) if expected_types else None
        number = table.numeric.get(column, True)
        if expected == "numeric" and not number and column in table.not_numeric:
            raise DataError(
                f"{path}: column '{column}' is numeric in the training data but has "
                f"non-numeric value {table.not_numeric[column]!r} here; fix the value or "
                "the export"
            )
        types[column] = expected or ("numeric" if number else "categorical")

    engine, connection, relation = _connected(table)
    try:
        y = relation.c[target]
        labelled = y.is_not(None)
        checks = [sa.func.count(y).label("labelled")]
        for index, column in enumerate(wanted):
            value = relation.c[column]
            checks.append(sa.func.count(sa.case((labelled, value))).label(f"n{index}"))
            if types[column] == "numeric" and table.numeric.get(column, True):
                infinite = labelled & ((value > _LARGEST) | (value < -_LARGEST))
                checks.append(sa.func.count(sa.case((infinite, 1))).label(f"inf{index}"))
        found = connection.execute(sa.select(*checks).select_from(relation)).mappings().one()
        labelled_rows = int(found["labelled"])
        if labelled_rows == 0:
            raise DataError(f"{path}: target column '{target}' is empty in every row; fill it")
        for index, column in enumerate(wanted):
            if int(found[f"n{index}"]) == 0:
                raise DataError(
                    f"{path}: column '{column}' has no values at all; drop it or list it in "
                    "data.exclude"
                )
            if found.get(f"inf{index}"):
                raise DataError(
                    f"{path}: column '{column}' has an infinite value; "
                    "replace it with a number or leave the cell empty"
                )
        classes: dict[str, int] = {}
        if task != "regression":
            query = sa.select(y, sa.func.count()).where(labelled).group_by(y).limit(1001)
            counted = connection.execute(query).all()
            import pandas as pd

            labels = data.normalise_labels(pd.Series([r[0] for r in counted]))
            for label, row in zip(labels.tolist(), counted, strict=True):
                classes[str(label)] = classes.get(str(label), 0) + int(row[1])
    except DataError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise data.sql_error(exc, path, table.label) from None
    finally:
        connection.close()
        engine.dispose()
    return SqlDataset(table, target, types, labelled_rows, table.rows - labelled_rows, classes)


def check_labels(train: SqlDataset | Any, evaluation: SqlDataset | Any, *, target: str) -> None:
    """`data.check_labels` from the class counts: an eval label the training data lacks
    is exit 2, in the same words."""
    unseen = sorted(set(evaluation.classes) - set(train.classes))
    if unseen:
        rows = sum(evaluation.classes[label] for label in unseen)
        shown = ", ".join(repr(_as_label(label)) for label in unseen[:5])
        raise DataError(
            f"{evaluation.table.path}: target '{target}' has label(s) {shown} ({rows:,} rows) "
            "that the training data does not have, so no model can predict them; add such "
            "rows to data.train or drop them from data.eval"
        )


def _as_label(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


# -- the drift profile and the comparison with one -------------------------------------


def _value(dataset: SqlDataset, relation: Any, column: str) -> Any:
    """A feature as the model sees it: a float for numeric, the stored value otherwise."""
    import sqlalchemy as sa

    value = relation.c[column]
    return sa.cast(value, sa.Float) if dataset.feature_types[column] == "numeric" else value


def _finite(value: Any) -> Any:
    return value.is_not(None) & (value <= _LARGEST) & (value >= -_LARGEST)


def profile(
    dataset: SqlDataset,
    *,
    bins: int = drift.BINS,
    sample_size: int = drift.SAMPLE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """`drift.profile` of a SQL dataset, in its format, from queries in the database:
    exact quantile edges, bin, category and missing counts, and a seeded sample of at
    most `sample_size` values per numeric feature."""
    import numpy as np

    types = dataset.feature_types
    probabilities = np.linspace(0, 1, bins + 1)[1:-1]
    with _session(dataset) as (connection, relation):
        rng = np.random.default_rng(seed)
        edges: dict[str, np.ndarray] = {}
        samples: dict[str, np.ndarray] = {}
        for column, kind in types.items():
            if kind == "numeric":
                edges[column], samples[column] = _order_statistics(
                    connection, relation, dataset, column, probabilities, sample_size, rng
                )
        counted = _counts(connection, relation, dataset, edges, {})
    return drift.profile_from(dataset.rows, types, edges, counted, samples)


def compare(
    reference: dict[str, Any],
    dataset: SqlDataset,
    *,
    psi_threshold: float = drift.PSI_THRESHOLD,
    p_value: float = drift.P_VALUE,
    sample_size: int = drift.SAMPLE_SIZE,
    seed: int = 0,
) -> list[drift.FeatureDrift]:
    """`drift.compare` in the database: counts over the reference's bins and categories
    and a sample of at most `sample_size` values, judged by the same functions."""
    import numpy as np

    chosen, edges, known = drift.reference_bins(reference, dataset.feature_types)
    rng = np.random.default_rng(seed)
    with _session(dataset) as (connection, relation):
        counted = _counts(connection, relation, dataset, edges, known, only=list(chosen))
        samples = {
            c: _order_statistics(connection, relation, dataset, c, np.array([]), sample_size, rng)[
                1
            ]
            for c in edges
        }
    return drift.from_counts(
        chosen,
        counted,
        samples,
        psi_threshold=psi_threshold,
        p_value=p_value,
        sample_size=sample_size,
    )


class _session:
    """(connection, relation) for a dataset's table; SQL errors worded as `read`'s."""

    def __init__(self, dataset: SqlDataset) -> None:
        self.table = dataset.table

    def __enter__(self) -> tuple[Any, Any]:
        self.engine, self.connection, relation = _connected(self.table)
        return self.connection, relation

    def __exit__(self, kind: Any, exc: Any, traceback: Any) -> None:
        import sqlalchemy as sa

        from podium import data

        self.connection.close()
        self.engine.dispose()
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise data.sql_error(exc, self.table.path, self.table.label) from None


def _order_statistics(
    connection: Any,
    relation: Any,
    dataset: SqlDataset,
    column: str,
    probabilities: np.ndarray,
    sample_size: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(numpy's linear quantiles at `probabilities`, a seeded sample of at most
    `sample_size` values) of a numeric feature's finite values on labelled rows — from
    the values at a few ranks of ROW_NUMBER() OVER (ORDER BY value)."""
    import numpy as np
    import sqlalchemy as sa

    value = _value(dataset, relation, column)
    usable = relation.c[dataset.target].is_not(None) & _finite(value)
    count = int(connection.execute(sa.select(sa.func.count()).where(usable)).scalar_one())
    if count == 0:
        return np.array([], dtype=float), np.array([], dtype=float)
    # numpy's "linear" method: virtual index (n − 1)·q, interpolated as its _lerp does
    virtual = (count - 1) * probabilities
    below = np.floor(virtual).astype(int)
    above = np.minimum(below + 1, count - 1)
    drawn = (
        np.arange(count) if count <= sample_size else rng.choice(count, sample_size, replace=False)
    )
    wanted = sorted({*below.tolist(), *above.tolist(), *drawn.tolist()})
    ranked = (
        sa.select(value.label("v"), sa.func.row_number().over(order_by=value).label("r"))
        .where(usable)
        .subquery("podium_ranked")
    )
    # the ranks are integers podium drew: written as literals, no bound-parameter limit
    picked = sa.select(ranked.c.r, ranked.c.v).where(
        ranked.c.r.in_([sa.literal_column(str(r + 1)) for r in wanted])
    )
    at = {int(r) - 1: float(v) for r, v in connection.execute(picked).all()}
    low = np.array([at[i] for i in below], dtype=float)
    high = np.array([at[i] for i in above], dtype=float)
    gamma = virtual - below
    difference = high - low
    quantiles = np.where(gamma >= 0.5, high - difference * (1 - gamma), low + difference * gamma)
    sample = np.array([at[int(i)] for i in drawn], dtype=float)
    return np.unique(quantiles), sample


def _counts(
    connection: Any,
    relation: Any,
    dataset: SqlDataset,
    edges: dict[str, Any],
    known: dict[str, list[str]],
    *,
    only: list[str] | None = None,
) -> dict[str, tuple[Any, int]]:
    """Per feature: (bin counts over `edges`, or category counts; missing count), on the
    labelled rows. Bins are (-inf, e0], (e0, e1], …, (ek, inf) as `drift` counts them.
    Categories: the reference's (`known`) one by one and the rest summed under
    `drift.OTHER`; without a reference, the `drift.MAX_CATEGORIES` most frequent."""
    import sqlalchemy as sa

    types = {c: k for c, k in dataset.feature_types.items() if only is None or c in only}
    labelled = relation.c[dataset.target].is_not(None)
    aggregates: list[Any] = [sa.func.count().label("rows")]
    numeric = [c for c, k in types.items() if k == "numeric"]
    for index, column in enumerate(numeric):
        value = _value(dataset, relation, column)
        present = _finite(value)
        aggregates.append(sa.func.count(sa.case((present, 1))).label(f"p{index}"))
        cuts = [float(e) for e in edges[column]]
        for position in range(len(cuts) + 1):
            inside = present
            if position > 0:
                inside = inside & (value > cuts[position - 1])
            if position < len(cuts):
                inside = inside & (value <= cuts[position])
            aggregates.append(sa.func.count(sa.case((inside, 1))).label(f"b{index}_{position}"))
    categorical = [c for c, k in types.items() if k != "numeric"]
    for index, column in enumerate(categorical):
        aggregates.append(sa.func.count(relation.c[column]).label(f"c{index}"))
    row = connection.execute(sa.select(*aggregates).where(labelled)).mappings().one()
    rows = int(row["rows"])
    out: dict[str, tuple[Any, int]] = {}
    for index, column in enumerate(numeric):
        count = len(edges[column]) + 1
        out[column] = (
            [int(row[f"b{index}_{p}"]) for p in range(count)],
            rows - int(row[f"p{index}"]),
        )
    for index, column in enumerate(categorical):
        value = relation.c[column]
        present = int(row[f"c{index}"])
        tally = sa.func.count().label("n")
        query = sa.select(value, tally).where(labelled & value.is_not(None)).group_by(value)
        if column in known:
            query = query.where(value.in_(known[column]))
        else:
            query = query.order_by(sa.desc("n"), value).limit(drift.MAX_CATEGORIES)
        categories: dict[str, int] = {}
        for key, n in connection.execute(query).all():
            text = _category(key)
            categories[text] = categories.get(text, 0) + int(n)
        beyond = present - sum(categories.values())
        if beyond:
            categories[drift.OTHER] = categories.get(drift.OTHER, 0) + beyond
        out[column] = (categories, rows - present)
    return out


def _category(value: Any) -> str:
    """A category's name as the pandas path writes it (an integral float as '1')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- training on a sample ---------------------------------------------------------------


def training_rows(table: SqlTable, *, rows: int, seed: int = 0) -> pd.DataFrame:
    """Every row when there are at most `rows`; else the `rows` rows whose content hashes
    lowest (seeded) — a uniform sample that does not depend on the row order — kept
    while the rows stream past in chunks, so memory stays at `rows` + one chunk."""
    reservoir = Reservoir(rows, key=f"podium-sample-{seed}")
    for chunk in chunks(table):
        reservoir.add(chunk)
    return reservoir.frame()


def chunks(table: SqlTable) -> Iterator[pd.DataFrame]:
    """The table's rows in chunks of `CHUNK_ROWS` (column names as `read` gives them),
    through a server-side cursor where the driver has one; SQL errors in podium's words."""
    return source_chunks(table.source, label=table.label)


def source_columns(source: TableSource, *, label: str) -> tuple[str, list[str]]:
    """(how messages name the source, its column names) without reading a row."""
    import sqlalchemy as sa

    from podium import data

    engine, where = data.sql_engine(source, label)
    try:
        with engine.connect() as connection:
            relation = _relation(source, connection, where, label)
            return where, [str(c.name).strip() for c in relation.c]
    except sa.exc.SQLAlchemyError as exc:
        raise data.sql_error(exc, where, label) from None
    finally:
        engine.dispose()


def source_chunks(source: TableSource, *, label: str) -> Iterator[pd.DataFrame]:
    """A SQL source's rows in chunks of `CHUNK_ROWS`, never held whole (see `chunks`)."""
    import sqlalchemy as sa

    from podium import data

    engine, where = data.sql_engine(source, label)
    try:
        with engine.connect() as connection:
            relation = _relation(source, connection, where, label)
            for chunk in _stream(connection, sa.select(relation)):
                chunk.columns = [str(c).strip() for c in chunk.columns]
                yield chunk
    except sa.exc.SQLAlchemyError as exc:
        raise data.sql_error(exc, where, label) from None
    finally:
        engine.dispose()


class Reservoir:
    """At most `size` rows of a stream: all of them, or those whose content hashes lowest
    under `key` — seeded, uniform and the same whatever order the rows come in."""

    def __init__(self, size: int, *, key: str) -> None:
        import numpy as np

        self.size = size
        self.key = key.ljust(16)[:16]
        self.kept: pd.DataFrame | None = None
        self.hashes = np.array([], dtype=np.uint64)
        self.full = False  # whether a row was ever left out

    def add(self, chunk: pd.DataFrame) -> None:
        import numpy as np
        import pandas as pd

        hashed = pd.util.hash_pandas_object(_canonical(chunk), index=False, hash_key=self.key)
        merged = chunk if self.kept is None else pd.concat([self.kept, chunk], ignore_index=True)
        hashes = np.concatenate([self.hashes, hashed.to_numpy(dtype=np.uint64)])
        if len(merged) > self.size:
            self.full = True
            order = np.argsort(hashes, kind="stable")[: self.size]
            merged, hashes = merged.iloc[order], hashes[order]
        self.kept, self.hashes = merged.reset_index(drop=True), hashes

    def frame(self) -> pd.DataFrame:
        """The rows kept: every row in the stream's order, or the sample in the order of
        their hashes (empty before any chunk)."""
        import numpy as np
        import pandas as pd

        if self.kept is None:
            return pd.DataFrame()
        if not self.full:
            return self.kept
        order = np.argsort(self.hashes, kind="stable")
        return self.kept.iloc[order].reset_index(drop=True)
