"""The order tests start in, so that two xdist workers finish together.

`python -m pytest` runs the suite on pytest-xdist workers (`-n auto --dist loadgroup`,
pyproject.toml). Each test is its own unit of work, handed to whichever worker is free, in
collection order — so a test that takes minutes, collected last, would run alone at the
end while the other worker idles. The slow tests (act runs, Spark, real `mlflow server`,
subprocess races) are therefore collected first, longest first, and the hundreds of quick
ones fill in around them. Tests that must share one worker because they share an expensive
module-scoped fixture say so with `pytest.mark.xdist_group` (tests/engine/test_spark.py: one
Spark session for its three tests).

Only the order changes: every test runs, with or without xdist (`-p no:xdist` or `-n 0`).
Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import pytest

# Node-id prefixes, slowest first (measured with --durations on a 2-core machine): the act
# registry-branch chain (~130 s, one test), the other act tests (~25 s each), the Spark
# proofs, then the tests that start many interpreters or a server.
FIRST = (
    "tests/e2e/test_act_branch.py",
    "tests/e2e/",
    "tests/engine/test_spark.py",
)


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
