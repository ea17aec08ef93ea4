"""The training command runner: live prefixed output, stderr tail, timeout, no shell."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

from podium.command import run
from podium.errors import TrainingFailed


class _Clocked(io.StringIO):
    """A stream that remembers when each line arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.arrivals.append((time.perf_counter(), text))
        return super().write(text)


def test_output_streams_live_with_a_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = _Clocked(), _Clocked()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    script = "import sys, time\nprint('epoch 1')\ntime.sleep(1.0)\nprint('epoch 2')\n"
    script += "print('warning: slow', file=sys.stderr)\n"
    finished = run([sys.executable, "-c", script], cwd=tmp_path, env={"X": "1"}, timeout_seconds=60)
    lines = [text for _, text in out.arrivals]
    assert lines == ["train | epoch 1\n", "train | epoch 2\n"]
    (first, _), (second, _) = out.arrivals
    assert second - first > 0.8  # the first line was shown while the script still ran
    assert err.getvalue() == "train | warning: slow\n"
    assert finished.stderr_tail == ["warning: slow"]


def test_the_environment_is_passed_and_no_shell_interprets_the_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    script = "import os, sys\nprint(os.environ['PODIUM_TARGET'], sys.argv[1:])\n"
    run(
        [sys.executable, "-c", script, "$HOME", "; rm -rf x"],
        cwd=tmp_path,
        env={"PODIUM_TARGET": "churned"},
        timeout_seconds=None,
    )
    assert out.getvalue() == "train | churned ['$HOME', '; rm -rf x']\n"


def test_a_failure_is_one_line_with_the_last_stderr_lines(tmp_path: Path) -> None:
    script = "import sys\nfor i in range(9):\n    print(f'line {i}', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(TrainingFailed) as caught:
        run([sys.executable, "-c", script], cwd=tmp_path, env={}, timeout_seconds=None)
    message = str(caught.value)
    assert "\n" not in message
    assert "failed with exit code 3" in message
    assert "line 4 | line 5 | line 6 | line 7 | line 8" in message and "line 3" not in message


def test_a_program_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(TrainingFailed, match="cannot start 'no-such-trainer'"):
        run(["no-such-trainer", "train.py"], cwd=tmp_path, env={}, timeout_seconds=None)


def test_a_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('started', file=sys.stderr, flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.perf_counter()
    with pytest.raises(TrainingFailed) as caught:
        run([sys.executable, "-c", script], cwd=tmp_path, env={}, timeout_seconds=3)
    assert time.perf_counter() - started < 30
    assert "timed out after 0.05 min" in str(caught.value)
    assert "started" in str(caught.value)
    child = int(pid_file.read_text())
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child whose parent died is reaped by init; a zombie still answers kill(0).
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


# What a job holds that can move a champion or write the repository, and one secret that
# no list names (added to the job "tomorrow"): none may reach the user's command.
CREDENTIALS = {
    "GITHUB_TOKEN": "ghs_write",
    "GH_TOKEN": "ghs_cli",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "http.https://github.com/.extraheader",
    "GIT_CONFIG_VALUE_0": "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hz",
    "MLFLOW_TRACKING_TOKEN": "mlflow-token",
    "MLFLOW_TRACKING_USERNAME": "admin",
    "MLFLOW_TRACKING_PASSWORD": "hunter2",
    "AWS_ACCESS_KEY_ID": "AKIA",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountKey=k",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/gcs.json",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc",
    "GITHUB_ENV": "/runner/set_env",
    "WAREHOUSE_DSN_ADDED_TOMORROW": "postgres://u:p@db/x",
    "PYTHON_KEYRING_TOKEN": "under-an-inherited-prefix",
    "HTTPS_PROXY": "http://user:pass@proxy:3128",
}

SHOW_ENV = "import json, os\nprint(json.dumps(dict(os.environ)))\n"


def _child_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    passed: tuple[str, ...] = (),
) -> dict[str, str]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    argv = [sys.executable, "-c", SHOW_ENV]
    run(argv, cwd=tmp_path, env=env, timeout_seconds=60, prefix="", passed=passed)
    seen = json.loads(out.getvalue())
    assert isinstance(seen, dict)
    return seen


def test_the_command_inherits_no_credential_only_the_allowlist_and_what_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("WAREHOUSE_DSN", "postgres://reader@db/x")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    seen = _child_environment(
        tmp_path, monkeypatch, {"PODIUM_TARGET": "churned"}, ("WAREHOUSE_DSN",)
    )
    secrets = {v for k, v in CREDENTIALS.items() if not k.startswith("GIT_CONFIG")}
    leaked = {k: v for k, v in seen.items() if v in secrets or (k in CREDENTIALS and k in secrets)}
    assert leaked == {}
    assert not set(seen) & {k for k in CREDENTIALS if not k.startswith("GIT_CONFIG")}
    # git's own config is replaced: no credential helper, no extra header, no prompt.
    assert [seen[f"GIT_CONFIG_{p}"] for p in ("COUNT", "KEY_0", "VALUE_0", "KEY_1", "VALUE_1")] == [
        "2", "credential.helper", "", "http.extraheader", ""
    ]  # fmt: skip
    assert seen["GIT_TERMINAL_PROMPT"] == "0"
    assert "AUTHORIZATION" not in json.dumps(seen)
    assert seen["PATH"] == os.environ["PATH"]  # what programs need still arrives
    assert seen["OMP_NUM_THREADS"] == "2" and seen["LC_ALL"] == "C.UTF-8"
    assert seen["PODIUM_TARGET"] == "churned"  # handed on purpose
    assert seen["WAREHOUSE_DSN"] == "postgres://reader@db/x"  # named by the user (model.env)


def test_outside_actions_the_users_own_git_setup_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_write")
    seen = _child_environment(tmp_path, monkeypatch, {})
    assert "GITHUB_TOKEN" not in seen
    assert not any(k.startswith("GIT_CONFIG") for k in seen)
