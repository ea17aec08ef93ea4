"""The `.podium/` result models: round trips, and untrusted files refused in one line.

In the pull-request comment workflow a fork's run uploads these files, so every crafted
file below goes through the real `podium report` on a project: exit 2, one stderr line
naming the file, what is wrong and the fix, no traceback, nothing rendered.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium import results
from podium.errors import InputError
from podium.results import (
    Evaluation,
    Monitor,
    Promotion,
    Training,
    Validation,
)
from tests.conftest import Project
from tests.report.test_comparison import CASES, evaluation, failed_validation, training, validation

MODEL = "churn-classifier"


def monitored() -> dict[str, Any]:
    """A monitor.json as `podium monitor` writes it after a drift alert."""
    return {
        "model_name": MODEL,
        "champion_version": "12",
        "passed": False,
        "alerts": ["1 of 2 features drifted (tenure_months): share 50% is above 0.3"],
        "notes": [],
        "data": {"path": "/repo/prod.csv", "rows": 600, "columns": 14, "sha256": "ab" * 32},
        "rows": 600,
        "labelled_rows": 0,
        "drift": {
            "reference_version": "12",
            "passed": None,
            "drifted_share": 0.5,
            "max_drifted_share": 0.3,
            "max_psi": None,
            "features": validation()["drift"]["features"],
        },
        "metrics": [
            {"metric": "roc_auc", "live": 0.7, "champion": 0.86, "drop": 0.16, "alert": True}
        ],
        "max_metric_drop": 0.05,
        "checked_at": "2026-01-02T03:04:05Z",
        "issue_url": None,
        "issue_created": None,
        "dispatched": False,
        "skipped": ["not in GitHub Actions: no issue, no dispatch"],
    }


EXAMPLES: dict[str, tuple[Any, Callable[[], dict[str, Any]]]] = {
    "validation": (Validation, validation),
    "failed validation": (Validation, failed_validation),
    "training": (Training, training),
    "evaluation": (Evaluation, evaluation),
    "evaluation with insight": (Evaluation, lambda: copy.deepcopy(CASES["insight"]["evaluation"])),
    "first champion": (
        Evaluation,
        lambda: copy.deepcopy(CASES["first_champion_promoted"]["evaluation"]),
    ),
    "promotion": (
        Promotion,
        lambda: {
            "promoted": True,
            "champion_version": "14",
            "previous_version": None,
            "reason": "gates passed",
        },
    ),
    "monitor": (Monitor, monitored),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_save_then_load_gives_the_same_result(name: str, tmp_path: Path) -> None:
    model, example = EXAMPLES[name]
    original = model.model_validate(example())
    path = original.save(tmp_path)
    assert path == tmp_path / model.FILE
    written = json.loads(path.read_text())
    assert written["schema"] == results.SCHEMA
    assert {k: v for k, v in written.items() if k != "schema"}.keys() == set(model.model_fields) - {
        "schema_version"
    }
    loaded = model.load(tmp_path, needed_by="report", model=MODEL)
    assert loaded == original
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


def test_the_json_keeps_the_fields_of_the_files_before_the_models(tmp_path: Path) -> None:
    """Same names and shape as before (plus `schema`): readers of the files keep working."""
    fixture = evaluation()
    Evaluation.model_validate(fixture).save(tmp_path)
    written = json.loads((tmp_path / results.EVALUATION).read_text())
    for key, value in fixture.items():
        if key == "checks":
            assert [{k: c[k] for k in value[0]} for c in written[key]] == value
        else:
            assert written[key] == value, key
    assert list(written)[:3] == ["schema", "model_name", "tracking_uri"]


def test_numbers_that_could_not_be_computed_are_written_as_null(tmp_path: Path) -> None:
    scored = evaluation()
    scored["challenger"]["metrics"]["roc_auc"] = float("nan")
    scored["checks"][0]["challenger"] = float("inf")
    Evaluation.model_validate(scored).save(tmp_path)
    written = json.loads((tmp_path / results.EVALUATION).read_text())
    assert written["challenger"]["metrics"]["roc_auc"] is None
    assert written["checks"][0]["challenger"] is None


def test_a_missing_file_names_the_stage_to_run(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        Evaluation.load(tmp_path, needed_by="promote")
    assert str(refused.value) == (
        f"{tmp_path / 'evaluation.json'}: not found; `podium promote` needs the result of "
        "`podium evaluate` — run that first"
    )
    assert Evaluation.load_optional(tmp_path) is None


def test_a_refused_promotion_is_a_failed_outcome_but_writes_no_extra_key(tmp_path: Path) -> None:
    refused = Promotion.refused("12", "roc_auc regressed", "not promoted: v14 failed its gates")
    assert not refused.passed and refused.failure == "not promoted: v14 failed its gates"
    refused.save(tmp_path)
    loaded = Promotion.load(tmp_path, needed_by="report")
    assert loaded.passed and loaded.promoted is False  # the refusal is the run's, not the file's
    assert "failure" not in json.loads((tmp_path / results.PROMOTION).read_text())


# ------------------------------------------------------------------ untrusted files


@pytest.fixture
def reported(make_project: Callable[..., Project]) -> Project:
    """A project whose `.podium/` holds valid validate/train/evaluate results."""
    project = make_project(name=MODEL)
    Validation.model_validate(validation()).save(project.state)
    Training.model_validate(training()).save(project.state)
    Evaluation.model_validate(evaluation()).save(project.state)
    return project


def _edit(project: Project, name: str, change: Callable[[dict[str, Any]], object]) -> None:
    path = project.state / name
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _replace(project: Project, name: str, old: str, new: str) -> None:
    path = project.state / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def refused(project: Project, *fragments: str) -> str:
    """`podium report` exits 2 with one line naming the culprit; nothing rendered."""
    result = project.cli("report")
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not (project.state / "report.md").exists()
    # nothing from the file can become a workflow command (those start a line)
    assert not any(line.startswith("::") for line in (result.out + result.err).splitlines())
    return lines[0]


def test_the_valid_results_render(reported: Project) -> None:
    result = reported.cli("report")
    assert result.code == 0, result.err
    assert "challenger **v14**" in (reported.state / "report.md").read_text()


EVALUATION_FIX = ("evaluation.json", "re-run `podium evaluate`")


def test_a_file_from_before_schemas_is_stale(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.pop("schema"))
    refused(reported, *EVALUATION_FIX, "is stale", "no schema version", "reads 1")


def test_an_older_schema_is_stale(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.update(schema=0))
    refused(reported, *EVALUATION_FIX, "is stale", "schema 0")


def test_a_newer_schema_asks_for_a_newer_podium(reported: Project) -> None:
    _edit(reported, "train.json", lambda d: d.update(schema=7))
    refused(reported, "train.json", "newer podium (schema 7", "upgrade podium or re-run")


def test_results_of_another_model_are_refused(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.update(model_name="someone-else"))
    refused(reported, *EVALUATION_FIX, 'is for model "someone-else", not "churn-classifier"')


def test_a_wrong_type_names_the_key(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.update(passed="yes"))
    refused(reported, *EVALUATION_FIX, "passed: Input should be a valid boolean")


def test_numbers_are_not_coerced_from_strings(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d["eval"].update(rows="12052"))
    refused(reported, *EVALUATION_FIX, "eval.rows: Input should be a valid integer")


def test_a_number_too_large_for_a_float_is_refused(reported: Project) -> None:
    _replace(reported, "evaluation.json", '"rows": 12052', '"rows": 1e999')
    refused(reported, *EVALUATION_FIX, "eval.rows: is not a finite number")


def test_nan_is_not_json(reported: Project) -> None:
    _replace(reported, "evaluation.json", '"roc_auc": 0.8731', '"roc_auc": NaN')
    refused(reported, *EVALUATION_FIX, "is not valid JSON")


@pytest.mark.parametrize("depth", [40, 200_000])
def test_deep_nesting_is_refused(reported: Project, depth: int) -> None:
    _replace(reported, "evaluation.json", '"task": "classification"', f'"task": {_nest(depth)}')
    refused(reported, *EVALUATION_FIX, "nested deeper than 32 levels")


def test_an_oversized_file_is_refused_before_it_is_parsed(reported: Project) -> None:
    path = reported.state / "evaluation.json"
    with path.open("a") as handle:
        handle.write(" " * (results.MAX_BYTES + 1))
    refused(reported, *EVALUATION_FIX, "is larger than 20 MB")


def test_a_version_carrying_a_workflow_command_is_refused(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d["challenger"].update(version="1\n::warning::x"))
    line = refused(reported, *EVALUATION_FIX, "challenger.version: String should match pattern")
    assert "::warning" not in line  # the value is never echoed


def test_an_unknown_key_is_refused(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.update(challenger_version="14"))
    refused(reported, *EVALUATION_FIX, "challenger_version: unknown key")


def test_a_hostile_unknown_key_is_shown_harmlessly(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d["challenger"]["metrics"].update({"a": "b"}))
    refused(reported, *EVALUATION_FIX, "challenger.metrics.a: Input should be a valid number")
    _edit(reported, "evaluation.json", lambda d: d["challenger"]["metrics"].pop("a"))
    _edit(reported, "evaluation.json", lambda d: d.update({"x\n::warning::y" * 20: 1}))
    refused(reported, *EVALUATION_FIX, "unknown key", '"x\\n::warning::y')


def test_not_an_object_is_refused(reported: Project) -> None:
    (reported.state / "evaluation.json").write_text("[]")
    refused(reported, *EVALUATION_FIX, "is not a JSON object")


def test_a_run_id_must_be_hex(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d["challenger"].update(run_id="../../etc"))
    refused(reported, *EVALUATION_FIX, "challenger.run_id: String should match pattern")


def test_shares_stay_between_0_and_1(reported: Project) -> None:
    _edit(reported, "validation.json", lambda d: d["drift"].update(drifted_share=1.5))
    refused(
        reported,
        "validation.json",
        "re-run `podium validate`",
        "drift.drifted_share: Input should be less than or equal to 1",
    )


def test_rows_are_not_negative(reported: Project) -> None:
    _edit(reported, "train.json", lambda d: d["train"].update(rows=-1))
    refused(reported, "train.json", "re-run `podium train`", "train.rows: Input should be greater")


def test_long_strings_are_refused(reported: Project) -> None:
    _edit(reported, "evaluation.json", lambda d: d.update(task="x" * 10_001))
    refused(reported, *EVALUATION_FIX, "task: String should have at most 10000 characters")


def test_thousands_of_fake_metrics_are_refused(reported: Project) -> None:
    metrics = {f"fake_{i}": 0.5 for i in range(results.MAX_METRICS + 1)}
    _edit(reported, "evaluation.json", lambda d: d["challenger"].update(metrics=metrics))
    refused(reported, *EVALUATION_FIX, "challenger.metrics: Dictionary should have at most 1000")


def test_a_bad_file_another_stage_reads_is_refused_the_same_way(reported: Project) -> None:
    """`podium evaluate` reads train.json through the same model (before MLflow is opened)."""
    _edit(reported, "train.json", lambda d: d.update(version="latest"))
    result = reported.cli("evaluate")
    assert result.code == 2 and len(result.err.splitlines()) == 1, result.err
    assert "train.json: version: String should match pattern" in result.err
    assert "re-run `podium train`" in result.err


def test_an_unreadable_file_is_refused(reported: Project) -> None:
    (reported.state / "evaluation.json").write_bytes(b'{"model_name": "\xff"}')
    refused(reported, *EVALUATION_FIX, "is not valid JSON")


def test_state_folder_is_created_git_ignored_and_an_existing_one_is_left_alone(
    tmp_path: Path,
) -> None:
    state = tmp_path / "project" / ".podium"
    written = results.write_state(state, "validation.json", "{}\n")
    assert written.read_text() == "{}\n"
    assert (state / ".gitignore").read_text() == results.STATE_GITIGNORE
    assert "*" in results.STATE_GITIGNORE.splitlines()  # everything inside, itself included

    mine = tmp_path / "mine" / ".podium"
    mine.mkdir(parents=True)  # made by the user (or an older podium): not podium's to change
    results.write_state(mine, "report.md", "# r\n")
    assert sorted(p.name for p in mine.iterdir()) == ["report.md"]
