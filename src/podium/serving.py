"""Serving: a model behind MLflow's scoring protocol (`/ping`, `/invocations`), checked.

The one adapter for model endpoints. `podium evaluate` starts MLflow's real scoring server
(`mlflow models serve`) on the candidate (`serve`), sends it a probe — evaluation rows as
`dataframe_split` JSON, the payload a production client sends — and compares its answers
with what podium predicted in-process (`check`). The probe (rows and expected answers) is
stored with the version; `podium deploy`, `status` and `monitor` verify a live endpoint
against it (`verify`).

Answers agree when labels are equal and probabilities or regression values are within
`AGREEMENT` of each other. The server runs in its own process group, which is always
killed when the check ends (also on Ctrl-C or a bug).
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from podium.errors import CheckFailed

if TYPE_CHECKING:
    import pandas as pd

    from podium.scoring import Outputs

AGREEMENT = 1e-9  # probabilities / values closer than this are the same answer
PROBE_ARTIFACT = "podium/probe.json"  # in the version's run: the rows and expected answers
LOG_TAIL = 5  # last lines of the server's log quoted when it fails
# What the scoring server's process inherits (it loads, i.e. runs, the model's code): no
# token of the job. Enough to find Python/uv, build an environment from the package
# registry (proxies, index settings, certificates) and write temporary files.
_SERVER_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SSL_CERT_FILE"}
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
_SERVER_ENV_PREFIXES = ("PIP_", "UV_", "REQUESTS_CA", *_PROXIES, *(p.lower() for p in _PROXIES))


class ServingFailed(CheckFailed):
    """An endpoint did not start, was not healthy, answered an error or too late (exit 1)."""


@dataclass(frozen=True)
class Probe:
    """Rows a client sends (`dataframe_split`) and the answers podium expects for them."""

    columns: list[str]
    data: list[list[Any]]
    task: str
    predicted: list[Any]  # labels or regression values, one per row
    proba: list[list[float]] | None = None  # class probabilities, columns in `classes` order
    classes: list[Any] | None = None

    @classmethod
    def of(cls, features: pd.DataFrame, outputs: Outputs, *, task: str, rows: int) -> Probe:
        """The first `rows` rows and podium's in-process answers for them."""
        import numpy as np

        head = features.iloc[:rows]
        split = json.loads(head.to_json(orient="split", index=False, date_format="iso"))
        proba = outputs.proba
        classes = outputs.classes
        return cls(
            columns=[str(c) for c in split["columns"]],
            data=split["data"],
            task=task,
            predicted=np.asarray(outputs.predicted)[:rows].tolist(),
            proba=None if proba is None else np.asarray(proba, dtype=float)[:rows].tolist(),
            classes=None if classes is None else np.asarray(list(classes)).tolist(),
        )

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Probe:
        return cls(
            columns=list(payload["columns"]),
            data=list(payload["data"]),
            task=str(payload["task"]),
            predicted=list(payload["predicted"]),
            proba=payload.get("proba"),
            classes=payload.get("classes"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "data": self.data,
            "task": self.task,
            "predicted": self.predicted,
            "proba": self.proba,
            "classes": self.classes,
        }

    def payload(self) -> bytes:
        """The request body: `{"dataframe_split": {"columns": …, "data": …}}`."""
        split = {"columns": self.columns, "data": self.data}
        return json.dumps({"dataframe_split": split}, allow_nan=False).encode()


@dataclass(frozen=True)
class Verification:
    """How an endpoint answered the probe: parity, p95 latency, and why it failed (if so)."""

    url: str
    rows: int
    parity: float | None = None  # share of rows answered as expected
    latency_ms: float | None = None  # p95 of the timed requests
    requests: int = 0
    error: str | None = None  # one line: why the endpoint failed (None: it answered)
    mismatch: str | None = None  # the first row answered differently

    @property
    def failure(self) -> str | None:
        """Why the endpoint does not serve this version (None: every row agrees)."""
        if self.error:
            return self.error
        if self.parity is not None and self.parity < 1.0:
            return (
                f"{self.url} answered {1 - self.parity:.1%} of {self.rows} probe rows "
                f"differently ({self.mismatch})"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "rows": self.rows,
            "parity": self.parity,
            "latency_ms": self.latency_ms,
            "requests": self.requests,
            "error": self.error,
        }


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The scoring server's environment: an allowlist, with this Python's folder on PATH
    (so `uv`/`virtualenv` installed beside podium are found)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in _SERVER_ENV or k.startswith(_SERVER_ENV_PREFIXES)
    }
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([here, env.get("PATH", os.defpath)])
    env.setdefault("HOME", str(Path.home()))
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **(extra or {})}


@contextlib.contextmanager
def serve(model: str, *, env_manager: str, timeout_seconds: float) -> Iterator[str]:
    """MLflow's scoring server on `model` (a local folder or URI), healthy; yields its URL.

    ServingFailed (one line and the server's last log lines) when it exits or is not
    healthy within `timeout_seconds`. Its process group is killed when the block ends.
    """
    port = free_port()
    argv = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model]
    argv += ["-h", "127.0.0.1", "-p", str(port), "--env-manager", env_manager, "-w", "1"]
    tail: collections.deque[str] = collections.deque(maxlen=200)
    process = subprocess.Popen(
        argv,
        env=server_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: uvicorn's workers die with it
    )
    assert process.stdout is not None
    reader = threading.Thread(target=_collect, args=(process.stdout, tail), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(
            url,
            timeout_seconds=timeout_seconds,
            alive=lambda: process.poll() is None,
            log=lambda: _last(tail),
            what=f"the scoring server (--env-manager {env_manager})",
        )
        yield url
    finally:
        stop(process)
        reader.join(timeout=5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process and its whole group: TERM, then KILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent


def wait_healthy(
    url: str,
    *,
    timeout_seconds: float,
    alive: Any = None,
    log: Any = None,
    what: str = "the endpoint",
) -> float:
    """GET `/ping` until it answers 200; the seconds it took. ServingFailed otherwise."""
    started = time.monotonic()
    last = "no answer"
    while True:
        if alive is not None and not alive():
            raise ServingFailed(f"{what} exited before it was healthy{_quoted(log)}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=5) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() - started > timeout_seconds:
            raise ServingFailed(
                f"{what} at {url} was not healthy within {timeout_seconds:g} s "
                f"(GET /ping: {last}){_quoted(log)}"
            )
        time.sleep(0.25)


_ATTEMPTS = 3  # tries of one /invocations request whose connection is refused or reset


def invoke(url: str, probe: Probe, *, timeout_seconds: float) -> tuple[Any, float]:
    """POST the probe rows to `/invocations`; the predictions and the request's ms."""
    request = urllib.request.Request(
        f"{url}/invocations",
        data=probe.payload(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    for attempt in range(_ATTEMPTS):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as answer:
                body = answer.read()
            break
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")
            raise ServingFailed(
                f"{url}/invocations answered HTTP {exc.code}: {_short(_message(detail))}"
            ) from None
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", exc)
            # A refused or reset connection from an endpoint that just answered /ping: a
            # rollout or a restarted worker. Healthy again, the request is sent again (a
            # slow answer is not retried: it is the answer).
            if isinstance(reason, TimeoutError) or attempt == _ATTEMPTS - 1:
                raise ServingFailed(f"{url}/invocations did not answer: {reason}") from None
            wait_healthy(url, timeout_seconds=timeout_seconds)
    ms = (time.perf_counter() - started) * 1000
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ServingFailed(f"{url}/invocations answered something that is not JSON") from None
    predictions = parsed.get("predictions", parsed) if isinstance(parsed, dict) else parsed
    return predictions, ms


def verify(
    url: str, probe: Probe, *, requests: int, timeout_seconds: float, log: Any = None
) -> Verification:
    """The endpoint's answers to the probe against the expected ones, and its p95 latency.

    Outcomes are values: an endpoint that fails is a Verification with `error`.
    """
    rows = len(probe.data)
    try:
        answered, first_ms = invoke(url, probe, timeout_seconds=timeout_seconds)
        parity, mismatch = agreement(answered, probe)
        timings = [first_ms] + [
            invoke(url, probe, timeout_seconds=timeout_seconds)[1]
            for _ in range(max(requests - 1, 0))
        ]
    except ServingFailed as exc:
        return Verification(url=url, rows=rows, error=f"{exc}{_quoted(log)}")
    return Verification(
        url=url,
        rows=rows,
        parity=parity,
        latency_ms=p95(timings),
        requests=len(timings),
        mismatch=mismatch,
    )


def check(
    model: str, probe: Probe, *, env_manager: str, requests: int, timeout_seconds: float
) -> tuple[Verification, float | None]:
    """Serve `model` with MLflow's scoring server and verify it against `probe`; the
    verification and the seconds the server took to be healthy (None: it never was)."""
    started = time.monotonic()
    try:
        with serve(model, env_manager=env_manager, timeout_seconds=timeout_seconds) as url:
            healthy = time.monotonic() - started
            found = verify(url, probe, requests=requests, timeout_seconds=timeout_seconds)
    except ServingFailed as exc:
        return Verification(url="", rows=len(probe.data), error=str(exc)), None
    return found, healthy


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def agreement(answered: Any, probe: Probe) -> tuple[float, str | None]:
    """Share of rows answered as the probe expects, and the first that was not."""
    from podium.predictions import PredictionError, interpret

    rows = len(probe.data)
    if isinstance(answered, list) and answered and all(isinstance(r, dict) for r in answered):
        import pandas as pd  # a DataFrame answer comes back as records; JSON keys are text

        by_text = {str(c): c for c in probe.classes or []}
        answered = pd.DataFrame(answered).rename(columns=lambda c: by_text.get(str(c), c))
    try:
        got = interpret(answered, task=probe.task, classes=probe.classes)
    except PredictionError as exc:
        return 0.0, f"its answer cannot be read: {exc}"
    predicted = list(_as_list(got.predicted))
    if len(predicted) != rows:
        return 0.0, f"{len(predicted)} answers for {rows} rows"
    proba = None if got.proba is None else _as_list(got.proba)
    same = 0
    first: str | None = None
    for row in range(rows):
        ok, why = _same_row(row, predicted, proba, probe)
        same += ok
        if not ok and first is None:
            first = f"row {row}: {why}"
    return same / rows if rows else 1.0, first


def _same_row(
    row: int, predicted: list[Any], proba: list[Any] | None, probe: Probe
) -> tuple[bool, str]:
    if probe.task == "regression":
        got, want = float(predicted[row]), float(probe.predicted[row])
        return _close(got, want), f"{got!r} instead of {want!r}"
    if proba is not None and probe.proba is not None:
        got_p, want_p = list(proba[row]), probe.proba[row]
        if len(got_p) != len(want_p) or not all(
            _close(float(a), float(b)) for a, b in zip(got_p, want_p, strict=False)
        ):
            return False, f"probabilities {got_p} instead of {want_p}"
        return True, ""
    got_label, want_label = predicted[row], probe.predicted[row]
    return _same_label(got_label, want_label), f"label {got_label!r} instead of {want_label!r}"


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= AGREEMENT * max(1.0, abs(b))


def _same_label(a: Any, b: Any) -> bool:
    if str(a) == str(b):
        return True
    try:
        return float(a) == float(b)  # 1 and 1.0 (JSON keeps no integer/float distinction)
    except (TypeError, ValueError):
        return False


def _as_list(values: Any) -> list[Any]:
    tolist = getattr(values, "tolist", None)
    return list(tolist() if callable(tolist) else values)


def _collect(source: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in iter(source.readline, b""):
        line = raw.decode("utf-8", errors="replace").strip()
        if line:
            tail.append(line)
    source.close()


def _last(tail: collections.deque[str]) -> list[str]:
    """The server's last log lines, the error lines of a traceback first."""
    lines = list(tail)
    errors = [line for line in lines if "Error" in line or "error" in line]
    chosen = errors[-2:] + [line for line in lines[-LOG_TAIL:] if line not in errors[-2:]]
    return chosen[:LOG_TAIL]


def _quoted(log: Any) -> str:
    lines = log() if callable(log) else []
    return " — server log: " + " | ".join(_short(x) for x in lines) if lines else ""


def _message(detail: str) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        found = json.loads(detail).get("message")
        if found:
            return str(found)
    return detail


def _short(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
