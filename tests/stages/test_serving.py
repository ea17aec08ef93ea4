"""The serving check of `podium evaluate`: the candidate behind MLflow's real scoring server.

Real `mlflow models serve` processes (env managers local and uv, the latter building the
model's own logged environment from the package registry), real HTTP, real models.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from podium import serving
from tests.conftest import Project, state_json
from tests.stages.test_train_command import LIGHTGBM_SCRIPT, NUMERIC, NUMPY_SCRIPT, use_command

# The LightGBM script, logging requirements that forget lightgbm itself.
FORGETFUL_SCRIPT = LIGHTGBM_SCRIPT.replace(
    "input_example=X.head(5))",
    'input_example=X.head(5), pip_requirements=["mlflow==" + mlflow.__version__, "pandas"])',
)


def _with_serving(project: Project, **settings: Any) -> None:
    document = project.config()
    document["serving"] = {"rows": 60, "requests": 5, **settings}
    project.write_config(document)


def _refused(port_of: str) -> bool:
    """Whether nothing listens any more where the server was (its process group ended)."""
    port = int(re.search(r"127\.0\.0\.1:(\d+)", port_of).group(1))  # type: ignore[union-attr]
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_served_candidate_answers_as_in_process_and_its_figures_are_gate_able(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project()
    _with_serving(project)
    result = project.cli("run", "--no-promote")
    assert result.code == 0, result.err
    evaluated = state_json(project, "evaluation.json")
    served = evaluated["serving"]
    assert (served["env_manager"], served["rows"], served["requests"]) == ("local", 60, 5)
    assert served["parity"] == 1.0 and served["error"] is None
    assert served["latency_ms"] > 0 and served["start_seconds"] > 0
    metrics = evaluated["challenger"]["metrics"]
    assert metrics["serving_parity"] == 1.0
    assert metrics["serving_latency_ms"] == served["latency_ms"]
    registry = registry_of(project)
    version = registry.get_version("1")
    probe = registry.run_json(version.run_id, serving.PROBE_ARTIFACT)
    assert len(probe["data"]) == 60 and "customer_id" not in probe["columns"]
    assert len(probe["predicted"]) == 60 and len(probe["proba"][0]) == 2  # labels and scores
    assert registry.run_metrics(version.run_id)["eval_serving_parity"] == 1.0
    report = (project.state / "report.md").read_text()
    assert "#### Serving ✅" in report and "60 of 60 probe rows" in report

    document = project.config()
    document["gates"].append({"metric": "serving_latency_ms", "max": 0.001})
    project.write_config(document)
    gated = project.cli("evaluate")
    assert gated.code == 1
    assert "serving_latency_ms" in gated.err
    assert state_json(project, "evaluation.json")["passed"] is False


def test_probabilities_are_compared_and_a_forgotten_requirement_fails_under_uv(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project()
    document = project.config()
    document["data"]["features"] = NUMERIC
    project.write_config(document)
    use_command(project, FORGETFUL_SCRIPT)
    _with_serving(project)  # local: this environment has lightgbm
    first = project.cli("train")
    assert first.code == 0, first.err
    local = project.cli("evaluate")
    assert local.code == 0, local.err
    served = state_json(project, "evaluation.json")["serving"]
    assert served["parity"] == 1.0  # a Booster's probabilities, within 1e-9 over HTTP

    _with_serving(project, env_manager="uv", timeout_seconds=600)  # its own logged env
    isolated = project.cli("evaluate")
    assert isolated.code == 1
    assert "serving check failed: the scoring server (--env-manager uv) exited" in isolated.err
    assert "No module named 'lightgbm'" in isolated.err
    evaluated = state_json(project, "evaluation.json")
    assert evaluated["passed"] is False
    assert "No module named 'lightgbm'" in evaluated["serving"]["error"]
    assert registry_of(project).get_version("1").tags["podium.verdict"] == "failed"
    report = project.cli("report")
    assert report.code == 0
    assert "#### Serving ❌" in (project.state / "report.md").read_text()


def test_a_pyfunc_answering_a_frame_of_class_probabilities_is_compared_column_by_class(
    make_project: Callable[..., Project],
) -> None:
    project = make_project()
    use_command(project, NUMPY_SCRIPT)  # returns DataFrame({0: …, 1: …}): JSON records
    _with_serving(project)
    result = project.cli("run")
    assert result.code == 0, result.err
    served = state_json(project, "evaluation.json")["serving"]
    assert (served["parity"], served["error"]) == (1.0, None)


def test_uv_serves_a_scikit_learn_model_from_its_own_environment(
    make_project: Callable[..., Project],
) -> None:
    project = make_project()
    _with_serving(project, env_manager="uv", timeout_seconds=600)
    result = project.cli("run")
    assert result.code == 0, result.err
    served = state_json(project, "evaluation.json")["serving"]
    assert (served["env_manager"], served["parity"]) == ("uv", 1.0)


def test_a_server_not_healthy_in_time_fails_the_verdict_and_is_stopped(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project()
    _with_serving(project, timeout_seconds=0.5)
    result = project.cli("run")
    assert result.code == 1
    assert "serving check failed: the scoring server (--env-manager local) at" in result.err
    assert "was not healthy within 0.5 s (GET /ping:" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert _refused(result.err)  # its whole process group was killed
    assert registry_of(project).champion() is None  # nothing promoted


@pytest.mark.parametrize(
    ("answered", "expected", "parity"),
    [
        ([0, 1, 1], {"predicted": [0, 1, 1]}, 1.0),
        ([0.0, 1.0, 0.0], {"predicted": [0, 1, 1]}, 2 / 3),  # labels: 1.0 is 1, 0.0 is not 1
        (
            [[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]],
            {"predicted": [1, 0, 0], "proba": [[0.3, 0.7], [0.9, 0.1], [0.5 + 1e-12, 0.5]]},
            1.0,
        ),
        (
            [[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]],
            {"predicted": [1, 0, 0], "proba": [[0.3, 0.7], [0.9, 0.1], [0.5 + 1e-6, 0.5]]},
            2 / 3,
        ),
        (  # a DataFrame answer: records whose keys are the classes as text
            [{"1": 0.7, "0": 0.3}, {"0": 0.9, "1": 0.1}, {"0": 0.2, "1": 0.8}],
            {"predicted": [1, 0, 1], "proba": [[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]]},
            2 / 3,
        ),
    ],
)
def test_agreement_compares_labels_exactly_and_probabilities_within_1e_9(
    answered: Any, expected: dict[str, Any], parity: float
) -> None:
    probe = serving.Probe(
        columns=["x"], data=[[1], [2], [3]], task="classification", classes=[0, 1], **expected
    )
    found, first = serving.agreement(answered, probe)
    assert found == pytest.approx(parity)
    assert (first is None) == (parity == 1.0)


def test_regression_values_agree_within_1e_9() -> None:
    probe = serving.Probe(columns=["x"], data=[[1], [2]], task="regression", predicted=[10.0, 2.5])
    assert serving.agreement([10.0 + 1e-12, 2.5], probe) == (1.0, None)
    parity, first = serving.agreement([10.0, 2.6], probe)
    assert parity == 0.5 and first == "row 1: 2.6 instead of 2.5"


def test_an_in_database_sql_source_is_serving_checked_on_the_rows_scored_in_process(
    make_project: Callable[..., Project],
) -> None:
    import sqlite3

    import pandas as pd

    project = make_project()
    with sqlite3.connect(project.root / "data" / "warehouse.db") as connection:
        for name in ("train", "eval"):
            frame = pd.read_csv(project.root / "data" / f"{name}.csv")
            frame.to_sql(f"churn_{name}", connection, index=False)
    document = project.config()
    for name in ("train", "eval"):
        uri = "sqlite:///data/warehouse.db"
        document["data"][name] = {"uri": uri, "table": f"churn_{name}", "in_database": True}
    document["serving"] = {"rows": 40, "requests": 3}
    project.write_config(document)
    result = project.cli("run")
    assert result.code == 0, result.err
    served = state_json(project, "evaluation.json")["serving"]
    assert (served["rows"], served["parity"], served["skipped"]) == (40, 1.0, None)


def test_an_endpoint_that_drops_one_connection_while_it_restarts_is_asked_again() -> None:
    """A real HTTP endpoint that answers /ping but resets the first /invocations connection
    (a rollout, a restarted worker): the request is sent again once it is healthy, and the
    answers are compared as usual; one that keeps dropping it fails on one line."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    dropped = {"left": 1}

    class Endpoint(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if dropped["left"] != 0:
                dropped["left"] -= 1
                self.connection.shutdown(socket.SHUT_RDWR)  # no answer: the socket closes
                return
            body = json.dumps({"predictions": [1, 0]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    probe = serving.Probe(
        columns=["a"], data=[[1.0], [2.0]], task="classification", predicted=[1, 0]
    )
    try:
        checked = serving.verify(url, probe, requests=2, timeout_seconds=10)
        assert (checked.error, checked.parity, checked.requests) == (None, 1.0, 2)
        assert dropped["left"] == 0  # it was dropped once, then asked again
        dropped["left"] = -1  # from now on every connection is dropped
        failed = serving.verify(url, probe, requests=1, timeout_seconds=10)
        assert failed.error is not None and "/invocations did not answer" in failed.error
    finally:
        server.shutdown()
