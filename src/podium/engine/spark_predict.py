"""`podium predict` on an `engine: spark` source: scored inside Spark, written by Spark.

The table is never collected: its feature columns are checked against the version's
(names first, before any job), normalised in the engine as `data.features_like` does
(`spark.normalised`), and scored by `mapInPandas` with the model broadcast once and loaded
once per Python worker; each batch's rows are `scoring.prediction_frame`'s, the same
columns the pandas and SQL paths write. The output is written by Spark (a folder of part
files, as Spark writes csv/parquet) next to its final place and moved there on success.
One row is collected first and scored on the driver: it fixes the output's schema and
shows a model that cannot score the data before the long job starts.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.engine import spark
from podium.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from podium.config import Config, TableSource

_LOADED: dict[str, Any] = {}  # per Python worker: one key per shipped model -> model


def predict(
    config: Config,
    source: TableSource,
    *,
    model: Any,
    types: dict[str, str],
    id_column: str | None,
    out: str,
    label: str = "--data",
) -> tuple[int, list[str]]:
    """Score `source` in Spark and write `out` (.csv or .parquet) with Spark: (rows, columns)."""
    import cloudpickle
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    from podium import data
    from podium.scoring import prediction_frame

    session = spark.session(config.spark)
    where = data.spark_where(source)
    try:
        frame = data.spark_frame(source, session)
        frame = frame.toDF(*[str(c).strip() for c in frame.columns])
    except PySparkException as exc:
        raise DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}") from None
    columns = list(frame.columns)
    data.check_columns(where, columns, types, id_column, label=label)
    kinds = {c: str(frame.schema[c].dataType.simpleString()) for c in types}
    texts = [c for c in types if types[c] == "numeric" and kinds[c] == "string"]
    read_as = spark.text_as_numbers(frame, texts, where=where, label=label)
    selected = [
        (
            read_as[c] if c in read_as else spark.normalised(F.col(f"`{c}`"), kinds[c], types[c])
        ).alias(c)
        for c in types
    ]
    ids = [F.col(f"`{id_column}`").alias("__podium_id")] if id_column is not None else []
    prepared = frame.select(*ids, *selected)
    names = list(types)
    task = config.model.task

    def rows_of(batch: pd.DataFrame, scorer: Any) -> pd.DataFrame:
        from podium.engine.spark_evaluate import pandas_features

        features = pandas_features(batch, names, types)
        kept = batch["__podium_id"] if id_column is not None else None
        return prediction_frame(scorer, features, task, kept, id_column)

    try:
        with spark.quiet():
            probe = prepared.limit(1).toPandas()  # one row: the output's schema
    except PySparkException as exc:
        raise DataError(f"{where}: {_first_line(exc)} ({label}); fix {label}") from None
    if probe.empty:
        raise DataError(f"{where}: returned no rows ({label}); check the table or query")
    try:
        shown = rows_of(probe, model)
    except DataError:
        raise
    except Exception as exc:  # the model cannot score these rows: say so before the job
        raise DataError(
            f"{where}: the version cannot score its first row ({_first_line(exc)}; {label}); "
            "check the data against the version's features"
        ) from None
    scored_cols = [c for c in shown.columns if c != id_column]
    with spark.quiet():
        tail = session.createDataFrame(shown[scored_cols]).schema
    schema = StructType(
        ([frame.schema[id_column]] if id_column is not None else []) + list(tail.fields)
    )
    shipped = session.sparkContext.broadcast(cloudpickle.dumps(model))
    key = uuid.uuid4().hex
    order = [f.name for f in schema.fields]

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        if key not in _LOADED:
            _LOADED[key] = cloudpickle.loads(shipped.value)
        for batch in batches:
            if batch.empty:
                continue
            yield rows_of(batch.reset_index(drop=True), _LOADED[key])[order]

    scored = prepared.mapInPandas(score, schema)
    return _write(session, scored, out, where, label), order


def _write(session: Any, scored: Any, out: str, where: str, label: str) -> int:
    """Write with Spark to a hidden sibling, then move it to `out` (local paths); count it."""
    from pyspark.errors import PySparkException

    fmt = "csv" if out.lower().endswith(".csv") else "parquet"
    local = "://" not in out or out.startswith("file://")
    final = Path(out.removeprefix("file://"))
    staging = str(final.with_name(f".{final.name}.podium-{uuid.uuid4().hex[:8]}")) if local else out
    writer = scored.write.mode("overwrite").format(fmt)
    if fmt == "csv":
        writer = writer.option("header", "true")
    try:
        writer.save(staging)
        reader = session.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", "true")
        rows = int(reader.load(staging).count())
    except PySparkException as exc:
        if local:
            shutil.rmtree(staging, ignore_errors=True)
        raise DataError(
            f"{where}: scoring in Spark failed: {_first_line(exc)} ({label}); fix the data "
            "or the Spark workers' Python environment"
        ) from None
    if local:
        if final.is_dir():
            shutil.rmtree(final)
        elif final.exists():
            final.unlink()
        Path(staging).rename(final)
    return rows


def _first_line(exc: BaseException) -> str:
    """Spark's message in one line; for a failure in a Python worker, the Python error
    its traceback ends with (the first line only says where it was thrown)."""
    import re

    text = str(exc).strip()
    raised = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception)\b.*)$", text, re.MULTILINE)
    if "Python worker" in text and raised:
        return " ".join(raised[-1].split())[:300]
    return " ".join(text.splitlines()[0].split())[:300] if text else type(exc).__name__
