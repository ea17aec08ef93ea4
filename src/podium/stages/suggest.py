"""`podium suggest`: a starting Great Expectations suite written from the current data.

The suggested suite holds for today's training and evaluation data: every column
exists with its type, is non-null (or mostly so), numbers stay in their observed range
widened by a margin (and `mostly`: one odd value in a thousand does not fail a month's
run), low-cardinality text stays in its observed categories, identifiers stay unique,
and the row count stays within a band. Columns in data.exclude (identifiers) get no
range or category expectations. It is a start: the user reviews it (widening
ranges to what the domain allows), commits it and points `data.expectations` at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium import data, results, suggestions
from podium.config import Config
from podium.engine import on_spark
from podium.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Collection

    import pandas as pd


@dataclass
class SuggestResult:
    path: Path
    expectations: int
    columns: int
    configured: bool  # data.expectations already points at this file


def suggest(*, config: Config, output: Path | None = None, force: bool = False) -> SuggestResult:
    """Profile data.train and data.eval and write a GX 1.x suite; never overwrite silently."""
    from podium import expectations

    spec = config.data
    target = output or (
        config.resolve(spec.expectations)
        if spec.expectations
        else config.root / "expectations" / f"{config.model.name}.json"
    )
    if target.exists() and not force:
        raise InputError(
            f"{target}: already exists; pass --force to replace it or --output PATH for a new file"
        )
    if on_spark(config):  # issue 14: profiled with Spark aggregates, nothing collected
        from podium.engine import spark_suggest
        from podium.engine.spark_engine import ENGINE

        spark_train, spark_eval = ENGINE.read(config)
        items = spark_suggest.rules(
            [spark_train, spark_eval],
            target=spec.target,
            task=config.model.task,
            exclude=spec.exclude,
        )
        sources = f"{spark_train.path} and {spark_eval.path}"
        width = len(spark_train.columns)
    else:
        train = data.read_table(config.resolve(spec.train), label="data.train")
        evaluation = data.read_table(config.resolve(spec.eval), label="data.eval")
        items = rules(
            [train.frame, evaluation.frame],
            target=spec.target,
            task=config.model.task,
            exclude=spec.exclude,
        )
        sources = f"{train.path} and {evaluation.path}"
        width = len(train.frame.columns)
    text = expectations.render_suite(
        config.model.name,
        items,
        notes=f"Suggested by `podium suggest` from {sources}. Review it (widen ranges to "
        "what the domain allows), then commit it.",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(target.parent, target.name, text)
    configured = bool(spec.expectations) and config.resolve(spec.expectations or "") == target
    return SuggestResult(target, len(items), width, configured)


def rules(
    frames: list[pd.DataFrame], *, target: str, task: str, exclude: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Expectations (GX `type` + `kwargs`) that every frame in `frames` meets today;
    excluded columns (identifiers) get no ranges or value sets."""
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    stats = {c: _stats([f[c] for f in frames if c in f.columns]) for c in columns}
    return suggestions.rules(
        [len(f) for f in frames], stats, target=target, task=task, exclude=exclude
    )


def _stats(parts: list[pd.Series]) -> suggestions.ColumnStats:
    """A column's measures over the pandas frames that have it."""
    import pandas as pd

    values = pd.concat([p.dropna() for p in parts], ignore_index=True)
    present = not values.empty
    return suggestions.ColumnStats(
        family=suggestions.family_of({suggestions.dtype_family(p.dtype) for p in parts}),
        dtypes={str(p.dtype) for p in parts},
        non_null=min(float(p.notna().mean()) for p in parts),
        present=len(values),
        low=values.min() if present else None,
        high=values.max() if present else None,
        distinct=lambda limit: [_plain(v) for v in values.unique()][:limit],
        unique=lambda: values.nunique() == len(values),
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
