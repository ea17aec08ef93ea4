"""`podium maturity`: the repository graded against levels 0–2 from what is configured and
recorded — real git repositories, real workflows from `podium init`, a real sqlite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import Project
from tests.stages.test_card import commit_all


def graded(project: Project) -> dict[str, Any]:
    result = project.cli("maturity", "--json")
    assert result.code == 0, result.err
    loaded = json.loads(result.out)
    assert isinstance(loaded, dict)
    return loaded


def checks(found: dict[str, Any]) -> dict[str, bool | None]:
    return {c["name"]: c["passed"] for c in found["checks"]}


def test_a_new_project_is_level_0_with_a_fix_per_failed_check(project: Project) -> None:
    commit_all(project.root)
    found = graded(project)
    assert found["level"] == 0
    assert checks(found) == {
        "workflows generated and current": False,
        "committed expectation suite": False,
        "drift gated": False,
        "durable registry": False,
        "retraining triggers": True,  # ci.retrain_cron is on by default
        "monitoring on production data": False,
        "significance on gates": False,
        "slices": False,
        "deployment staging → production": False,
        "rollback": False,
        "reproduction verified": None,  # no champion yet: nothing recorded to grade
        "model cards": None,
    }
    assert found["next_steps"] == [
        "workflows generated and current: run `podium init` and commit .github/workflows",
        "committed expectation suite: run `podium suggest`, review the suite, commit it and "
        "set data.expectations",
        "drift gated: set drift.max_drifted_share (e.g. 0.3) or drift.max_psi in podium.yaml",
    ]
    text = project.cli("maturity").out.splitlines()
    assert text[0].startswith("✗ L1 workflows generated and current: stale or missing: ")
    assert "churn: level 0 (manual process)" in text
    assert text[-3:] == [f"next: {step}" for step in found["next_steps"]]


def test_a_configured_repository_reaches_level_1_and_says_what_level_2_needs(
    project: Project,
) -> None:
    document = project.config()
    document["registry"] = {"tracking_uri": "https://mlflow.example.com"}
    document["drift"] = {"max_drifted_share": 0.3}
    document["monitor"] = {"data": "data/eval.csv"}
    document["gates"] = [{"metric": "roc_auc", "min": 0.6, "min_delta": 0.0, "significant": True}]
    document["slices"] = ["region"]
    project.write_config(document)
    project.expect_tenure_below(100)
    commit_all(project.root)
    assert project.cli("init").code == 0
    commit_all(project.root, "workflows")

    found = graded(project)

    assert found["level"] == 1
    passed = checks(found)
    assert all(passed[name] for name in list(passed)[:6]), passed
    assert passed["significance on gates"] and passed["slices"] and passed["rollback"]
    assert passed["deployment staging → production"] is False
    assert passed["reproduction verified"] is None  # a server: not read offline
    assert found["next_steps"][0].startswith("deployment staging → production: add `deploy:`")

    # A workflow edited by hand, or a suite changed and not committed, drops the level.
    suite = project.root / "suite.json"
    suite.write_text(suite.read_text().replace("100", "120"))
    again = graded(project)
    assert again["level"] == 0
    assert checks(again)["committed expectation suite"] is False
    assert "suite.json has uncommitted changes" in json.dumps(again)


def test_reproduction_and_the_model_card_are_read_from_the_registry(project: Project) -> None:
    commit_all(project.root)
    assert project.cli("run").code == 0
    before = checks(graded(project))
    assert before["model cards"] is True  # written at promotion
    assert before["reproduction verified"] is False
    assert project.cli("reproduce", "--version", "1").code == 0
    assert checks(graded(project))["reproduction verified"] is True


def test_deploy_environments_are_read_from_the_yaml_itself(
    project: Project, tmp_path: Path
) -> None:
    """`deploy:` may be newer than this config model: the check reads the YAML."""
    from podium.config import Config, load
    from podium.stages.maturity import maturity

    loaded = load(project.config_path)
    staged = tmp_path / "podium.yaml"
    document = project.config()
    document["deploy"] = [
        {"environment": "staging", "command": "./deploy.sh"},
        {"environment": "production", "command": "./deploy.sh", "after": "staging"},
    ]
    staged.write_text(yaml.safe_dump(document))
    found = maturity(config=Config(loaded.raw, staged))
    check = next(c for c in found.checks if c.name.startswith("deployment"))
    assert (check.passed, check.why) == (True, "staging → production")
    document["deploy"] = document["deploy"][1:]
    staged.write_text(yaml.safe_dump(document))
    check = next(
        c
        for c in maturity(config=Config(loaded.raw, staged)).checks
        if c.name.startswith("deployment")
    )
    assert (check.passed, check.why) == (False, "one environment only (production)")
