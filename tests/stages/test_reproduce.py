"""`podium reproduce`: rebuild a version from its recorded commit and data, and compare.

Real git repositories (commits, a dirty tree, a rewritten data file), real sqlite stores;
the rebuild goes to a throwaway store and the project's registry only gains the verdict.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project
from tests.stages.test_card import commit_all, described, git
from tests.stages.test_train_command import NUMPY_SCRIPT


def runs_in(registry: Any) -> int:
    experiments = registry.client.search_experiments()
    return len(registry.client.search_runs([e.experiment_id for e in experiments]))


def recorded(registry: Any, version: str = "1") -> dict[str, Any]:
    loaded = json.loads(registry.get_version(version).tags["podium.reproduction"])
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("kind", ["estimator", "entrypoint", "command"])
def test_a_promoted_version_is_reproduced_and_nothing_else_changes(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any], kind: str
) -> None:
    project = make_project()
    described(project, kind)
    commit = commit_all(project.root)
    assert project.cli("run").code == 0
    registry = registry_of(project)
    before = (runs_in(registry), [v.version for v in registry.versions()])

    result = project.cli("reproduce", "--version", "1")

    assert result.code == 0, result.err
    assert f"reproduced: v1 of churn from {commit[:12]}" in result.out
    assert "predictions on 600 evaluation rows: the same" in result.out
    assert "data.train: sha256 matches" in result.out
    assert (runs_in(registry), [v.version for v in registry.versions()]) == before
    assert registry.champion().version == "1"
    assert recorded(registry) | {"at": "", "by": ""} == {
        "verdict": "reproduced",
        "at": "",
        "cause": None,
        "commit": commit,
        "by": "",
    }
    assert "## Reproduction\nreproduced at " in project.cli("card").out
    listed = git(project.root, "worktree", "list")
    assert len(listed.splitlines()) == 1, listed  # the temporary worktree is gone


def test_a_rewritten_data_file_is_the_first_cause_and_data_from_fixes_it(
    project: Project, registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    (project.root / ".gitignore").write_text(".podium/\ndata/\n")  # data kept out of git
    commit_all(project.root)
    assert project.cli("run").code == 0
    kept = tmp_path / "kept"
    shutil.copytree(project.root / "data", kept)
    with (project.root / "data" / "train.csv").open("a") as rewritten:
        rewritten.write("C999999,12,50.0,1,monthly,south,card,40,1\n")

    refused = project.cli("reproduce", "--version", "1")

    assert refused.code == 1
    assert "v1 of churn not reproduced: data.train" in refused.err
    assert "differs from its fingerprint" in refused.err
    assert recorded(registry_of(project))["verdict"] == "not reproduced"
    assert "not reproduced at " in project.cli("card").out

    again = project.cli("reproduce", "--version", "1", "--data-from", str(kept))
    assert again.code == 0, again.err
    assert recorded(registry_of(project))["verdict"] == "reproduced"


def test_a_version_trained_from_a_dirty_tree_is_recorded_so(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    commit_all(project.root)
    document = project.config()
    document["model"]["estimator"]["params"] = {"max_depth": 3}  # not committed
    project.write_config(document)
    assert project.cli("train").code == 0
    tags = registry_of(project).get_version("1").tags
    assert tags["podium.dirty"] == "true"
    assert tags["podium.dirty_files"] == "podium.yaml"  # gha.provenance: "a, b, … (+N)"
    assert (
        "(trained from uncommitted changes: podium.yaml)"
        in project.cli("card", "--version", "1").out
    )

    result = project.cli("reproduce", "--version", "1")

    assert result.code == 1
    assert "trained from uncommitted changes, the commit does not rebuild it" in result.err
    assert "parameter estimator.max_depth was 3, now 1" in result.err


def test_a_nondeterministic_command_is_named(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    noisy = NUMPY_SCRIPT.replace(
        "w = np.zeros(Z.shape[1] + 1)", "w = np.random.rand(Z.shape[1] + 1)"
    )
    noisy = noisy.replace("for _ in range(300):", "for _ in range(3):")
    (project.root / "train.py").write_text(noisy)
    document = project.config()
    document["model"].pop("estimator")
    document["model"]["command"] = [sys.executable, "train.py"]
    project.write_config(document)
    commit_all(project.root)
    assert project.cli("train").code == 0

    result = project.cli("reproduce", "--version", "1")

    assert result.code == 1
    assert "the training is nondeterministic or its inputs changed" in result.err
    assert "metric train_" in result.err or "predictions" in result.err


def test_a_missing_commit_is_a_cause(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    commit_all(project.root)
    assert project.cli("train").code == 0
    registry = registry_of(project)
    registry.set_version_tags("1", {"podium.git_commit": "ab" * 20})

    result = project.cli("reproduce", "--version", "1")

    assert result.code == 1
    assert f"commit {'ab' * 6} is missing from this repository" in result.err
    assert recorded(registry)["verdict"] == "not reproduced"


def test_bad_input_is_one_line_and_exit_2(project: Project) -> None:
    assert project.cli("train").code == 0  # outside git: no commit recorded
    outside = project.cli("reproduce", "--version", "1")
    assert outside.code == 2 and "is not in a git repository" in outside.err
    commit_all(project.root)
    cases = {
        ("--version", "1"): "v1 of churn has no recorded commit",
        ("--version", "4"): "has no version '4'",
        ("--version", "x"): "--version 'x' is not a model version number",
        ("--version", "1", "--tolerance", "-1"): "must be a number ≥ 0",
        ("--version", "1", "--data-from", "nowhere"): "--data-from nowhere: no such folder",
    }
    for args, named in cases.items():
        result = project.cli("reproduce", *args)
        assert result.code == 2, (args, result.err)
        assert named in result.err and len(result.err.strip().splitlines()) == 1, result.err
