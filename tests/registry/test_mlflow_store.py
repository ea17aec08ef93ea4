"""The MLflow adapter against failing tracking servers: one line, the right exit code.

Real sockets on loopback: a closed port, and a small HTTP server that answers badly on
purpose. MLflow's HTTP backoff is set to zero (MLFLOW_HTTP_REQUEST_BACKOFF_*): the
retries still happen and are counted, without sleeping through them; the defaults
podium sets for real runs are asserted in test_env.py.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Project
from tests.mlflow_server import free_port

NO_BACKOFF = {"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}


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
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
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
    result = project.cli("train", env={"MLFLOW_TRACKING_URI": url, **NO_BACKOFF})
    elapsed = time.monotonic() - started
    record_property("seconds", round(elapsed, 1))
    message = _fails_in_one_line(result, url)
    assert "after 3 retries (connection refused)" in message
    assert "check MLFLOW_TRACKING_URI" in message
    # Retried (without backoff here: the real one, ≈0+2+4 s, is test_env's), then gave up.
    assert elapsed < 30, elapsed
    # Nothing half-done: no stage result, no local registry created instead.
    assert not (project.state / "train.json").exists()
    assert not (project.state / "mlflow.db").exists()


def test_server_answering_500_exits_3_after_retries(
    project: Project, bad_mlflow: Callable[[str], _BadMlflow]
) -> None:
    server = bad_mlflow("500")
    started = time.monotonic()
    result = project.cli("history", env={"MLFLOW_TRACKING_URI": server.url, **NO_BACKOFF})
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
        **NO_BACKOFF,
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


ALONE = """\
import json
import numpy as np
import pandas as pd
import mlflow.models.utils
import mlflow.utils.environment
from pathlib import Path
from sklearn.linear_model import LogisticRegression
from podium.registry import Registry

calls = []
for module, name in (
    (mlflow.models.utils, "_validate_serving_input"),
    (mlflow.utils.environment, "warn_dependency_requirement_mismatches"),
):
    original = getattr(module, name)

    def spy(*args, _name=name, _original=original, **kwargs):
        calls.append(_name)
        return _original(*args, **kwargs)

    setattr(module, name, spy)
registry = Registry("sqlite:///{db}", "checked")
experiment = registry.experiment_id("checks", Path("{artifacts}"))
rng = np.random.default_rng(0)
x = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
model = LogisticRegression().fit(x, (x["a"] > 0).astype(int))
_, version = registry.log_candidate(
    experiment_id=experiment, model=model, example=x.head(5), params={{}}, metrics={{}},
    run_tags={{}}, version_tags={{}}, artifacts={{}},
)
restored = mlflow.models.utils._validate_serving_input.__name__
print(json.dumps({{"calls": calls, "restored": restored, "version": version.version}}))
"""


def test_log_candidate_writes_what_log_model_writes_without_its_silent_self_checks(
    tmp_path: Any, store_template: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model files are those of a plain `mlflow.sklearn.log_model` with every check on,
    yet the model is not loaded back nor the requirements compared while logging it."""
    from pathlib import Path

    import mlflow
    import mlflow.models.utils
    import mlflow.utils.environment
    import numpy as np
    import pandas as pd
    import sklearn
    from sklearn.linear_model import LogisticRegression

    from podium.registry import Registry
    from tests.conftest import seed_store

    db = tmp_path / "mlflow.db"
    seed_store(db, store_template)
    registry = Registry(f"sqlite:///{db}", "checked")
    experiment = registry.experiment_id("checks", tmp_path / "artifacts")
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    model = LogisticRegression().fit(x, (x["a"] > 0).astype(int))
    requirements = [f"scikit-learn=={sklearn.__version__}", "cloudpickle"]
    # Alone in its process (`podium train`): a fresh interpreter, its one thread (a test
    # worker has threads of its own). It logs into this store and says which checks ran.
    script = tmp_path / "alone.py"
    script.write_text(ALONE.format(db=str(db), artifacts=str(tmp_path / "artifacts")))
    import subprocess
    import sys

    found = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert found.returncode == 0, found.stderr
    alone = json.loads(found.stdout.strip().splitlines()[-1])
    assert alone["calls"] == []  # skipped while logging …
    assert alone["restored"] == "spy"  # … and put back (the spy it replaced)
    version = registry.get_version(alone["version"])
    calls: list[str] = []
    for module, name in (
        (mlflow.models.utils, "_validate_serving_input"),
        (mlflow.utils.environment, "warn_dependency_requirement_mismatches"),
    ):
        original = getattr(module, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inferred = mlflow.models.infer_signature(x.head(5), model.predict(x.head(5)))
    # podium's model takes raw rows: every input column of any type (issue 31)
    inputs = Schema([ColSpec(AnyType(), str(c)) for c in x.columns])
    with mlflow.start_run(experiment_id=experiment):
        plain = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=ModelSignature(inputs=inputs, outputs=inferred.outputs),
            input_example=x.head(5),
            serialization_format="cloudpickle",
            pip_requirements=requirements,
        )
    assert sorted(set(calls)) == [
        "_validate_serving_input",
        "warn_dependency_requirement_mismatches",
    ]  # the plain call made both checks
    calls.clear()
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)  # another thread alive: nothing is swapped
    other.start()
    try:
        registry.log_candidate(
            experiment_id=experiment,
            model=model,
            example=x.head(5),
            params={},
            metrics={},
            run_tags={},
            version_tags={},
            artifacts={},
        )
    finally:
        release.set()
        other.join()
    assert sorted(set(calls)) == [
        "_validate_serving_input",
        "warn_dependency_requirement_mismatches",
    ]

    def files(uri: str) -> dict[str, bytes]:
        local = mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / uri[-8:]))
        found = {}
        for path in sorted(p for p in Path(local).rglob("*") if p.is_file()):
            text = path.read_bytes()
            if path.name == "MLmodel":  # ids and timestamps differ between two loggings
                lines = text.decode().splitlines()
                volatile = ("model_id", "run_id", "utc_time_created", "artifact_path", "model_uuid")
                text = "\n".join(
                    line for line in lines if line.strip().split(":")[0] not in volatile
                ).encode()
            found[path.relative_to(local).as_posix()] = text
        return found

    ours, theirs = files(version.source), files(plain.model_uri)
    assert list(ours) == list(theirs)
    assert ours == theirs


def test_version_tags_are_all_written_and_a_prompt_s_name_is_refused_before_any(
    tmp_path: Any, store_template: Any
) -> None:
    """set_version_tags checks once that the name is a model, not a prompt (MLflow's
    set_model_version_tag checks before every tag): every tag still lands, and a prompt's
    name is still refused with nothing written."""
    from mlflow.prompt.constants import IS_PROMPT_TAG_KEY

    from podium.errors import PodiumError
    from podium.registry import Registry
    from tests.conftest import seed_store

    db = tmp_path / "mlflow.db"
    seed_store(db, store_template)
    registry = Registry(f"sqlite:///{db}", "tagged")
    client = registry.client
    client.create_registered_model("tagged")
    client.create_model_version("tagged", source=str(tmp_path / "model"))
    tags = {f"podium.k{i}": f"v{i}" for i in range(4)}
    registry.set_version_tags("1", tags)
    assert client.get_model_version("tagged", "1").tags == tags

    client.create_registered_model("prompt")
    client.create_model_version("prompt", source=str(tmp_path / "model"))
    # made a prompt as MLflow marks one (its public API refuses to register a prompt)
    client._get_registry_client().set_registered_model_tag("prompt", IS_PROMPT_TAG_KEY, "true")
    with pytest.raises(PodiumError):
        Registry(f"sqlite:///{db}", "prompt").set_version_tags("1", tags)
    written = client._get_registry_client().get_model_version("prompt", "1").tags
    assert not set(written) & set(tags)
