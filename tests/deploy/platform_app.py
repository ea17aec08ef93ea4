"""A small real deployment platform for the tests: it serves whatever model it is told to.

    python platform_app.py ADMIN_PORT PUBLIC_PORT

`POST /deploy` on the admin port with `{"model_uri": …, "tracking_uri": …}` replaces the
model served on the public port: the running `mlflow models serve` (its whole process
group) is stopped and a new one started on the model, and the answer waits until it
answers `/ping` (200) or failed (500, with its last log lines). `GET /current` says which
model URI is being served. The public endpoint speaks MLflow's scoring protocol because it
IS MLflow's scoring server. Ends (and ends its server) on SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ADMIN, PUBLIC = int(sys.argv[1]), int(sys.argv[2])
LOG = Path(tempfile.gettempdir()) / f"podium-test-platform-{PUBLIC}.log"
state: dict[str, object] = {"process": None, "uri": None}
lock = threading.Lock()


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()  # reap the leader: a zombie would count as alive
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop() -> None:
    """End the served model's whole process group — mlflow's CLI AND the uvicorn server
    it started, which shuts down after its parent and would otherwise still hold the port
    (and answer as the old model) when the next one is asked for /ping."""
    process = state["process"]
    if isinstance(process, subprocess.Popen):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _group_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(process):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            while _group_alive(process) and time.monotonic() < deadline + 10:
                time.sleep(0.05)
        process.wait()
    state["process"] = None


def start(uri: str, tracking_uri: str) -> tuple[bool, str]:
    stop()
    log = LOG.open("wb")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            uri,
            "-h",
            "127.0.0.1",
            "-p",
            str(PUBLIC),
            "--env-manager",
            "local",
            "-w",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    state["process"], state["uri"] = process, uri
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False, LOG.read_text(errors="replace")[-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PUBLIC}/ping", timeout=2) as r:
                if r.status == 200:
                    return True, "ok"
        except OSError:
            pass
        time.sleep(0.25)
    return False, "not healthy within 180 s"


class Admin(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, code: int, payload: dict[str, object]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(200, {"model_uri": state["uri"]})

    def do_POST(self) -> None:
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with lock:
            ok, detail = start(asked["model_uri"], asked["tracking_uri"])
        self._answer(200 if ok else 500, {"ok": ok, "detail": detail})


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", ADMIN), Admin)

    def end(*_: object) -> None:
        stop()
        os._exit(0)

    signal.signal(signal.SIGTERM, end)
    print("ready", flush=True)
    server.serve_forever()


main()
