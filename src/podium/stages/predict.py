"""`podium predict`: batch deployment — a table scored by the chosen version, written out.

The version: `--version N`, or what is live in `--environment NAME`, else what is live in
the last `deploy:` environment, else `@champion`. The table (`--data`): a csv/parquet file,
or a SQL or Spark source written as data.train's mapping, inline YAML
(`{engine: sql, uri: ..., table: ...}`). The schema is checked first (every feature the
version was trained on, normalised as at training time; a missing column is exit 2
naming it); then every row is scored and written — predictions, and for classifiers one
probability column per class — beside the id column the user names. Where it runs: a file
in pandas; a SQL source streamed in chunks (bounded memory, each scored chunk appended);
a Spark source inside Spark (`engine.spark_predict`, never collected, written by Spark).
The output appears only when every row was scored (written beside it, then moved).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import data
from podium.config import Config, TableSource
from podium.errors import ConfigError, DataError, InputError
from podium.registry import Registry, Version, read_feature_types
from podium.stages import open_registry

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd


@dataclass(frozen=True)
class Predicted:
    version: str
    chosen_by: str  # "--version", "@staging", "@champion"
    rows: int
    path: Path | str
    columns: list[str]
    engine: str = "pandas"  # where the rows were scored: pandas, sql (streamed), spark


def predict(
    *,
    config: Config,
    source: str,
    out: str,
    version: str | None = None,
    environment: str | None = None,
    id_column: str | None = None,
) -> Predicted:
    """Score `source` with the chosen version; write `out` (csv/parquet)."""
    if not out.lower().endswith((".csv", ".parquet")):
        raise ConfigError(f"--out {out}: write a .csv or .parquet file")
    if version is not None and environment is not None:
        raise ConfigError("give --version or --environment, not both")
    table_source = _source(config, source)
    registry = open_registry(config)
    chosen, by = _choose(config, registry, version, environment)
    types = read_feature_types(chosen.tags)
    if not types:
        raise InputError(
            f"v{chosen.version} records no feature list (tag podium.features); retrain it "
            "with this podium version"
        )
    task = config.model.task
    if isinstance(table_source, TableSource) and table_source.engine == "spark":
        from podium.engine import spark_predict

        remote = "://" in out and not out.startswith("file://")
        target = out if remote else str(Path(out.removeprefix("file://")).expanduser().resolve())
        if not remote:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        model = registry.load_model(chosen)
        rows, columns = spark_predict.predict(
            config, table_source, model=model, types=types, id_column=id_column, out=target
        )
        return Predicted(chosen.version, by, rows, target, columns, "spark")
    target_path = Path(out).expanduser().resolve()
    if isinstance(table_source, TableSource):  # SQL: streamed, checked before a row is read
        from podium.engine import sql

        where, columns = sql.source_columns(table_source, label="--data")
        data.check_columns(where, columns, types, id_column)
        model = registry.load_model(chosen)
        batches = (
            _score(model, chunk, where, types, task, id_column)
            for chunk in sql.source_chunks(table_source, label="--data")
            if not chunk.empty
        )
        rows, written = _write(batches, target_path)
        return Predicted(chosen.version, by, rows, target_path, written, "sql")
    table = data.read_table(table_source, label="--data")
    data.check_columns(str(table_source), list(map(str, table.frame.columns)), types, id_column)
    features = data.features_like(table, types, label="--data")  # the schema, checked first
    model = registry.load_model(chosen)
    ids = table.frame[id_column] if id_column is not None else None
    from podium.scoring import prediction_frame

    rows, written = _write([prediction_frame(model, features, task, ids, id_column)], target_path)
    return Predicted(chosen.version, by, rows, target_path, written)


def _source(config: Config, text: str) -> Path | TableSource:
    """`--data`: a file path, or an inline YAML mapping as data.train accepts."""
    if not text.lstrip().startswith("{"):
        return Path(text).expanduser().resolve()
    import yaml
    from pydantic import ValidationError

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise ConfigError(
            f"--data: not a YAML mapping ({problem}); write e.g. "
            "'{engine: sql, uri: sqlite:///data.db, table: customers}'"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError("--data: write a file path or a mapping like data.train's")
    try:
        source = TableSource.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        key = f"--data {where}" if where else "--data"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{key}: {message}; keys as data.train's (see the README)") from None
    return config.resolve(source)


def _score(
    model: Any,
    chunk: pd.DataFrame,
    where: str,
    types: dict[str, str],
    task: str,
    id_column: str | None,
) -> pd.DataFrame:
    """One streamed chunk's rows, its features normalised as at training time."""
    from podium.scoring import prediction_frame

    table = data.Table(path=where, frame=chunk, sha256="0" * 64)
    features = data.features_like(table, types, label="--data")
    ids = chunk[id_column] if id_column is not None else None
    return prediction_frame(model, features, task, ids, id_column)


def _write(batches: Iterable[pd.DataFrame], target: Path) -> tuple[int, list[str]]:
    """Append each batch to a hidden file beside `target`, moved onto it when all are in:
    (rows, columns). Memory: one batch."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.podium-{uuid.uuid4().hex[:8]}")
    parquet = target.suffix.lower() == ".parquet"
    rows, writer, schema = 0, None, None
    columns: list[str] = []
    try:
        with staging.open("wb") as handle:
            for batch in batches:
                if parquet:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    try:
                        arrow = pa.Table.from_pandas(batch, schema=schema, preserve_index=False)
                    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:  # a later chunk's types
                        problem = str(exc).splitlines()[0]
                        raise DataError(
                            f"--data: rows {rows + 1}-{rows + len(batch)} do not fit the "
                            f"types of the first ({problem}); write --out as .csv or cast "
                            "the columns in the query"
                        ) from None
                    if writer is None:
                        schema = arrow.schema
                        writer = pq.ParquetWriter(handle, schema)
                    writer.write_table(arrow)
                else:
                    batch.to_csv(handle, header=not columns, index=False)
                columns = columns or [str(c) for c in batch.columns]
                rows += len(batch)
            if writer is not None:
                writer.close()
        if not columns:
            raise DataError(f"--data: returned no rows; nothing to write to {target}")
        staging.replace(target)
    finally:
        staging.unlink(missing_ok=True)
    return rows, columns


def _choose(
    config: Config, registry: Registry, version: str | None, environment: str | None
) -> tuple[Version, str]:
    if version is not None:
        return registry.get_version(version.removeprefix("v")), "--version"
    names = [t.environment for t in config.deploy]
    if environment is not None:
        if environment not in names:
            from podium.errors import closest

            hint = closest(environment, names)
            did_you = f" (did you mean '{hint}'?)" if hint else ""
            raise ConfigError(
                f"--environment '{environment}' is not in deploy: of {config.path}{did_you}"
            )
        live = registry.alias(environment)
        if live is None:
            raise InputError(f"nothing is live in {environment} yet; run podium deploy first")
        return live, f"@{environment}"
    if names:
        live = registry.alias(names[-1])
        if live is not None:
            return live, f"@{names[-1]}"
    champion = registry.champion()
    if champion is None:
        raise InputError(
            f"model '{config.model.name}' has no @champion yet; pass --version N or run "
            "`podium run` first"
        )
    return champion, "@champion"
