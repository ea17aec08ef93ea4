"""One error hierarchy; `cli.main` is the one place that maps it to exit codes.

Every error carries a one-line message that names the culprit (file, key, column,
version, URL) and says what to do about it. Tracebacks are reserved for real bugs.
"""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, candidates: Iterable[object]) -> str | None:
    """The candidate a typo most likely meant (case-insensitive), for "did you mean" hints."""
    import difflib

    by_lower = {str(c).lower(): str(c) for c in candidates}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    # 0.75, not difflib's 0.6: 'Income' must not suggest 'Time' (they share only "ime")
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[found[0]] if found else None


class PodiumError(Exception):
    """Base class: an anticipated failure with a one-line, actionable message."""

    exit_code = 2


class ConfigError(PodiumError):
    """podium.yaml (or a CLI option) is malformed, has an unknown key or a bad value."""


class DataError(PodiumError):
    """Input data is missing, empty, unreadable or lacks a required column."""


class InputError(PodiumError):
    """A CLI argument names something that does not exist (e.g. an unknown model version)."""


class CheckFailed(PodiumError):
    """A gate or check failed as designed (exit 1); results were still written."""

    exit_code = 1


class ServiceError(PodiumError):
    """An external service (MLflow tracking server, GitHub) failed after retries."""

    exit_code = 3


class TrainingFailed(PodiumError):
    """The training command (model.command) failed, timed out, or logged no model or
    several: nothing was registered (exit 2)."""
