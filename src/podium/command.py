"""Running the user's own training command (`model.command`): any framework.

The command runs as a child process — never through a shell — in the config's folder,
with the MLflow run podium opened and the data it should use in its environment. Its
output streams live, each line prefixed so CI logs read well; the last lines of its
stderr are kept for the one-line error when it fails. A timeout kills its whole process
group (a script's own workers too).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from podium.errors import TrainingFailed

PREFIX = "train | "
STDERR_TAIL = 5  # lines of the command's stderr quoted when it fails


@dataclass(frozen=True)
class Finished:
    """A command that exited 0: how long it took, and the tail of its stderr."""

    seconds: float
    stderr_tail: list[str]


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float | None,
    prefix: str = PREFIX,
    key: str = "model.command",
    undone: str = "nothing was registered",
) -> Finished:
    """Run `argv` to completion, streaming its output; TrainingFailed when it fails.

    `key` names the command in messages (its timeout is `key`'s `timeout_minutes`),
    `undone` says what its failure leaves undone.
    """
    shown = describe(argv)
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            # Unbuffered: a Python script's prints reach the log as they happen, not at exit.
            env={"PYTHONUNBUFFERED": "1", **os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills all of it
        )
    except OSError as exc:
        raise TrainingFailed(
            f"{key}: cannot start '{argv[0]}' ({exc.strerror or exc}); check the "
            "command in podium.yaml and that the program is installed"
        ) from None
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
    assert process.stdout is not None and process.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, sys.stdout, prefix, None)),
        threading.Thread(target=_pump, args=(process.stderr, sys.stderr, prefix, tail)),
    ]
    for pump in pumps:
        pump.start()
    timed_out = False
    try:
        process.wait(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(process)
    except BaseException:  # Ctrl-C or a bug: never leave the command running
        _kill(process)
        raise
    for pump in pumps:
        pump.join()
    seconds = time.perf_counter() - started
    quoted = _quote(list(tail))
    if timed_out:
        assert timeout_seconds is not None
        raise TrainingFailed(
            f"{key} '{shown}' timed out after {timeout_seconds / 60:g} min "
            f"({key.rsplit('.', 1)[0]}.timeout_minutes); {undone}{quoted}"
        )
    if process.returncode != 0:
        raise TrainingFailed(
            f"{key} '{shown}' failed with exit code {process.returncode}; {undone}{quoted}"
        )
    return Finished(seconds=seconds, stderr_tail=list(tail))


def describe(argv: Sequence[str]) -> str:
    """The command on one short line, for messages (quoted as a shell would show it)."""
    import shlex

    text = " ".join(shlex.join(argv).split())
    return text if len(text) <= 120 else text[:119] + "…"


def _pump(
    source: IO[bytes], sink: IO[str], prefix: str, tail: collections.deque[str] | None
) -> None:
    """Copy lines from the child to `sink` as they come, prefixed."""
    for raw in iter(source.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if tail is not None and line.strip():
            tail.append(line.strip())
        try:
            sink.write(f"{prefix}{line}\n")
            sink.flush()
        except (OSError, ValueError):  # our own output closed: keep draining the pipe
            continue
    source.close()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _quote(lines: list[str]) -> str:
    """' — last stderr lines: a | b' (one line), or '' when it wrote nothing."""
    if not lines:
        return ""
    return " — last stderr lines: " + " | ".join(lines)
