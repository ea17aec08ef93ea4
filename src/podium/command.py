"""Running the user's own training command (`model.command`): any framework.

The command runs as a child process — never through a shell — in the config's folder,
with the MLflow run podium opened and the data it should use in its environment. That
environment is built from an allowlist (`child_env`): the job's GitHub token, git's auth
header, MLflow's and the cloud SDKs' credentials — and whatever secret is added to the job
tomorrow — are not inherited; only what the caller hands it explicitly is added. Its
output streams live, each line prefixed so CI logs read well; the last lines of its
stderr are kept for the one-line error when it fails. A timeout kills its whole process
group (a script's own workers too).
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
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

# What a child inherits from podium's environment: how to find programs, the locale, the
# interpreter's and the numeric libraries' settings, proxies and CA bundles, the Java and
# Spark homes, and which CI run this is. Nothing else: a name not listed here (a token, a
# password, a cloud key, GITHUB_ENV through which a step could set the next steps'
# environment) stays with podium.
INHERITED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "LANG", "LANGUAGE",
        "TMPDIR", "TEMP", "TMP", "HOSTNAME", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "JAVA_HOME",
        "JAVA_TOOL_OPTIONS", "HADOOP_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NO_PROXY", "no_proxy", "HTTP_PROXY",
        "HTTPS_PROXY", "http_proxy", "https_proxy", "CI", "GITHUB_ACTIONS", "GITHUB_SHA",
        "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT",
        "GITHUB_WORKSPACE", "GITHUB_EVENT_NAME", "RUNNER_OS", "RUNNER_ARCH", "RUNNER_TEMP",
        "MPLBACKEND", "MPLCONFIGDIR", "KMP_DUPLICATE_LIB_OK",
    }
)  # fmt: skip
# Settings of interpreters, numeric and ML libraries, GPUs and package tools.
INHERITED_PREFIXES = (
    "LC_", "PYTHON", "CONDA_", "UV_", "PIP_", "OMP_", "MKL_", "OPENBLAS_", "VECLIB_",
    "NUMEXPR_", "NUMBA_", "JOBLIB_", "CUDA_", "NVIDIA_", "XDG_", "SPARK_", "PYSPARK_",
    "HF_", "TORCH_", "TF_", "KERAS_", "JAX_", "XLA_",
)  # fmt: skip
# Even under an inherited name or prefix, a value that looks like a credential is kept back
# (UV_INDEX_PASSWORD, PYTHON_KEYRING_TOKEN, a proxy URL carrying user:password).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|_KEY|KEY_|APIKEY", re.IGNORECASE)
_USER_IN_URL = re.compile(r"://[^/@\s]+@")
# git config for the child, through the environment (an empty value clears a multi-valued
# key): no credential helper, no extra Authorization header, no password prompt.
NO_GIT_AUTH = {
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "credential.helper",
    "GIT_CONFIG_VALUE_0": "",
    "GIT_CONFIG_KEY_1": "http.extraheader",
    "GIT_CONFIG_VALUE_1": "",
    "GIT_TERMINAL_PROMPT": "0",
}


@dataclass(frozen=True)
class Finished:
    """A command that exited 0: how long it took, and the tail of its stderr."""

    seconds: float
    stderr_tail: list[str]


def child_env(
    extra: Mapping[str, str] | None = None, *, passed: Sequence[str] = ()
) -> dict[str, str]:
    """The environment of a child that runs the user's code: the allowlisted part of
    podium's own (INHERITED), the names the user listed in `passed` (their own data
    credentials, say), then `extra` — what the caller hands it on purpose.

    In GitHub Actions git's credential helpers and extra headers are also switched off
    for the child (a runner's git config could hold the job's token); on a laptop the
    user's own git setup is theirs to use."""
    env = {"PYTHONUNBUFFERED": "1"}  # a Python script's prints reach the log as they happen
    for name, value in os.environ.items():
        listed = name in INHERITED or name.startswith(INHERITED_PREFIXES)
        if listed and not _SECRET_NAME.search(name) and not _USER_IN_URL.search(value):
            env[name] = value
    if os.environ.get("GITHUB_ACTIONS") == "true":
        env.update(NO_GIT_AUTH)
    env.update({name: os.environ[name] for name in passed if name in os.environ})
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float | None,
    prefix: str = PREFIX,
    passed: Sequence[str] = (),
    key: str = "model.command",
    undone: str = "nothing was registered",
) -> Finished:
    """Run `argv` to completion, streaming its output; TrainingFailed when it fails.

    Its environment is `child_env(env, passed=passed)`: nothing podium holds beyond the
    allowlist reaches it unless named. `key` names the command in messages (its timeout is
    `key`'s `timeout_minutes`), `undone` says what its failure leaves undone."""
    shown = describe(argv)
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=child_env(env, passed=passed),
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
