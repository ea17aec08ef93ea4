"""The training command runner: live prefixed output, stderr tail, timeout, no shell."""

from __future__ import annotations

import io
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
