"""Issue 31: training again on the same data, config and clean commit registers nothing new.

Real git repositories and real sqlite registries: the earlier identical version is the
challenger again (train.json names it), and only a change in the data, podium.yaml or the
commit, a dirty working tree or `--retrain` makes a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Project, state_json
from tests.stages.test_card import commit_all, described, git

NOTE = "identical to v1 (same data, config and commit): not retrained; pass --retrain"


def versions(registry_of: Callable[[Project], Any], project: Project) -> list[str]:
    return [v.version for v in registry_of(project).versions()]


def test_the_same_run_twice_registers_one_version_and_moves_nothing(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    commit_all(project.root)
    assert project.cli("run").code == 0
    history = project.cli("history", "--json").out

    again = project.cli("run")

    assert again.code == 0, again.err
    assert versions(registry_of, project) == ["1"]
    assert f"train: challenger v1 is {NOTE}" in again.out + again.err
    trained = state_json(project, "train.json")
    assert trained["version"] == "1" and trained["identical_to"] == "1"
    assert trained["run_id"] == registry_of(project).get_version("1").run_id
    report = (project.state / "report.md").read_text()
    assert f"♻️ **No change** — challenger v1 is {NOTE} to train anyway." in report
    assert "**Nothing to promote**" in report
    promotion = state_json(project, "promotion.json")
    assert promotion["promoted"] is False and promotion["reason"] == "already the champion"
    assert registry_of(project).champion().version == "1"
    assert project.cli("history", "--json").out == history  # no bogus move recorded


def test_podium_train_reuses_and_retrain_forces_a_new_version(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    commit_all(project.root)
    assert project.cli("train").code == 0
    first = registry_of(project).get_version("1").tags
    assert len(first["podium.config_sha256"]) == 64

    again = project.cli("train")
    assert again.code == 0, again.err
    assert f"churn: challenger v1 is {NOTE} to train anyway" in again.out
    assert versions(registry_of, project) == ["1"]
    assert registry_of(project).get_version("1").tags == first  # untouched
    assert project.cli("evaluate").code == 0  # the rest of the pipeline takes it
    assert state_json(project, "evaluation.json")["challenger"]["version"] == "1"

    forced = project.cli("train", "--retrain")
    assert forced.code == 0, forced.err
    assert "registered churn v2" in forced.out
    assert state_json(project, "train.json")["identical_to"] is None
    assert versions(registry_of, project) == ["1", "2"]
    # after a forced one, the newest identical version is the one reused
    assert project.cli("train").code == 0
    assert state_json(project, "train.json")["version"] == "2"
    assert versions(registry_of, project) == ["1", "2"]
    assert project.cli("run", "--retrain", "--no-promote").code == 0
    assert versions(registry_of, project) == ["1", "2", "3"]


def test_a_change_in_data_config_or_commit_trains_a_new_version(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    commit_all(project.root)
    assert project.cli("train").code == 0

    train_csv = project.root / "data" / "train.csv"
    lines = train_csv.read_text().splitlines(keepends=True)
    train_csv.write_text("".join(lines[:-1]))  # one row fewer
    commit_all(project.root, "data")
    assert project.cli("train").code == 0
    assert versions(registry_of, project) == ["1", "2"]

    document = project.config()
    document["model"]["estimator"]["params"]["random_state"] = 7
    project.write_config(document)
    commit_all(project.root, "config")
    assert project.cli("train").code == 0
    assert versions(registry_of, project) == ["1", "2", "3"]
    config_tags = {registry_of(project).get_version(v).tags["podium.config_sha256"] for v in "23"}
    assert len(config_tags) == 2

    git(project.root, "commit", "-q", "--allow-empty", "-m", "code elsewhere")
    assert project.cli("train").code == 0
    assert versions(registry_of, project) == ["1", "2", "3", "4"]
    assert project.cli("train").code == 0  # and that one, identical, is reused
    assert versions(registry_of, project) == ["1", "2", "3", "4"]


def test_a_dirty_tree_always_trains(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    (project.root / "notes.txt").write_text("clean\n")
    commit_all(project.root)
    assert project.cli("train").code == 0

    (project.root / "notes.txt").write_text("uncommitted\n")  # anything, the code included
    assert project.cli("train").code == 0
    assert project.cli("train").code == 0
    assert versions(registry_of, project) == ["1", "2", "3"]
    assert registry_of(project).get_version("3").tags["podium.dirty"] == "true"

    # clean again: v1 (clean, same commit) is the one reused, never a dirty one
    git(project.root, "checkout", "--", "notes.txt")
    assert project.cli("train").code == 0
    assert state_json(project, "train.json")["version"] == "1"
    assert versions(registry_of, project) == ["1", "2", "3"]


def test_a_version_that_failed_its_gates_fails_them_again_without_retraining(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    project = make_project(gates=[{"metric": "roc_auc", "min": 0.999}])
    commit_all(project.root)
    assert project.cli("run").code == 1
    again = project.cli("run")
    assert again.code == 1
    assert "gates failed: roc_auc" in again.err
    assert versions(registry_of, project) == ["1"]
    assert registry_of(project).champion() is None
    assert registry_of(project).get_version("1").tags["podium.verdict"] == "failed"
    assert f"♻️ **No change** — challenger v1 is {NOTE}" in (project.state / "report.md").read_text()


def test_a_training_command_is_not_run_again(
    project: Project, registry_of: Callable[[Project], Any]
) -> None:
    described(project, "command")
    commit_all(project.root)
    assert project.cli("run").code == 0
    again = project.cli("run")
    assert again.code == 0, again.err
    assert f"challenger v1 is {NOTE}" in again.out + again.err
    assert versions(registry_of, project) == ["1"]


def test_the_champion_reused_is_no_change_not_a_failed_improvement_gate(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    # A gate asking for +0.05 over the champion: the champion compared with itself can
    # never clear it, yet nothing changed — only the absolute bounds apply then.
    project = make_project(gates=[{"metric": "roc_auc", "min": 0.6, "min_delta": 0.05}])
    commit_all(project.root)
    assert project.cli("run").code == 0
    again = project.cli("run")
    assert again.code == 0, again.err
    assert "nothing was promoted" not in again.err
    evaluated = state_json(project, "evaluation.json")
    assert evaluated["passed"] is True
    assert evaluated["summary"] == (
        "no change: every absolute bound passes (v1 is already the champion: compared with itself)"
    )
    assert registry_of(project).champion().version == "1"
    assert [e.action for e in registry_of(project).history()] == ["promote"]
