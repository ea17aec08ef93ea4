"""One local Spark session per test module (a module may define its own `spark`).

The session's JVM outlives the session: pyspark keeps one JVM per process and starts a
new SparkContext in it for the next module, so on an xdist worker the Spark modules after
the first pay no JVM start and find its JIT warm. `local_spark` starts a new JVM only when
the worker's JVM was launched with other Java options (or not by it), and waits for the
old one to exit, so a worker runs one JVM at a time and its CPU is counted where it ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# The JIT for the engine tests' small tables: C1 only. Their time is Spark planning,
# generating and compiling code for hundreds of tiny jobs (GX on Spark runs one per
# expectation), and C2 recompiling that code costs more CPU than it saves
# (tests/engine/test_spark_expectations.py: 149 → 100 s of CPU, bench/README.md). The 20M-row
# proof (test_spark.py) computes for minutes and keeps the default JIT: C1 alone doubles it.
# The serial collector: a heap of small tables needs no concurrent GC threads.
SMALL_TABLES_JAVA = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# Spark's settings for the same tables: expressions interpreted instead of compiled to Java
# (Janino's compiling is most of a tiny job's CPU), and no adaptive re-planning (each query
# is one or two tasks). Both are how Spark runs, not what it computes: Spark's own test
# suites run every expression both ways. The partitions stay two (`local[2]`), so the merging
# of partial results is still exercised. The spark group's modules, `-n 0`, back to back:
# 179 → 142 s of CPU, JVM included (bench/README.md, seventh session).
SMALL_TABLES_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}

_launched_with: dict[int, str] = {}  # id of the gateway this module launched -> its Java options


def local_spark(
    tmp_path_factory: pytest.TempPathFactory, *, java_options: str, **conf: str
) -> Iterator[Any]:
    """A `local[2]` session (Spark UI off, 2 shuffle partitions, `conf` added), stopped after."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    if gateway is not None and _launched_with.get(id(gateway)) != java_options:
        _stop_jvm()
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("podium-engine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
    )
    if java_options:  # read when the JVM is launched (spark-submit's driver options)
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    assert SparkContext._gateway is not None
    _launched_with.setdefault(id(SparkContext._gateway), java_options)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _stop_jvm() -> None:
    """End this process's Spark JVM, so that the next session launches one (pyspark has no API)."""
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    _launched_with.pop(id(gateway), None)
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None and proc.stdin is not None:
        proc.stdin.close()  # the JVM exits when its stdin closes (pyspark's launch_gateway)
        proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from local_spark(
        tmp_path_factory,
        java_options=SMALL_TABLES_JAVA,
        **SMALL_TABLES_CONF,
        **{"spark.driver.maxResultSize": "4m"},
    )
