"""MLflow's settings: podium's bounded-retry defaults reach MLflow; the user's values win."""

from __future__ import annotations

import logging
import os

import pytest

from podium.registry import env

HTTP = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")


def test_defaults_bound_the_retries_mlflow_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_REQUEST_TIMEOUT,
    )

    for key in [*HTTP, "MLFLOW_HTTP_REQUEST_TIMEOUT"]:
        monkeypatch.delenv(key, raising=False)
    # MLflow alone: 7 retries, backoff factor 2 (≈ 4 minutes against a dead server).
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 7
    env.quiet_mlflow()
    # podium: 3 retries, backoff 1 s (≈0+2+4 s, plus jitter), 60 s per request.
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 3
    assert MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == 1
    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 60
    assert env.http_max_retries() == "3"
    assert logging.getLogger("mlflow").level == logging.ERROR


def test_values_the_user_exported_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    env.quiet_mlflow()
    assert [os.environ[key] for key in HTTP] == ["1", "0"]
    assert env.http_max_retries() == "1"
