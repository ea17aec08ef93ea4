"""MLflow's process-wide settings: quiet, no telemetry, bounded HTTP retries.

MLflow reads these from the environment when it is imported, so they are set before
that; `setdefault` everywhere: a value the user exported wins.
"""

from __future__ import annotations

import os

# urllib3 under MLflow: 3 retries with backoff 1 s → ~0 + 2 + 4 s (+ jitter) before giving up.
HTTP_MAX_RETRIES = "3"
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": HTTP_MAX_RETRIES,
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
QUIET_DEFAULTS = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # noise in CI logs
    "GIT_PYTHON_REFRESH": "quiet",
    "MLFLOW_LOGGING_LEVEL": "ERROR",  # MLflow re-applies it on import
}


def quiet_mlflow() -> None:
    """No telemetry, bounded retries, quiet logs — set before MLflow is imported."""
    for key, value in {**QUIET_DEFAULTS, **HTTP_DEFAULTS}.items():
        os.environ.setdefault(key, value)
    import logging

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def unpooled_sqlite() -> None:
    """No pooled sqlite connection: the branch-kept store's file is replaced under MLflow
    at every fetch, and no connection may outlive it. MLflow reads the pool class when
    it makes a store and keeps one store per URI for the whole process, so this is a
    process setting, made before the first branch store is opened."""
    os.environ["MLFLOW_SQLALCHEMYSTORE_POOLCLASS"] = "NullPool"


def http_max_retries() -> str:
    """How many times MLflow retries one HTTP request (for error messages)."""
    return os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", HTTP_MAX_RETRIES)
