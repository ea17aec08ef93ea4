"""Where podium's work on a table runs: in pandas on the runner, or inside an engine.

A project whose `data.train` or `data.eval` is an `engine: spark` source runs validation,
the drift profile, the fingerprint and evaluation inside Spark (`podium.engine.spark`):
the table never has to fit in the driver. A SQL source with `in_database: true` is
checked, validated and profiled in its database (`podium.engine.sql`). Files and other
SQL sources are read into pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podium.config import Config


def on_spark(config: Config) -> bool:
    """Whether the project's train or eval data is an `engine: spark` source."""
    sources = (config.data.train, config.data.eval)
    return any(getattr(source, "engine", None) == "spark" for source in sources)


def in_database(config: Config) -> bool:
    """Whether the project's train or eval data is a SQL source with `in_database: true`."""
    sources = (config.data.train, config.data.eval)
    return any(getattr(source, "in_database", False) for source in sources)
