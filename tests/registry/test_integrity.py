"""Model files are checked against the sha256 digests recorded at registration before
anything loads them: a swapped pickle is refused (exit 2, naming the file and both
digests) and never runs — in evaluate, promote and rollback alike."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.registry import integrity
from tests.conftest import STRONG, STRONG_PARAMS, Project


class _Payload:
    """What an attacker with write access to the artifacts would put in model.pkl."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "PWNED"))  # type: ignore[return-value]


def _swap(project: Project, version: str, marker: Path, registry: Any) -> Path:
    """Replace the model.pkl of `version` (on the artifact store) with a payload."""
    logged = registry.get_version(version).source.removeprefix("models:/")
    found = [p for p in project.root.rglob("model.pkl") if logged in p.as_posix()]
    assert len(found) == 1, found
    found[0].write_bytes(pickle.dumps(_Payload(marker)))
    return found[0]


def _complaint(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("podium:")]
    assert len(lines) == 1, err
    return lines[0]


DIGESTS = re.compile(r"has sha256 ([0-9a-f]{64}), but ([0-9a-f]{64}) was recorded")


def test_a_swapped_champion_pickle_is_refused_by_evaluate_and_never_runs(
    champion_project: Project, registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    project = champion_project
    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("train").code == 0  # v2, the challenger
    marker = tmp_path / "pwned.txt"
    registry = registry_of(project)
    _swap(project, "1", marker, registry)

    result = project.cli("evaluate")
    assert result.code == 2, result.err
    complaint = _complaint(result.err)
    assert "model v1 of 'churn': file 'model.pkl'" in complaint
    have, want = DIGESTS.search(complaint).groups()  # type: ignore[union-attr]
    assert have != want
    assert not marker.exists()  # the payload never ran


def test_a_challenger_swapped_after_evaluation_is_not_promoted(
    project: Project, registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    assert project.cli("train").code == 0
    assert project.cli("evaluate").code == 0
    marker = tmp_path / "pwned.txt"
    _swap(project, "1", marker, registry_of(project))

    result = project.cli("promote")
    assert result.code == 2, result.err
    assert "model v1 of 'churn': file 'model.pkl' has sha256" in _complaint(result.err)
    assert registry_of(project).champion() is None  # nothing moved
    assert not marker.exists()


def test_rollback_to_a_swapped_version_is_refused(
    champion_project: Project, registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    project = champion_project
    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("run").code == 0  # v2 is champion now
    registry = registry_of(project)
    assert registry.champion().version == "2"
    marker = tmp_path / "pwned.txt"
    _swap(project, "1", marker, registry)

    result = project.cli("rollback", "--reason", "v2 misbehaves")
    assert result.code == 2, result.err
    assert "model v1 of 'churn': file 'model.pkl'" in _complaint(result.err)
    assert registry_of(project).champion().version == "2"
    assert not marker.exists()


def test_an_added_file_or_a_symlink_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    recorded = integrity.file_digests(folder)
    (folder / "extra.py").write_text("import os\n")
    found = integrity.file_digests(folder)
    assert "file 'extra.py'" in integrity.mismatch("v3", found, recorded)
    assert "was not there at registration" in integrity.mismatch("v3", found, recorded)
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(integrity.IntegrityError, match="'link' is not a regular file"):
        integrity.file_digests(folder)


def test_monitor_refuses_a_swapped_champion_before_scoring(
    champion_project: Project, registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    project = champion_project
    marker = tmp_path / "pwned.txt"
    _swap(project, "1", marker, registry_of(project))

    result = project.cli("monitor", "--data", str(project.root / "data" / "eval.csv"))
    assert result.code == 2, result.err
    assert "model v1 of 'churn': file 'model.pkl' has sha256" in _complaint(result.err)
    assert not marker.exists()
