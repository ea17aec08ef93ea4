"""The promotion lock: exclusive, released only by its holder, stale locks broken once.

Against a real sqlite registry, shared by the tests (each on its own model), with the
waits between attempts set to zero (conftest).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from podium.errors import ServiceError
from podium.registry import LOCK_STALE_SECONDS, LOCK_SUFFIX, break_token, lock
from tests.registry.conftest import lock_models


def _plant_lock(registry: Any, holder: str, age: float) -> float:
    """A lock as another process would have left it, taken `age` seconds ago."""
    since = time.time() - age
    registry.client.create_registered_model(
        registry.name + LOCK_SUFFIX,
        tags={"podium.lock.holder": holder, "podium.lock.since": str(since)},
    )
    return float(str(since))


def test_lock_is_exclusive_and_released(registry_client: Callable[[], Any]) -> None:
    registry, other = registry_client(), registry_client()
    with lock.hold(registry, "first"):
        assert lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "first"
        started = time.monotonic()
        with (
            pytest.raises(ServiceError, match=r"exclusive_and_released\.podium-lock.*over 0s"),
            lock.hold(other, "second", timeout=0.3),
        ):
            pytest.fail("entered a held lock")
        assert time.monotonic() - started < 5
    assert lock_models(registry) == {}
    with lock.hold(other, "second", timeout=1):
        pass


def test_lock_is_released_only_by_its_holder(registry_client: Callable[[], Any]) -> None:
    registry = registry_client()
    lock_name = registry.name + LOCK_SUFFIX
    with lock.hold(registry, "slow"):
        # Meanwhile a breaker judged "slow" dead and "fast" took the lock.
        registry.client.delete_registered_model(lock_name)
        _plant_lock(registry, "fast", age=0)
    assert lock_models(registry)[lock_name]["podium.lock.holder"] == "fast"


def test_a_stale_lock_is_broken_and_leaves_nothing_behind(
    registry_client: Callable[[], Any],
) -> None:
    registry = registry_client()
    _plant_lock(registry, "crashed", age=LOCK_STALE_SECONDS + 5)
    with lock.hold(registry, "me", timeout=10):
        held = lock_models(registry)
        assert list(held) == [registry.name + LOCK_SUFFIX]  # no breaker token left over
        assert held[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "me"
    assert lock_models(registry) == {}


def test_a_fresh_lock_is_never_broken(registry_client: Callable[[], Any]) -> None:
    registry = registry_client()
    _plant_lock(registry, "alive", age=LOCK_STALE_SECONDS - 60)
    with (
        pytest.raises(ServiceError, match="if no promotion is running, delete it"),
        lock.hold(registry, "me", timeout=0.5),
    ):
        pytest.fail("broke a live lock")
    assert lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "alive"


def test_one_breaker_per_stale_lock_and_abandoned_breakers_expire(
    registry_client: Callable[[], Any],
) -> None:
    registry = registry_client()
    lock_name = registry.name + LOCK_SUFFIX
    since = _plant_lock(registry, "crashed", age=LOCK_STALE_SECONDS + 5)
    token = break_token(lock_name, "crashed", since)
    registry.client.create_registered_model(token)  # another waiter is breaking it right now

    with pytest.raises(ServiceError), lock.hold(registry, "me", timeout=0.5):
        pytest.fail("two breakers for one stale lock")
    assert lock_models(registry)[lock_name]["podium.lock.holder"] == "crashed"

    # That breaker died mid-break: once its token is stale too, the next waiter proceeds.
    db = registry.tracking_uri.removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        old = int((time.time() - LOCK_STALE_SECONDS - 5) * 1000)
        con.execute("UPDATE registered_models SET creation_time = ? WHERE name = ?", (old, token))
    with lock.hold(registry, "me", timeout=10):
        assert lock_models(registry)[lock_name]["podium.lock.holder"] == "me"
    assert lock_models(registry) == {}


def test_a_lock_whose_answer_was_lost_is_ours(registry_client: Callable[[], Any]) -> None:
    # Our create went through but the answer was lost, the client retried and got
    # "already exists": the lock is ours, not someone else's to wait for.
    registry = registry_client()
    _plant_lock(registry, "me", age=1)
    started = time.monotonic()
    with lock.hold(registry, "me", timeout=0.5):
        pass
    assert time.monotonic() - started < 0.5
    assert lock_models(registry) == {}


def test_threads_contending_on_sqlite_never_overlap(registry_client: Callable[[], Any]) -> None:
    registries = [registry_client() for _ in range(4)]
    inside: list[int] = []
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for turn in range(3):
                with lock.hold(registries[index], f"thread-{index}-{turn}", timeout=60):
                    inside.append(index)
                    assert len(inside) == 1, f"{inside} inside the lock together"
                    began = time.monotonic()
                    time.sleep(0.01)
                    spans.append((began, time.monotonic()))
                    inside.remove(index)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(spans) == 12
    ordered = sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(ordered))
    assert lock_models(registries[0]) == {}


HOLD_AND_SLEEP = """
import sys, time
from podium.registry import Registry, lock
registry = Registry(sys.argv[1], sys.argv[2])
with lock.hold(registry, "victim"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_lease_of_a_killed_holder_on_this_host_is_broken_at_once(
    registry_client: Callable[[], Any],
) -> None:
    import os
    import signal
    import subprocess
    import sys

    registry = registry_client()
    victim = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SLEEP, registry.tracking_uri, registry.name],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert victim.stdout is not None and victim.stdout.readline().strip() == "held"
    held = lock_models(registry)[registry.name + LOCK_SUFFIX]
    assert held["podium.lock.pid"].startswith(f"{victim.pid}:")
    with pytest.raises(ServiceError), lock.hold(registry, "me", timeout=0.5):
        pytest.fail("broke the lease of a live holder")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()

    started = time.monotonic()
    with lock.hold(registry, "me", timeout=30):
        assert lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "me"
    assert time.monotonic() - started < 10  # not the 10-minute lease
    assert lock_models(registry) == {}


def test_a_lease_of_a_holder_elsewhere_is_kept_until_it_expires(
    registry_client: Callable[[], Any],
) -> None:
    registry = registry_client()
    registry.client.create_registered_model(
        registry.name + LOCK_SUFFIX,
        tags={
            "podium.lock.holder": "elsewhere",
            "podium.lock.since": str(time.time()),
            "podium.lock.host": "another-runner|boot|pid:[1]",
            "podium.lock.pid": "999999999:1",  # no such process here: it is not ours to judge
        },
    )
    with pytest.raises(ServiceError), lock.hold(registry, "me", timeout=0.5):
        pytest.fail("broke the lease of another host's holder")
    assert lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "elsewhere"
