"""The MLflow adapter: the promotion lock, compare-and-set, and failing services.

Locks run against a real sqlite registry; service failures against real sockets on
loopback (a closed port, and a small HTTP server that answers badly on purpose).
"""

from __future__ import annotations

import http.server
import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.errors import CheckFailed, ServiceError
from podium.registry import LOCK_STALE_SECONDS, LOCK_SUFFIX, break_token
from tests.conftest import Project, seed_store
from tests.mlflow_server import free_port


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> str:
    """One sqlite store for the lock tests, seeded from the migrated template."""
    db = tmp_path_factory.mktemp("locks") / "mlflow.db"
    seed_store(db, store_template)
    return f"sqlite:///{db}"


@pytest.fixture
def registry_client(sqlite_uri: str, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Registry clients (as separate processes would hold) on a model named after the test."""
    from podium.registry import Registry

    name = request.node.name.removeprefix("test_")[:60]
    return lambda: Registry(sqlite_uri, name)


def _lock_models(registry: Any) -> dict[str, dict[str, str]]:
    found = registry.client.search_registered_models(f"name LIKE '{registry.name}{LOCK_SUFFIX}%'")
    return {m.name: dict(m.tags) for m in found}


def _plant_lock(registry: Any, holder: str, age: float) -> float:
    """A lock as another process would have left it, taken `age` seconds ago."""
    since = time.time() - age
    registry.client.create_registered_model(
        registry.name + LOCK_SUFFIX,
        tags={"podium.lock.holder": holder, "podium.lock.since": str(since)},
    )
    return float(str(since))


# -- the promotion lock ------------------------------------------------------------------


def test_lock_is_exclusive_and_released(registry_client: Callable[[], Any]) -> None:
    registry, other = registry_client(), registry_client()
    with registry.lock("first"):
        assert _lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "first"
        started = time.monotonic()
        with (
            pytest.raises(ServiceError, match=r"exclusive_and_released\.podium-lock.*over 0s"),
            other.lock("second", timeout=0.3),
        ):
            pytest.fail("entered a held lock")
        assert time.monotonic() - started < 5
    assert _lock_models(registry) == {}
    with other.lock("second", timeout=1):
        pass


def test_lock_is_released_only_by_its_holder(registry_client: Callable[[], Any]) -> None:
    registry = registry_client()
    lock_name = registry.name + LOCK_SUFFIX
    with registry.lock("slow"):
        # Meanwhile a breaker judged "slow" dead and "fast" took the lock.
        registry.client.delete_registered_model(lock_name)
        _plant_lock(registry, "fast", age=0)
    assert _lock_models(registry)[lock_name]["podium.lock.holder"] == "fast"


def test_a_stale_lock_is_broken_and_leaves_nothing_behind(
    registry_client: Callable[[], Any],
) -> None:
    registry = registry_client()
    _plant_lock(registry, "crashed", age=LOCK_STALE_SECONDS + 5)
    with registry.lock("me", timeout=10):
        held = _lock_models(registry)
        assert list(held) == [registry.name + LOCK_SUFFIX]  # no breaker token left over
        assert held[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "me"
    assert _lock_models(registry) == {}


def test_a_fresh_lock_is_never_broken(registry_client: Callable[[], Any]) -> None:
    registry = registry_client()
    _plant_lock(registry, "alive", age=LOCK_STALE_SECONDS - 60)
    with (
        pytest.raises(ServiceError, match="if no promotion is running, delete it"),
        registry.lock("me", timeout=0.5),
    ):
        pytest.fail("broke a live lock")
    assert _lock_models(registry)[registry.name + LOCK_SUFFIX]["podium.lock.holder"] == "alive"


def test_one_breaker_per_stale_lock_and_abandoned_breakers_expire(
    registry_client: Callable[[], Any],
) -> None:
    registry = registry_client()
    lock_name = registry.name + LOCK_SUFFIX
    since = _plant_lock(registry, "crashed", age=LOCK_STALE_SECONDS + 5)
    token = break_token(lock_name, "crashed", since)
    registry.client.create_registered_model(token)  # another waiter is breaking it right now

    with pytest.raises(ServiceError), registry.lock("me", timeout=0.5):
        pytest.fail("two breakers for one stale lock")
    assert _lock_models(registry)[lock_name]["podium.lock.holder"] == "crashed"

    # That breaker died mid-break: once its token is stale too, the next waiter proceeds.
    db = registry.tracking_uri.removeprefix("sqlite:///")
    with sqlite3.connect(db) as con:
        old = int((time.time() - LOCK_STALE_SECONDS - 5) * 1000)
        con.execute("UPDATE registered_models SET creation_time = ? WHERE name = ?", (old, token))
    with registry.lock("me", timeout=10):
        assert _lock_models(registry)[lock_name]["podium.lock.holder"] == "me"
    assert _lock_models(registry) == {}


def test_a_lock_whose_answer_was_lost_is_ours(registry_client: Callable[[], Any]) -> None:
    # Our create went through but the answer was lost, the client retried and got
    # "already exists": the lock is ours, not someone else's to wait for.
    registry = registry_client()
    _plant_lock(registry, "me", age=1)
    started = time.monotonic()
    with registry.lock("me", timeout=0.5):
        pass
    assert time.monotonic() - started < 0.5
    assert _lock_models(registry) == {}


def test_threads_contending_on_sqlite_never_overlap(registry_client: Callable[[], Any]) -> None:
    registries = [registry_client() for _ in range(4)]
    inside: list[int] = []
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for turn in range(3):
                with registries[index].lock(f"thread-{index}-{turn}", timeout=60):
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
    assert _lock_models(registries[0]) == {}


def test_compare_and_set_refuses_a_stale_expectation(
    project: Project, registry_of: Callable[..., Any]
) -> None:
    assert project.cli("train").code == 0
    assert project.cli("train").code == 0
    registry = registry_of(project)
    move = dict(action="promote", actor="ci", reason="gates passed", commit=None, run_url=None)
    registry.move_champion(version="1", expected=None, **move)

    with pytest.raises(CheckFailed, match=r"@champion of 'churn' is now v1, not unset"):
        registry.move_champion(version="2", expected=None, **move)
    assert registry.champion().version == "1"
    assert [e.version for e in registry.history()] == ["1"]
    assert _lock_models(registry) == {}

    event = registry.move_champion(version="2", expected="1", **move)
    assert (event.seq, event.previous, registry.champion().version) == (2, "1", "2")


# -- failing tracking servers ---------------------------------------------------------------


class _BadMlflow(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _BadHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _BadHandler(http.server.BaseHTTPRequestHandler):
    server: _BadMlflow

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(f"{self.command} {self.path}")
        if self.server.mode == "hang":
            time.sleep(3)
            return
        status, body = {
            "500": (500, b"<html><h1>Internal Server Error</h1></html>"),
            "garbage": (200, b"<html><body>Please log in</body></html>"),
            "401": (401, b'{"error_code": "UNAUTHENTICATED", "message": "bad credentials"}'),
        }[self.server.mode]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bad_mlflow() -> Iterator[Callable[[str], _BadMlflow]]:
    started: list[_BadMlflow] = []

    def start(mode: str) -> _BadMlflow:
        server = _BadMlflow(mode)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _fails_in_one_line(result: Any, url: str) -> str:
    assert result.code == 3, (result.code, result.out, result.err)
    message = result.err.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert message.startswith(f"podium: MLflow at {url}: ")
    return message


def test_unreachable_server_exits_3_after_bounded_retries(
    make_project: Callable[..., Project], record_property: Callable[[str, object], None]
) -> None:
    project = make_project(seeded=False)  # no local store, to see that none is created
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = project.cli("train", env={"MLFLOW_TRACKING_URI": url})
    elapsed = time.monotonic() - started
    record_property("seconds", round(elapsed, 1))
    message = _fails_in_one_line(result, url)
    assert "after 3 retries (connection refused)" in message
    assert "check MLFLOW_TRACKING_URI" in message
    # Retried with backoff (≈1+2+4 s, jitter ≤ 1 s each), then gave up.
    assert 3 < elapsed < 30, elapsed
    # Nothing half-done: no stage result, no local registry created instead.
    assert not (project.state / "train.json").exists()
    assert not (project.state / "mlflow.db").exists()


def test_server_answering_500_exits_3_after_retries(
    project: Project, bad_mlflow: Callable[[str], _BadMlflow]
) -> None:
    server = bad_mlflow("500")
    started = time.monotonic()
    result = project.cli("history", env={"MLFLOW_TRACKING_URI": server.url})
    elapsed = time.monotonic() - started
    message = _fails_in_one_line(result, server.url)
    assert "it kept answering with server errors" in message
    assert len(server.requests) == 1 + 3, server.requests  # the call and its 3 retries
    assert elapsed < 30, elapsed


def test_server_answering_garbage_exits_3_without_pointless_retries(
    project: Project, bad_mlflow: Callable[[str], _BadMlflow]
) -> None:
    server = bad_mlflow("garbage")
    result = project.cli("train", env={"MLFLOW_TRACKING_URI": server.url})
    message = _fails_in_one_line(result, server.url)
    assert "not MLflow's REST API" in message
    assert len(server.requests) == 1
    assert not (project.state / "train.json").exists()


def test_server_that_never_answers_times_out(
    project: Project, bad_mlflow: Callable[[str], _BadMlflow]
) -> None:
    server = bad_mlflow("hang")
    env = {
        "MLFLOW_TRACKING_URI": server.url,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "1",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    }
    started = time.monotonic()
    result = project.cli("history", env=env)
    message = _fails_in_one_line(result, server.url)
    assert "after 1 retries (no answer within MLFLOW_HTTP_REQUEST_TIMEOUT)" in message
    assert len(server.requests) == 2
    assert time.monotonic() - started < 15


def test_refused_credentials_are_bad_input_naming_the_env_vars(
    project: Project, bad_mlflow: Callable[[str], _BadMlflow]
) -> None:
    server = bad_mlflow("401")
    result = project.cli("history", env={"MLFLOW_TRACKING_URI": server.url})
    assert result.code == 2, result.err
    message = result.err.strip()
    assert len(message.splitlines()) == 1
    assert server.url in message and "MLFLOW_TRACKING_TOKEN" in message
