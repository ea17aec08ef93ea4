"""`podium deploy` and `podium status` against a real platform driven by a real script.

The platform (platform_app.py) serves whatever model URI its deploy script (deploy_script.py)
asks for with `mlflow models serve`; podium runs the script as the environment's command,
verifies the live endpoint against the version's probe, moves `@staging`, restores the
previous version on failure, and records every attempt.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import STRONG, STRONG_PARAMS, Project
from tests.deploy.conftest import Platform, deploy_command


def _serving_project(make_project: Callable[..., Project], **deploy: Any) -> Project:
    project = make_project()
    document = project.config()
    document["serving"] = {"rows": 60, "requests": 5, "timeout_seconds": 120}
    document["deploy"] = deploy["targets"]
    project.write_config(document)
    return project


def _trail(registry: Any) -> list[tuple[str, str, str, str | None]]:
    from podium.registry.deployments import history

    return [(d.environment, d.version, d.outcome, d.previous) for d in history(registry)]


def _served(platform: Platform) -> str:
    with urllib.request.urlopen(f"{platform.admin}/current", timeout=5) as answer:
        found = json.loads(answer.read())["model_uri"]
    assert isinstance(found, str)
    return found


def test_deploy_verifies_live_catches_failures_restores_and_redeploys_after_rollback(
    make_project: Callable[..., Project],
    platform: Callable[[], Platform],
    registry_of: Callable[[Project], Any],
) -> None:
    staging = platform()
    target = {"environment": "staging", "command": deploy_command(staging), "url": staging.url}
    project = _serving_project(make_project, targets=[target])
    assert project.cli("run").code == 0  # v1: serving-checked, probe stored, champion

    first = project.cli("deploy")
    assert first.code == 0, first.err
    assert "deploy | deploying models:/churn/1 to staging (previous: none)" in first.out
    assert "staging: v1 deployed and verified (was nothing) — probe 60 rows, parity 100%" in (
        first.out
    )
    registry = registry_of(project)
    assert registry.alias("staging").version == "1"
    assert _served(staging) == "models:/churn/1"

    again = project.cli("deploy")  # nothing new: verified, not redeployed
    assert again.code == 0 and "staging: v1 already live and verified" in again.out
    assert "deploy | " not in again.out

    project.set_estimator(STRONG, **STRONG_PARAMS)
    assert project.cli("run").code == 0  # v2 is champion; v1 still live in staging

    def redeploy_with(*options: str, **extra: Any) -> Any:
        document = project.config()
        document["deploy"] = [{**target, "command": deploy_command(staging, *options), **extra}]
        project.write_config(document)
        return project.cli("deploy")

    broken = redeploy_with("--fail-version", "2")  # the command fails for v2
    assert broken.code == 1
    assert "helm: release failed: ImagePullBackOff" in broken.err
    assert "deploy to staging failed: deploy[staging].command" in broken.err
    assert "(v1 restored and verified)" in broken.err
    assert registry.alias("staging").version == "1"
    assert _served(staging) == "models:/churn/1"

    wrong = redeploy_with("--always-version", "1")  # asked for v2, puts v1 live
    assert wrong.code == 1
    assert "answered" in wrong.err and "probe rows differently" in wrong.err
    assert registry.alias("staging").version == "1"

    slow = redeploy_with(max_latency_ms=0.001)  # v2 live, but slower than allowed
    assert slow.code == 1
    assert "above deploy[staging].max_latency_ms 0.001" in slow.err
    assert "(v1 restored and verified)" in slow.err
    assert registry.alias("staging").version == "1"
    assert _served(staging) == "models:/churn/1"

    good = redeploy_with()
    assert good.code == 0, good.err
    assert "staging: v2 deployed and verified (was v1)" in good.out
    assert registry.alias("staging").version == "2"
    assert registry.champion().version == "2"

    status = project.cli("status", "--json")
    assert status.code == 0, status.err
    (live,) = json.loads(status.out)["environments"]
    assert (live["version"], live["healthy"], live["parity"]) == ("2", True, 1.0)

    assert project.cli("rollback", "--reason", "v2 misbehaves").code == 0
    pending = project.cli("status")
    assert "staging      v2" in pending.out and "(champion v1 not deployed yet)" in pending.out
    redeployed = project.cli("deploy")  # the rollback reaches the environment
    assert redeployed.code == 0, redeployed.err
    assert "staging: v1 deployed and verified (was v2)" in redeployed.out
    assert registry.alias("staging").version == "1"
    assert _served(staging) == "models:/churn/1"

    assert _trail(registry) == [
        ("staging", "1", "deployed", None),
        ("staging", "2", "failed", "1"),
        ("staging", "1", "restored", "2"),
        ("staging", "2", "failed", "1"),
        ("staging", "1", "restored", "2"),
        ("staging", "2", "failed", "1"),
        ("staging", "1", "restored", "2"),
        ("staging", "2", "deployed", "1"),
        ("staging", "1", "deployed", "2"),
    ]
    from podium.registry.deployments import history

    last = history(registry)[-1]
    assert last.parity == 1.0 and last.requests == 5 and last.latency_ms is not None
    assert last.seconds > 0 and last.actor

    # A model swapped outside podium: status says the endpoint no longer answers as v1.
    request = urllib.request.Request(
        f"{staging.admin}/deploy",
        data=json.dumps(
            {"model_uri": "models:/churn/2", "tracking_uri": registry.tracking_uri}
        ).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=300).close()
    swapped = project.cli("status")
    assert swapped.code == 1
    assert "staging: does not answer as v1" in swapped.err

    # monitor watches what is live in the last environment and probes every endpoint.
    watched = project.cli("monitor", "--data", str(project.root / "data" / "eval.csv"))
    assert watched.code == 1
    monitored = json.loads((project.state / "monitor.json").read_text())
    assert monitored["champion_version"] == "1"
    assert monitored["alerts"] == [
        next(a for a in monitored["alerts"] if a.startswith("endpoint staging: does not answer"))
    ]
    from podium.registry.deployments import probes

    (looked,) = probes(registry)
    assert (looked.environment, looked.version, looked.healthy, looked.up) == (
        "staging",
        "1",
        True,
        False,
    )

    found = json.loads(project.cli("metrics", "--json").out)["deployments"]
    (env,) = found
    assert (env["environment"], env["live_version"], env["attempts"], env["deployed"]) == (
        "staging",
        "1",
        6,
        3,
    )
    assert env["success_rate"] == 0.5
    assert env["change_failure_rate"] == 1 / 3  # v2 went live, then rolled back and undone
    assert env["restore_minutes"] is not None and env["lead_time_hours"] > 0
    assert (env["uptime"], env["probes"]) == (0.0, 1)
    table = {
        row["metric"]: row["shown"]
        for row in json.loads(project.cli("metrics", "--json").out)["table"]
    }  # with deploy: the table's deployment rows come from real deployments, not promotions
    assert table["deployment success rate"] == "50% of deployments to staging verified live (3/6)"
    assert table["deployment frequency"].endswith("verified deployments to staging / 30 days")
    assert table["model uptime"] == "0.0% of 1 probes of staging's endpoint up"
    shown = project.cli("metrics").out
    assert "deployments to staging: v1 live; " in shown and "uptime 0% (1 probes)" in shown


def test_environments_deploy_in_order_and_after_refuses_a_version_not_live_before(
    make_project: Callable[..., Project],
    platform: Callable[[], Platform],
    registry_of: Callable[[Project], Any],
) -> None:
    staging, production = platform(), platform()
    project = _serving_project(
        make_project,
        targets=[
            {"environment": "staging", "command": deploy_command(staging), "url": staging.url},
            {
                "environment": "production",
                "command": deploy_command(production),
                "url": "${PROD_URL}",
                "after": "staging",
                "max_latency_ms": 5000,
            },
        ],
    )
    env = {"PROD_URL": production.url}
    assert project.cli("run").code == 0

    early = project.cli("deploy", "--environment", "production", env=env)
    assert early.code == 2
    assert early.err.strip() == (
        "podium: deploy[production] comes after staging, where nothing is live, not v1; "
        "deploy v1 to staging first"
    )
    assert "deploy | " not in early.out  # nothing ran

    both = project.cli("deploy", env=env)
    assert both.code == 0, both.err
    lines = [line for line in both.out.splitlines() if not line.startswith("deploy | ")]
    assert lines[0].startswith("staging: v1 deployed and verified (was nothing)")
    assert lines[1].startswith("production: v1 deployed and verified (was nothing)")
    registry = registry_of(project)
    assert registry.alias("staging").version == registry.alias("production").version == "1"
    assert _served(production) == "models:/churn/1"
    status = json.loads(project.cli("status", "--json", env=env).out)
    assert [(e["environment"], e["version"], e["parity"]) for e in status["environments"]] == [
        ("staging", "1", 1.0),
        ("production", "1", 1.0),
    ]


def _marker_command() -> list[str]:
    import sys

    return [sys.executable, "-c", "open('ran', 'w').close()"]


@pytest.mark.parametrize(
    ("deploy", "expected"),
    [
        (
            [{"environment": "staging", "command": "x", "url": "http://a", "timout_minutes": 1}],
            "unknown key 'deploy[0].timout_minutes'; did you mean 'timeout_minutes'?",
        ),
        (
            [
                {"environment": "staging", "command": "x", "url": "http://a"},
                {"environment": "staging", "command": "x", "url": "http://b"},
            ],
            "deploy: two environments named 'staging'; rename one",
        ),
        (
            [{"environment": "production", "command": "x", "url": "http://a", "after": "stg"}],
            "'production' comes after 'stg', an unknown environment",
        ),
        (
            [
                {"environment": "production", "command": "x", "url": "http://a", "after": "qa"},
                {"environment": "qa", "command": "x", "url": "http://b"},
            ],
            "'production' comes after 'qa', a later environment",
        ),
        (
            [{"environment": "staging", "command": "x", "url": "ftp://a"}],
            "deploy[0].url: 'ftp://a' is not an http(s) URL",
        ),
        (
            [{"environment": "staging", "url": "http://a"}],
            "missing required key 'deploy[0].command'",
        ),
        ([{"environment": "staging", "command": "x"}], "missing required key 'deploy[0].url'"),
        ([{"environment": "champion", "command": "x", "url": "http://a"}], "an alias podium"),
        (
            [
                {
                    "environment": "staging",
                    "command": "x",
                    "url": "http://a",
                    "env": ["GITHUB_TOKEN"],
                }
            ],
            "'GITHUB_TOKEN' can write the registry or the repository; podium never hands it to "
            "a deploy command",
        ),
    ],
)
def test_a_bad_deploy_section_is_exit_2_on_one_line(
    champion_project: Project, deploy: list[dict[str, Any]], expected: str
) -> None:
    champion_project.update(deploy=deploy)
    result = champion_project.cli("deploy")
    assert result.code == 2
    assert expected in result.err and len(result.err.strip().splitlines()) == 1


def test_bad_deploy_requests_are_exit_2_naming_the_fix_and_run_nothing(
    champion_project: Project, registry_of: Callable[[Project], Any]
) -> None:
    project = champion_project
    target = {"environment": "staging", "command": _marker_command(), "url": "http://127.0.0.1:9"}
    project.update(deploy=[target, {**target, "environment": "production", "url": "${PROD}"}])
    cases = {
        ("--environment", "stagin"): "--environment 'stagin' is not in deploy: of",
        ("--environment", "staging", "--version", "7"): "model 'churn' has no version '7'",
        (): "deploy[production].url uses ${PROD} but PROD is not set",
        ("--environment", "staging"): "v1 of 'churn' has no serving probe",
    }
    for args, expected in cases.items():
        result = project.cli("deploy", *args)
        assert result.code == 2, (args, result.err)
        assert expected in result.err and len(result.err.strip().splitlines()) == 1, args
    assert "did you mean 'staging'?" in project.cli("deploy", "--environment", "stagin").err

    assert project.cli("train").code == 0  # v2: registered, never evaluated
    untried = project.cli("deploy", "--environment", "staging", "--version", "2")
    assert untried.code == 2
    assert "v2 of 'churn' never passed its gates (verdict: not evaluated)" in untried.err
    assert not (project.root / "ran").exists()
    registry = registry_of(project)
    assert registry.alias("staging") is None and registry.champion().version == "1"


ENV_DUMP = """
import json, os, sys
json.dump(dict(os.environ), open(sys.argv[1], "w"))
print("kubectl: connection refused", file=sys.stderr)
sys.exit(1)
"""


def test_the_command_gets_its_variables_and_secrets_but_never_podiums_credentials(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    import sys

    project = make_project()
    (project.root / "dump.py").write_text(ENV_DUMP)
    dumped = project.root / "env.json"
    target = {
        "environment": "production",
        "command": [sys.executable, "dump.py", str(dumped)],
        "url": "http://127.0.0.1:9",
        "secrets": ["AWS_ROLE_ARN"],
        "oidc": True,
        "env": ["KUBECONFIG"],  # set for it by an earlier step of the job
    }
    project = _serving_project(lambda: project, targets=[target])
    assert project.cli("run").code == 0
    held = {
        "GITHUB_TOKEN": "ghs_job_token",
        "MLFLOW_TRACKING_TOKEN": "mlflow-secret",
        "AWS_ROLE_ARN": "arn:aws:iam::1:role/deploy",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://oidc.invalid",
        "KUBECONFIG": "/home/runner/.kube/config",
        "AWS_SECRET_ACCESS_KEY": "not-listed",  # in the job, not handed to the command
    }
    failed = project.cli("deploy", env=held)
    assert failed.code == 1
    assert "deploy | kubectl: connection refused" in failed.err  # streamed, prefixed
    last = failed.err.strip().splitlines()[-1]  # then one line: why, and what was undone
    assert last.startswith("podium: deploy to production failed: deploy[production].command")
    assert "last stderr lines: kubectl: connection refused" in last
    assert last.endswith("(nothing was live there before)")
    seen = json.loads(dumped.read_text())
    assert seen["PODIUM_MODEL_URI"] == "models:/churn/1"
    assert (seen["PODIUM_MODEL_VERSION"], seen["PODIUM_PREVIOUS_VERSION"]) == ("1", "")
    assert seen["PODIUM_ENVIRONMENT"] == "production"
    assert seen["MLFLOW_TRACKING_URI"].startswith("sqlite:///")
    assert seen["AWS_ROLE_ARN"] == held["AWS_ROLE_ARN"]  # listed in secrets:
    assert seen["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == "oidc-request"  # oidc: true
    assert not seen.get("GITHUB_TOKEN") and not seen.get("MLFLOW_TRACKING_TOKEN")
    assert seen["KUBECONFIG"] == held["KUBECONFIG"]  # listed in env:
    assert "AWS_SECRET_ACCESS_KEY" not in seen  # the allowlist: never inherited unlisted
    registry = registry_of(project)
    assert registry.alias("production") is None
    assert _trail(registry) == [("production", "1", "failed", None)]

    slow = {**target, "command": [sys.executable, "-c", "import time; time.sleep(30)"]}
    project.update(deploy=[{**slow, "timeout_minutes": 0.02}])
    timed_out = project.cli("deploy")
    assert timed_out.code == 1
    assert "timed out after 0.02 min (deploy[production].timeout_minutes)" in timed_out.err
    assert _trail(registry)[-1] == ("production", "1", "failed", None)


def test_on_a_branch_kept_registry_a_deployment_is_one_pushed_commit(
    make_project: Callable[..., Project], platform: Callable[[], Platform], tmp_path: Any
) -> None:
    import subprocess

    def git(*args: str, cwd: Any = None) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin))
    staging = platform()
    target = {"environment": "staging", "command": deploy_command(staging), "url": staging.url}
    project = _serving_project(lambda: make_project(seeded=False), targets=[target])
    project.update(registry={"git_branch": "podium-registry"})
    git("init", "-q", cwd=project.root)
    git("remote", "add", "origin", str(origin), cwd=project.root)
    assert project.cli("run").code == 0

    deployed = project.cli("deploy")
    assert deployed.code == 0, deployed.err
    subjects = git("--git-dir", str(origin), "log", "--format=%s", "podium-registry")
    assert subjects.splitlines()[0] == "deploy churn v1 to staging: deployed"
    from podium.config import load
    from podium.stages import open_registry

    reopened = open_registry(load(project.config_path))  # fetched from origin again
    assert reopened.alias("staging").version == "1"
    assert _trail(reopened) == [("staging", "1", "deployed", None)]


def test_a_deployment_records_who_approved_it_and_the_card_lists_it(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any]
) -> None:
    """In Actions a deployment, like a champion move, records the triggering actor and who
    approved the environment's job (the run's approvals endpoint of the loopback GitHub);
    the version's model card lists it beside the champion moves."""
    import sys

    from podium.config import load
    from tests.github_fake import serve

    project = make_project()
    (project.root / "fail.py").write_text("import sys; sys.exit('kubectl: connection refused')\n")
    target = {
        "environment": "production",
        "command": [sys.executable, "fail.py"],
        "url": "http://127.0.0.1:9",
    }
    project = _serving_project(lambda: project, targets=[target])
    assert project.cli("run").code == 0
    for github in serve():
        github.review("4242", "alice", "production")
        env = github.env(
            GITHUB_ACTOR="octo",
            GITHUB_TRIGGERING_ACTOR="rerunner",
            MLFLOW_TRACKING_URI=load(project.config_path).tracking_uri,
        )
        failed = project.cli("deploy", env=env)
        assert failed.code == 1
        assert github.violations == []
        asked = [r.path for r in github.requests if r.operation == "run_approvals"]
        assert asked == ["/repos/acme/churn/actions/runs/4242/approvals"]
    from podium.registry.deployments import history

    (attempt,) = history(registry_of(project))
    assert (attempt.actor, attempt.triggering_actor, attempt.approvers) == (
        "octo",
        "rerunner",
        ["alice"],
    )
    card = json.loads(project.cli("card", "--version", "1", "--format", "json").out)
    deployed = [m for m in card["moves"] if m["action"].startswith("deploy")]
    assert [(m["action"], m["actor"], m["approvers"]) for m in deployed] == [
        ("deploy to production: failed", "octo", ["alice"])
    ]
    markdown = project.cli("card", "--version", "1").out
    assert "deploy to production: failed v1 (was none) by octo" in markdown
    assert "approved by alice" in markdown
