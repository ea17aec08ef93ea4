"""Where podium's work on a table runs: in pandas on the runner, in Spark, or in a database.

An engine implements `podium.engine.base.Engine` (read, prepare, labels, expectations,
drift, slices, training rows); `ENGINES` maps a name to the module holding it, and
`pick(config)` is the one place that chooses: an `engine: spark` source in data.train or
data.eval runs in Spark (the table never has to fit in the driver), a SQL source with
`in_database: true` by queries in its database, everything else in pandas. Stages ask
`pick` and call the interface; engine modules never import a stage. See docs/engines.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.config import Config
    from podium.engine.base import Engine

# name -> the module whose `ENGINE` implements it (imported when picked: Spark stays unloaded)
ENGINES = {
    "pandas": "podium.engine.pandas_engine",
    "spark": "podium.engine.spark_engine",
    "sql": "podium.engine.sql_engine",
}


def engine_name(config: Config) -> str:
    """The engine a project's data runs on: spark, sql (in-database) or pandas."""
    sources = (config.data.train, config.data.eval)
    if any(getattr(source, "engine", None) == "spark" for source in sources):
        return "spark"
    if any(getattr(source, "in_database", False) for source in sources):
        return "sql"
    return "pandas"


def pick(config: Config) -> Engine[Any, Any]:
    """The engine the project's data runs on (`ENGINES[engine_name(config)]`)."""
    engine: Engine[Any, Any] = importlib.import_module(ENGINES[engine_name(config)]).ENGINE
    return engine


def on_spark(config: Config) -> bool:
    """Whether the project's train or eval data is an `engine: spark` source."""
    return engine_name(config) == "spark"
