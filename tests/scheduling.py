"""The order tests start in, so that two xdist workers finish together.

`python -m pytest` runs the suite on pytest-xdist workers (`-n auto --dist loadgroup`,
pyproject.toml). Each test is its own unit of work, handed to whichever worker is free, in
collection order — so a test that takes minutes, collected last, would run alone at the
end while the other worker idles. The slow tests (act runs, Spark, real `mlflow server`,
subprocess races) are therefore collected first, longest first, and the hundreds of quick
ones fill in around them. The modules in SAME_WORKER run whole on one worker, because their
tests share an expensive module-scoped fixture (tests/engine/test_spark.py: one Spark session).
That grouping is done here, by the scheduler below: pytest-xdist's own `xdist_group` marks
have no effect under pytest 9 (xdist 3.8 renames node ids through a field pytest 9 no longer
reads), so a marked module would be split and build its fixture on both workers.

Only the order changes: every test runs, on workers or in one process (`-n 0`).
Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

# An xdist worker runs as `python -c ...` (execnet): its __main__ has neither __spec__ nor
# __file__, which pyspark.sql.connect (imported by Great Expectations when pyspark is there)
# takes for a doctest run, and answers with sys.exit(0) when grpc is missing. Name it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _main = sys.modules["__main__"]
    if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
        _main.__file__ = "<pytest-xdist worker>"

# Node-id prefixes, slowest first (measured with --durations on a 2-core machine): the Spark
# proof's module (~190 s for the 20M-row proof alone), the other Spark modules (one unit,
# below), the act registry-branch chain (~135 s, one test), the act two-models chain
# (~75 s), the other act tests (~20-40 s each), then the tests that start many
# interpreters or a server.
FIRST = (
    "tests/engine/test_spark.py",
    "tests/engine/test_spark_",
    "tests/engine/test_contract.py",
    "tests/e2e/test_act_branch.py",
    "tests/e2e/test_act.py::test_two_models_push_dispatch_rollback",
    "tests/e2e/",
)


# Tests that run together on one worker, as one unit: a Spark module's tests share its
# module-scoped session, and the engine tests' modules share one JVM, launched with the
# small tables' JIT (tests/engine/conftest.py), so they are one unit, beside the proof's
# module, whose JVM keeps the default JIT. Split over both workers, each would start its
# own JVM and warm its JIT up.
SAME_WORKER = {
    "tests/engine/test_spark.py": "spark proof",
    "tests/engine/test_spark_checks.py": "spark",
    "tests/engine/test_spark_evaluate.py": "spark",
    "tests/engine/test_spark_expectations.py": "spark",
    "tests/engine/test_spark_monitor.py": "spark",
    "tests/engine/test_spark_slices.py": "spark",
    "tests/engine/test_spark_suggest.py": "spark",
    "tests/engine/test_contract.py": "spark",  # its answers fixture: all three engines
}


def _rank(item: pytest.Item) -> int:
    for rank, prefix in enumerate(FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    if item.get_closest_marker("e2e") or item.get_closest_marker("server"):
        return len(FIRST)
    if item.get_closest_marker("spark"):
        return len(FIRST)
    return len(FIRST) + 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: within a rank, collection order (module fixtures stay shared)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` with the groups of SAME_WORKER: every other test is its own unit.

    Units are handed out in collection order (the order above): xdist's own reordering,
    largest unit first, is turned off — it put every multi-test Spark module before the
    act tests whatever their cost.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class Grouped(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return SAME_WORKER.get(nodeid.split("::", 1)[0], nodeid)

    return Grouped(config, log)
