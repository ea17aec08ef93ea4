"""`podium monitor`: production data against the champion, alerts on a loopback GitHub."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import Project
from tests.github_fake import BOT, FakeGitHub, serve
from tests.runner_commands import Runner


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()


def _production(
    project: Project, name: str, *, drift: bool = False, outcomes: str = "keep"
) -> Path:
    """Recent 'production' rows: the eval data, shifted when `drift`, outcomes kept,
    dropped or flipped."""
    frame = pd.read_csv(project.root / "data" / "eval.csv")
    if drift:
        frame["tenure_months"] = frame["tenure_months"] * 4 + 30
        frame["monthly_charges"] = frame["monthly_charges"] + 80
        frame["plan"] = "enterprise"
    if outcomes == "drop":
        frame = frame.drop(columns=["churned"])
    elif outcomes == "flip":
        frame["churned"] = 1 - frame["churned"]
    path = project.root / "data" / name
    frame.to_csv(path, index=False)
    return path


def _actions(github: FakeGitHub) -> dict[str, str]:
    return github.env()  # the job's own GITHUB_TOKEN, nothing else


def _result(project: Project) -> dict[str, Any]:
    loaded = json.loads((project.state / "monitor.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_no_drift_exits_0_and_sends_nothing(champion_project: Project, github: FakeGitHub) -> None:
    data = _production(champion_project, "prod.csv")
    result = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert result.code == 0, result.err + result.out
    assert github.requests == []
    found = _result(champion_project)
    assert found["passed"] and found["alerts"] == []
    assert found["champion_version"] == "1"
    assert found["labelled_rows"] == 600
    assert {f["feature"] for f in found["drift"]["features"]} >= {"tenure_months", "plan"}
    assert not any(f["drifted"] for f in found["drift"]["features"])
    roc_auc = next(m for m in found["metrics"] if m["metric"] == "roc_auc")
    assert roc_auc["drop"] == pytest.approx(0, abs=1e-9)  # the very rows it was evaluated on
    assert "looks healthy" in result.out
    assert "healthy: champion v1 of churn" in result.out


def test_drift_opens_one_issue_then_updates_it_and_requests_retraining(
    champion_project: Project, github: FakeGitHub
) -> None:
    github.add_pull(1)  # issues and pull requests share numbers; the list holds both
    github.add_issue("unrelated", "someone else's issue")
    data = _production(champion_project, "prod.csv", drift=True, outcomes="drop")

    first = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert first.code == 1, first.err + first.out
    assert "monitoring thresholds crossed" in first.err
    assert "tenure_months" in first.err
    issues = github.podium_issues()
    assert len(issues) == 1
    issue = issues[0]
    assert issue["title"] == "podium monitor · churn: data drift on champion v1"
    assert issue["body"].startswith("<!-- podium-monitor: churn -->")
    assert "retraining requested" in issue["body"]
    assert "no outcomes ('churned')" in issue["body"]
    # Retraining requested with the job's own token: the model's promote workflow, on main.
    (sent,) = github.dispatches
    assert (sent["workflow"], sent["ref"]) == ("podium-churn-promote.yml", "main")
    reason = sent["inputs"]["reason"]
    assert reason.startswith("podium monitor: ") and "features drifted" in reason
    assert reason.endswith(f"({issue['html_url']})")
    assert github.requests[-1].operation == "start_workflow"
    assert f"monitoring issue opened: {issue['html_url']}" in first.out

    second = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert second.code == 1
    assert len(github.podium_issues()) == 1  # updated, never a second one
    assert github.count("create_issue") == 1
    assert github.count("update_issue") <= 1  # only when the body changed (the time did)
    assert len(github.dispatches) == 2  # one per alerting run
    assert "monitoring issue updated" in second.out
    found = _result(champion_project)
    assert found["issue_url"] == issue["html_url"] and found["dispatched"]


def test_worse_live_metrics_alert_without_drift(
    champion_project: Project, github: FakeGitHub
) -> None:
    data = _production(champion_project, "prod.csv", outcomes="flip")
    result = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert result.code == 1
    found = _result(champion_project)
    roc_auc = next(m for m in found["metrics"] if m["metric"] == "roc_auc")
    assert roc_auc["alert"] and roc_auc["drop"] > 0.2
    assert roc_auc["champion"] == pytest.approx(1 - roc_auc["live"], abs=1e-9)
    assert not any(f["drifted"] for f in found["drift"]["features"])
    assert (
        github.podium_issues()[0]["title"]
        == "podium monitor · churn: degraded metrics on champion v1"
    )


def test_outside_actions_the_alert_is_printed_not_sent(
    champion_project: Project, github: FakeGitHub
) -> None:
    data = _production(champion_project, "prod.csv", drift=True)
    result = champion_project.cli("monitor", "--data", str(data))
    assert result.code == 1
    assert "<!-- podium-monitor: churn -->" in result.out
    assert "note: not in GitHub Actions: no issue, no dispatch" in result.out
    assert github.requests == []


def test_a_psi_alert_without_drifted_features_is_not_a_green_drift_section(
    champion_project: Project,
) -> None:
    # 20 production rows: PSI crossed monitor.max_psi (an alert, exit 1) while no feature
    # was significant enough to count as drifted, and the section said "Drift ✅". Here a
    # psi_threshold nothing reaches stands for the too-small sample.
    data = _production(champion_project, "prod.csv", drift=True)
    champion_project.update(monitor={"psi_threshold": 100, "max_psi": 0.25})
    result = champion_project.cli("monitor", "--data", str(data))
    assert result.code == 1
    assert "is above monitor.max_psi 0.25" in result.err
    assert "Drift ⚠️ 0 of 7 features drifted" in result.out
    assert "Drift ✅" not in result.out
    assert _result(champion_project)["drift"]["passed"] is False


def test_a_dispatch_token_overrides_the_job_token_for_the_retraining_request(
    champion_project: Project, github: FakeGitHub
) -> None:
    app = github.add_user("podium-app[bot]")
    data = _production(champion_project, "prod.csv", drift=True)
    env = {**_actions(github), "PODIUM_DISPATCH_TOKEN": app}
    result = champion_project.cli("monitor", "--data", str(data), env=env)
    assert result.code == 1
    assert len(github.dispatches) == 1
    sent = [r for r in github.requests if r.operation == "start_workflow"]
    assert len(sent) == 1
    assert len(github.podium_issues(login=github.bot)) == 1  # the issue: the job's token
    assert "retraining requested: the promote workflow was started" in result.out


def test_with_dispatch_off_the_issue_still_opens_and_says_what_is_next(
    champion_project: Project, github: FakeGitHub
) -> None:
    champion_project.update(monitor={"dispatch": False})
    data = _production(champion_project, "prod.csv", drift=True)
    result = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert result.code == 1
    assert github.dispatches == []
    assert len(github.podium_issues()) == 1
    assert "Next: retrain the model" in github.podium_issues()[0]["body"]


def test_monitor_data_and_thresholds_come_from_podium_yaml(
    champion_project: Project, github: FakeGitHub
) -> None:
    _production(champion_project, "prod.csv", drift=True)
    champion_project.update(
        monitor={
            "data": "data/prod.csv",
            "max_drifted_share": 1.0,
            "max_psi": 100,
            "max_metric_drop": 1.0,
        }
    )
    result = champion_project.cli("monitor", env=_actions(github))
    assert result.code == 0, result.err  # drifted, but within the configured thresholds
    assert github.requests == []


@pytest.mark.parametrize(
    ("bound", "passed"),
    [(0.428571428571428, True), (0.4, False)],
    ids=["three-sevenths-written-out", "below"],
)
def test_monitor_and_validate_judge_a_drifted_share_at_its_bound_alike(
    champion_project: Project, bound: float, passed: bool
) -> None:
    # The same shift in new training data (validate) and in production data (monitor):
    # 3 of 7 features drift. A bound of 3/7 written to 15 places sits within float noise
    # of the share, so both pass; below it both fail, each naming its own setting.
    prod = _production(champion_project, "prod.csv", drift=True, outcomes="drop")
    train = champion_project.root / "data" / "train.csv"
    shifted = pd.read_csv(prod)
    shifted["churned"] = pd.read_csv(train)["churned"].iloc[: len(shifted)].to_numpy()
    shifted.to_csv(train, index=False)
    champion_project.update(
        drift={"max_drifted_share": bound},
        monitor={"max_drifted_share": bound, "max_psi": 100},
    )

    validated = champion_project.cli("validate")
    validation = json.loads((champion_project.state / "validation.json").read_text())
    monitored = champion_project.cli("monitor", "--data", str(prod))
    found = _result(champion_project)

    assert validation["drift"]["drifted_share"] == found["drift"]["drifted_share"] == 3 / 7
    assert validation["drift"]["passed"] is passed
    assert (validated.code, monitored.code) == ((0, 0) if passed else (1, 1))
    assert found["passed"] is passed
    if not passed:
        assert "share 43% is above drift.max_drifted_share 0.4" in validated.err
        assert "share 43% is above monitor.max_drifted_share 0.4" in monitored.err


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: _production(p, "prod.csv").write_text(""), "file is empty (--data)"),
        (
            lambda p: (
                pd.read_csv(p.root / "data" / "eval.csv")
                .drop(columns=["tenure_months"])
                .to_csv(p.root / "data" / "prod.csv", index=False)
            ),
            "missing column(s) 'tenure_months'",
        ),
        (
            lambda p: (
                pd.read_csv(p.root / "data" / "eval.csv")
                .assign(age="old")
                .to_csv(p.root / "data" / "prod.csv", index=False)
            ),
            "column 'age' is numeric in the training data but has 600 non-numeric values 'old'",
        ),
    ],
    ids=["empty-file", "missing-column", "wrong-type"],
)
def test_bad_production_data_is_exit_2_named_and_sends_nothing(
    champion_project: Project, github: FakeGitHub, prepare: Callable[[Project], Any], message: str
) -> None:
    prepare(champion_project)
    data = champion_project.root / "data" / "prod.csv"
    result = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
    assert result.code == 2, result.err
    assert message in result.err
    assert str(data) in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert github.requests == []
    assert not (champion_project.state / "monitor.json").exists()


def test_no_champion_yet_is_exit_2(project: Project, github: FakeGitHub) -> None:
    data = _production(project, "prod.csv")
    result = project.cli("monitor", "--data", str(data), env=_actions(github))
    assert result.code == 2
    assert "has no champion yet: nothing to monitor" in result.err
    assert github.requests == []


def test_no_data_named_is_exit_2(project: Project) -> None:
    result = project.cli("monitor")
    assert result.code == 2
    assert "pass --data PATH or set monitor.data" in result.err


def test_a_bad_monitor_section_names_the_key(project: Project) -> None:
    project.update(monitor={"metrics": ["roc_acu"]})
    result = project.cli("monitor")
    assert result.code == 2
    assert "monitor.metrics" in result.err and "did you mean 'roc_auc'" in result.err


def test_production_data_from_a_sql_source(champion_project: Project, github: FakeGitHub) -> None:
    import sqlite3

    frame = pd.read_csv(champion_project.root / "data" / "eval.csv")
    with sqlite3.connect(champion_project.root / "data" / "warehouse.db") as connection:
        frame.to_sql("scored_requests", connection, index=False)
    champion_project.update(
        monitor={"data": {"uri": "sqlite:///data/warehouse.db", "table": "scored_requests"}}
    )
    result = champion_project.cli("monitor", env=_actions(github))
    assert result.code == 0, result.err
    assert _result(champion_project)["rows"] == 600
    assert github.requests == []


def test_a_foreign_issue_with_podiums_marker_is_never_edited(
    champion_project: Project, github: FakeGitHub
) -> None:
    """Anyone can open an issue that starts with podium's marker; podium opens its own,
    and prints the report (production data) where the runner reads no command in it."""
    planted = github.add_issue(
        "all good", "<!-- podium-monitor: churn -->\nno drift, close this", login="mallory"
    )
    data = _production(champion_project, "prod.csv", drift=True, outcomes="drop")
    for _ in range(2):
        result = champion_project.cli("monitor", "--data", str(data), env=_actions(github))
        assert result.code == 1, result.err + result.out
    assert github.issues[planted["number"]]["body"].endswith("no drift, close this")
    [mine] = github.podium_issues(login=BOT)
    assert mine["number"] != planted["number"] and "retraining requested" in mine["body"]
    assert github.count("create_issue") == 1 and github.foreign_edits() == []
    runner = Runner().feed(result.out).feed(result.err)
    assert [c.name for c in runner.commands][:3] == ["add-mask", "add-mask", "stop-commands"]
    assert not runner.stopped and "<!-- podium-monitor: churn -->" in result.out


def test_a_github_app_token_opens_the_issue_as_the_comment_author(
    champion_project: Project, github: FakeGitHub
) -> None:
    github.bot = "podium-app[bot]"
    github.add_issue("drift", "<!-- podium-monitor: churn -->\nby the workflow token", login=BOT)
    data = _production(champion_project, "prod.csv", drift=True, outcomes="drop")
    env = _actions(github)
    first = champion_project.cli(
        "monitor", "--data", str(data), "--comment-author", "podium-app[bot]", env=env
    )
    assert first.code == 1 and "monitoring issue opened" in first.out, first.err
    env["PODIUM_COMMENT_AUTHOR"] = "podium-app[bot]"
    second = champion_project.cli("monitor", "--data", str(data), env=env)
    assert second.code == 1 and "monitoring issue updated" in second.out, second.err
    assert len(github.podium_issues(login="podium-app[bot]")) == 1
    assert github.foreign_edits() == []


def test_every_run_records_whether_the_champion_loads_for_model_uptime(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    """A champion whose files are intact (they verify against their recorded sha256) but
    that no longer loads — the runtime it needs is gone — is an outage, recorded and
    alerted. (Files changed since registration are refused before any load: exit 2,
    tests/registry/test_integrity.py.)"""
    from tests.stages.test_train_command import NUMPY_SCRIPT, use_command

    gone = tmp_path / "runtime-gone"
    script = NUMPY_SCRIPT.replace(
        "    def predict(self, context, model_input, params=None):",
        f"    def load_context(self, context):\n        if os.path.exists({str(gone)!r}):\n"
        "            raise RuntimeError('the scoring runtime is gone')\n\n"
        "    def predict(self, context, model_input, params=None):",
        1,
    )
    project = make_project()
    use_command(project, script)
    assert project.cli("run").code == 0
    data = _production(project, "prod.csv")
    assert project.cli("monitor", "--data", str(data)).code == 0
    gone.write_text("")
    broken = project.cli("monitor", "--data", str(data))
    assert broken.code == 1, broken.err
    assert _result(project)["alerts"][0].startswith("champion v1 does not load: ")
    assert "the scoring runtime is gone" in _result(project)["alerts"][0]
    found = json.loads(project.cli("metrics", "--json").out)
    assert found["uptime"]["checks"] == 2 and found["uptime"]["failed_loads"] == 1
    assert found["uptime"]["share"] < 1.0
    assert found["feedback_loop"]["alerts"] == 1 and found["feedback_loop"]["pending"] == 1


# -- issue 31: max_metric_drop is relative by default -----------------------------------------


def test_a_small_rmse_change_in_dollars_is_no_alert_and_a_large_one_says_relative(
    tmp_path: Path, store_template: Path
) -> None:
    from tests.shaped import write_project

    project = Project(
        write_project(tmp_path / "house", "house", store_template=store_template).parent
    )
    assert project.cli("run").code == 0
    prod = project.root / "data" / "prod.csv"
    rows = pd.read_csv(project.root / "data" / "eval.csv")
    rows.assign(SalePrice=rows["SalePrice"] + 1500).to_csv(prod, index=False)
    small = project.cli("monitor", "--data", str(prod))
    # was: "rmse … is 312 worse than at the champion's evaluation (…; max_metric_drop 0.05)"
    assert small.code == 0, small.out + small.err
    rows.assign(SalePrice=rows["SalePrice"] * 1.4).to_csv(prod, index=False)
    large = project.cli("monitor", "--data", str(prod))
    assert large.code == 1
    assert "monitor.max_metric_drop 0.05 relative, 5%)" in large.out + large.err
    project.update(monitor={"max_metric_drop": 100.0, "metric_drop": "absolute"})
    rows.assign(SalePrice=rows["SalePrice"] + 5000).to_csv(prod, index=False)
    absolute = project.cli("monitor", "--data", str(prod))
    assert absolute.code == 1 and "monitor.max_metric_drop 100 absolute" in absolute.err
