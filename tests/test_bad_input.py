"""Bad input through the CLI: exit 2, one line naming the culprit, nothing half-done.

Every case starts from a copy of one seeded project (champion v1 crowned by
`podium run`, one audit event) and checks afterwards that the registry is exactly
as it was (versions and their tags, runs, @champion, audit trail) and that no
`.podium/` result a later stage would trust survived from before the failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import WEAK, Project, Result, copy_project, run_subprocess

# Every result a project has after `podium run`: a refused command leaves each as it was
# (issue 31: every exit 2 used to delete the previous report.md, train.json, …).
EVERYTHING = {"validation.json", "train.json", "evaluation.json", "promotion.json", "report.md"}


@pytest.fixture
def seeded(champion_template: Project) -> Project:
    """A churn project whose registry has champion v1 and one audit event (never edited)."""
    assert {p.name for p in champion_template.state.iterdir()} >= EVERYTHING
    return champion_template


@dataclass(frozen=True)
class Snapshot:
    versions: list[tuple[str, list[tuple[str, str]]]]
    champion: str | None
    audit: list[dict[str, Any]]
    runs: int
    state: dict[str, str]


def snapshot(project: Project) -> Snapshot:
    from podium.registry import Registry

    # Not through podium.yaml: the tests break it on purpose.
    registry = Registry(f"sqlite:///{project.state / 'mlflow.db'}", "churn")
    champion = registry.champion()
    experiment = registry.client.get_experiment_by_name("podium/churn")
    runs = registry.client.search_runs([experiment.experiment_id]) if experiment else []
    return Snapshot(
        versions=[(v.version, sorted(v.tags.items())) for v in registry.versions()],
        champion=champion.version if champion else None,
        audit=[e.to_dict() for e in registry.history()],
        runs=len(runs),
        state={
            p.name: p.read_text()
            for p in sorted(project.state.iterdir())
            if p.is_file() and p.name.endswith((".json", ".md", ".tmp"))  # results, not the db
        },
    )


@pytest.fixture
def fresh(seeded: Project, tmp_path: Path) -> Iterator[Callable[[], Project]]:
    def copy() -> Project:
        return copy_project(seeded, tmp_path / "project")

    yield copy


def assert_refused(result: Result, *fragments: str) -> str:
    """Exit 2 and exactly one stderr line that names the culprit; no traceback."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_nothing_half_done(project: Project, before: Snapshot) -> None:
    """Registry exactly as before, and every previous result untouched: results are only
    replaced by a stage that gets as far as writing new ones."""
    after = snapshot(project)
    assert after.versions == before.versions  # no new version, no tag changed
    assert after.runs == before.runs  # no MLflow run left behind
    assert after.champion == before.champion == "1"
    assert after.audit == before.audit  # no audit event
    assert not [name for name in after.state if name.endswith(".tmp")]  # no partial file
    assert after.state == before.state


def refuse(project: Project, command: list[str], *fragments: str) -> str:
    before = snapshot(project)
    line = assert_refused(project.cli(*command), *fragments)
    assert_nothing_half_done(project, before)
    return line


def edit_config(project: Project, change: Callable[[dict[str, Any]], None]) -> None:
    document = project.config()
    change(document)
    project.write_config(document)


def data_file(project: Project, which: str) -> Path:
    return project.root / "data" / f"{which}.csv"


def rewrite(project: Project, which: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = data_file(project, which)
    change(pd.read_csv(path)).to_csv(path, index=False)


# -- data -------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["train", "eval"])
def test_missing_data_file(fresh: Callable[[], Project], which: str) -> None:
    project = fresh()
    data_file(project, which).unlink()
    refuse(project, ["run"], f"{which}.csv", "file not found", f"data.{which}")


@pytest.mark.parametrize("which", ["train", "eval"])
def test_empty_data_file(fresh: Callable[[], Project], which: str) -> None:
    project = fresh()
    data_file(project, which).write_text("")
    refuse(project, ["run"], f"{which}.csv", "file is empty")


@pytest.mark.parametrize("command", ["run", "train"])
def test_header_only_csv(fresh: Callable[[], Project], command: str) -> None:
    project = fresh()
    path = data_file(project, "eval")
    path.write_text(path.read_text().splitlines()[0] + "\n")
    refuse(project, [command], "eval.csv", "no data rows")


def test_missing_target(fresh: Callable[[], Project]) -> None:
    project = fresh()
    edit_config(project, lambda d: d["data"].update(target="churn"))
    refuse(
        project,
        ["run"],
        "train.csv",
        "target column 'churn'",
        "did you mean 'churned'?",
    )


def test_target_missing_from_eval_only(fresh: Callable[[], Project]) -> None:
    project = fresh()
    rewrite(project, "eval", lambda f: f.drop(columns=["churned"]))
    refuse(project, ["run"], "eval.csv", "target column 'churned' not found")


def test_wrong_delimiter(fresh: Callable[[], Project]) -> None:
    project = fresh()
    path = data_file(project, "eval")
    pd.read_csv(path).to_csv(path, index=False, sep=" ")
    refuse(project, ["run"], "eval.csv", "single column", "tab")


def test_non_numeric_strings_in_a_numeric_eval_column(fresh: Callable[[], Project]) -> None:
    project = fresh()

    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        frame["tenure_months"] = frame["tenure_months"].astype(object)
        frame.loc[7, "tenure_months"] = "twelve"
        return frame

    rewrite(project, "eval", spoil)
    refuse(project, ["run"], "eval.csv", "column 'tenure_months'", "'twelve'")


@pytest.mark.parametrize(
    ("spoil", "fragment"),
    [
        (lambda f: f.assign(tenure_months="twelve"), "'twelve'"),
        (lambda f: f.assign(age=float("nan")), "column 'age' has no values"),
        (lambda f: f.drop(columns=["plan"]), "missing column(s) 'plan'"),
    ],
    ids=["text-in-numeric", "all-nan", "missing-column"],
)
def test_eval_data_the_challenger_cannot_use_is_bad_input_for_evaluate(
    fresh: Callable[[], Project], spoil: Callable[[pd.DataFrame], pd.DataFrame], fragment: str
) -> None:
    project = fresh()  # train.json of the seed names v1, trained on the good data
    rewrite(project, "eval", spoil)
    refuse(project, ["evaluate"], "eval.csv", fragment)


@pytest.mark.parametrize("which", ["train", "eval"])
def test_all_nan_column(fresh: Callable[[], Project], which: str) -> None:
    project = fresh()
    rewrite(project, which, lambda f: f.assign(age=float("nan")))
    refuse(
        project,
        ["run"],
        f"{which}.csv",
        "column 'age' has no values",
        "data.exclude",
    )


def test_duplicate_column_names(fresh: Callable[[], Project]) -> None:
    project = fresh()
    path = data_file(project, "train")
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("region", "plan")
    path.write_text("\n".join(lines) + "\n")
    refuse(project, ["run"], "train.csv", "duplicate column", "'plan'")


def test_data_path_is_a_folder(fresh: Callable[[], Project]) -> None:
    project = fresh()
    data_file(project, "train").unlink()
    data_file(project, "train").mkdir()
    refuse(project, ["run"], "train.csv", "is a folder")


def test_binary_data_file(fresh: Callable[[], Project]) -> None:
    project = fresh()
    data_file(project, "train").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    refuse(project, ["run"], "train.csv", "not UTF-8")


def test_single_class_target(fresh: Callable[[], Project]) -> None:
    project = fresh()
    rewrite(project, "train", lambda f: f.assign(churned=0))
    before = snapshot(project)
    result = project.cli("train")
    assert_refused(result, "train.csv", "single class")
    assert_nothing_half_done(project, before)


# -- config and model -----------------------------------------------------------------------


def test_unknown_config_key(fresh: Callable[[], Project]) -> None:
    project = fresh()
    edit_config(project, lambda d: d["gates"][0].update(mn=0.9))
    refuse(project, ["run"], "podium.yaml", "gates[0].mn", "did you mean 'min'?")


def test_missing_config_file(fresh: Callable[[], Project]) -> None:
    project = fresh()
    before = snapshot(project)
    result = Project(project.root / "nowhere").cli("run")
    assert_refused(result, "nowhere/podium.yaml", "not found")
    assert snapshot(project) == before


@pytest.mark.parametrize("command", ["run", "train"])
def test_unknown_estimator_class(fresh: Callable[[], Project], command: str) -> None:
    project = fresh()
    project.set_estimator("sklearn.tree.DecisionTreeClassifer", max_depth=2)
    refuse(
        project,
        [command],
        "model.estimator.class",
        "DecisionTreeClassifer",
        "did you mean 'sklearn.tree.DecisionTreeClassifier'?",
    )


def test_unknown_estimator_param(fresh: Callable[[], Project]) -> None:
    project = fresh()
    project.set_estimator(WEAK, max_dept=2)
    refuse(
        project,
        ["train"],
        "model.estimator.params.max_dept",
        "did you mean 'max_depth'?",
    )


def test_invalid_estimator_param_value(fresh: Callable[[], Project]) -> None:
    project = fresh()
    project.set_estimator(WEAK, max_depth="deep")
    refuse(project, ["train"], "podium.yaml", "model.estimator.params", "'max_depth'")


def test_regressor_for_a_classification_task(fresh: Callable[[], Project]) -> None:
    project = fresh()
    project.set_estimator("sklearn.tree.DecisionTreeRegressor", max_depth=2)
    refuse(project, ["run"], "model.task is classification", "is a regressor")


def test_entrypoint_that_raises(fresh: Callable[[], Project]) -> None:
    project = fresh()
    (project.root / "train.py").write_text("def build():\n    raise RuntimeError('boom')\n")
    edit_config(
        project,
        lambda d: d.update(
            model={"name": "churn", "task": "classification", "entrypoint": "train.py:build"}
        ),
    )
    refuse(project, ["train"], "model.entrypoint", "RuntimeError: boom")


# -- stage order and registry arguments -----------------------------------------------------


def test_evaluate_before_train(fresh: Callable[[], Project]) -> None:
    project = fresh()
    (project.state / "train.json").unlink()
    refuse(project, ["evaluate"], "train.json", "podium train")


def test_promote_before_evaluate(fresh: Callable[[], Project]) -> None:
    project = fresh()
    (project.state / "evaluation.json").unlink()
    refuse(project, ["promote"], "evaluation.json", "podium evaluate")


@pytest.mark.parametrize("version", ["99", "v99"])
def test_rollback_to_an_unknown_version(fresh: Callable[[], Project], version: str) -> None:
    project = fresh()
    refuse(
        project,
        ["rollback", "--to", version, "--reason", "bad model"],
        "no version '99'",
        "known: 1",
    )


def test_rollback_to_something_that_is_not_a_version(fresh: Callable[[], Project]) -> None:
    project = fresh()
    refuse(
        project,
        ["rollback", "--to", "latest", "--reason", "bad model"],
        "--to 'latest'",
    )


def test_rollback_without_reason(fresh: Callable[[], Project]) -> None:
    project = fresh()
    refuse(project, ["rollback", "--to", "1"], "--reason")


def test_rollback_with_a_blank_reason(fresh: Callable[[], Project]) -> None:
    project = fresh()
    refuse(project, ["rollback", "--to", "1", "--reason", "  "], "--reason")


def test_rollback_without_a_previous_champion(fresh: Callable[[], Project]) -> None:
    project = fresh()
    refuse(
        project,
        ["rollback", "--reason", "bad model"],
        "no previous champion",
        "--to",
    )


def test_unknown_command_and_option() -> None:
    from tests.conftest import run_cli

    assert_refused(run_cli(["trian"]), "invalid choice")
    assert_refused(run_cli(["run", "--promote-now"]), "unrecognized arguments")


# -- the real entry point in a fresh interpreter ------------------------------------------------


def test_subprocess_missing_target(fresh: Callable[[], Project]) -> None:
    project = fresh()
    edit_config(project, lambda d: d["data"].update(target="churn"))
    before = snapshot(project)
    result = run_subprocess(["validate", "--config", "podium.yaml"], cwd=project.root)
    assert_refused(result, "target column 'churn'", "did you mean 'churned'?")
    assert result.out == ""
    assert_nothing_half_done(project, before)


def test_subprocess_unknown_config_key(fresh: Callable[[], Project]) -> None:
    project = fresh()
    edit_config(project, lambda d: d.update(registy={"tracking_uri": "sqlite:///x.db"}))
    before = snapshot(project)
    result = run_subprocess(["train"], cwd=project.root)  # default --config podium.yaml
    assert_refused(result, "podium.yaml", "unknown key 'registy'", "did you mean 'registry'?")
    assert_nothing_half_done(project, before)


def test_subprocess_empty_eval_file_in_actions_also_annotates(fresh: Callable[[], Project]) -> None:
    project = fresh()
    data_file(project, "eval").write_text("")
    before = snapshot(project)
    result = run_subprocess(
        ["validate", "--config", str(project.config_path)],
        cwd=project.root.parent,
        env={"GITHUB_ACTIONS": "true"},
    )
    line = assert_refused(result, "eval.csv", "file is empty")
    annotation = [x for x in result.out.splitlines() if x.startswith("::error")]
    assert len(annotation) == 1
    assert line.removeprefix("podium: ") in annotation[0]
    assert_nothing_half_done(project, before)


def test_seeded_results_are_what_later_stages_read(seeded: Project) -> None:
    """Guard for the suite itself: the seed really holds results a stage would trust,
    so their absence after a failure is meaningful."""
    evaluation = json.loads((seeded.state / "evaluation.json").read_text())
    assert evaluation["passed"] is True
    assert evaluation["challenger"]["version"] == "1"


# -- governance: card, reproduce ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        (["card", "--version", "9"], ("no version '9'", "known: 1")),
        (["card", "--version", "latest"], ("--version 'latest' is not a model version number",)),
        (["card", "--format", "pdf"], ("invalid choice: 'pdf'",)),
        (["reproduce", "--version", "1"], ("is not in a git repository",)),
        (["reproduce"], ("--version",)),
    ],
)
def test_governance_bad_input(
    fresh: Callable[[], Project], command: list[str], fragments: tuple[str, ...]
) -> None:
    refuse(fresh(), command, *fragments)


def test_reproduce_of_a_version_without_a_recorded_commit(fresh: Callable[[], Project]) -> None:
    import subprocess

    project = fresh()  # trained outside git: v1 has no recorded commit
    subprocess.run(["git", "init", "-q"], cwd=project.root, check=True)
    refuse(
        project,
        ["reproduce", "--version", "1"],
        "v1 of churn has no recorded commit",
    )
