"""Static proof for the composite actions and the generated workflows.

zizmor (offline, no findings), actionlint and check-jsonschema's GitHub schemas on every
action.yml and every workflow `podium init` renders, for the default `ci:` section and
for a customised one; plus the security properties the design promises, read from the
YAML itself (pinning, permissions, env-only inputs, fork safety).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ACTIONS = sorted((REPO / "actions").glob("*/action.yml"))
STAGES = {
    "setup",
    "validate",
    "train",
    "evaluate",
    "report",
    "promote",
    "rollback",
    "monitor",
    "deploy",
}
CI_WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_VERSION_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+(\.\d+)*$")


def tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.is_file():
        pytest.fail(f"{name} is not installed next to {sys.executable}: pip install -e '.[test]'")
    return str(path)


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


CUSTOM_CI = {
    "python": "3.12",
    "runs_on": ["self-hosted", "linux", "gpu"],
    "main_branch": "release/ml",
    "retrain_cron": "15 3 * * 1-5",
    "environment": "model registry",
    "secrets": {"tracking_uri": "TEAM_MLFLOW_URI"},
    "actions": "acme/podium@0123456789abcdef0123456789abcdef01234567",
}


@pytest.fixture(
    scope="module",
    params=["default", "custom", "subfolder", "two models", "git branch", "deploy git branch"],
)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with `podium init` workflows; returns its workflows folder."""
    from unittest import mock

    # podium installed from git (direct_url.json records the commit): its actions pinned.
    with mock.patch("podium.stages.init.release_commit", return_value=RELEASE):
        return _generate(request.param, tmp_path_factory)


RELEASE = "fedcba9876543210fedcba9876543210fedcba98"


def _generate(param: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp(f"init-{param.replace(' ', '-')}")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    project = root / "models" / "churn" if param in {"subfolder", "two models"} else root
    project.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "model": {"name": "churn", "task": "classification", "entrypoint": "train.py:build"},
        "data": {"train": "data/train.csv", "eval": "data/eval.csv", "target": "churned"},
    }
    if param == "two models":
        # Path filters on both (a model per folder, shared code in ci.paths); init finds both.
        document["ci"] = {"paths": ["lib/**"]}
        fraud = root / "models" / "fraud"
        fraud.mkdir(parents=True)
        other = {**document, "model": {**document["model"], "name": "fraud"}}
        (fraud / "podium.yaml").write_text(yaml.safe_dump(other))
        (project / "podium.yaml").write_text(yaml.safe_dump(document))
        with contextlib.chdir(root):
            result = run_cli(["init"])
        assert result.code == 0, result.err
        assert len(list((root / ".github" / "workflows").glob("podium-fraud-*.yml"))) == 5
        return root / ".github" / "workflows"
    if param in {"git branch", "deploy git branch"}:
        document["registry"] = {"git_branch": "podium-registry"}
    if param == "deploy git branch":
        document["deploy"] = DEPLOY
    if param == "custom":
        document["ci"] = CUSTOM_CI
        # What a team with GPU runners tells actionlint about its own runner labels.
        (root / ".github").mkdir()
        (root / ".github" / "actionlint.yaml").write_text("self-hosted-runner:\n  labels: [gpu]\n")
    (project / "podium.yaml").write_text(yaml.safe_dump(document))
    result = run_cli(["init", "--config", str(project / "podium.yaml")])
    assert result.code == 0, result.err
    return root / ".github" / "workflows"


# Two environments; production is the default ci.environment too (one approval, not two).
DEPLOY = [
    {"environment": "staging", "command": "./deploy.sh", "url": "https://staging.example.com"},
    {
        "environment": "production",
        "command": ["./deploy.sh", "--prod"],
        "url": "${PROD_URL}",
        "after": "staging",
        "secrets": ["AWS_ROLE_ARN"],
        "oidc": True,
    },
]


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def all_steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


# -- the three linters ------------------------------------------------------------------


def test_zizmor_finds_nothing_in_the_actions() -> None:
    result = run(
        tool("zizmor"), "--offline", "--strict-collection", "--no-progress", str(REPO / "actions")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_finds_nothing_in_the_projects_own_ci() -> None:
    """With the repository's .github/zizmor.yml (which explains its one disabled audit)."""
    result = run(
        tool("zizmor"), "--offline", "--no-progress", str(REPO / ".github" / "workflows"), cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_finds_nothing_in_the_generated_workflows(generated: Path) -> None:
    result = run(
        tool("zizmor"), "--offline", "--strict-collection", "--no-progress", str(generated)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_would_catch_an_injection(tmp_path: Path) -> None:
    """The check above can fail: the same run flags `${{ }}` of event data inside run:."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    result = run(tool("zizmor"), "--offline", "--no-progress", str(workflows))
    assert result.returncode != 0
    assert "template-injection" in result.stdout


def test_actionlint_accepts_the_generated_workflows(generated: Path) -> None:
    files = sorted(str(p) for p in generated.glob("*.yml"))
    result = run(tool("actionlint"), "-oneline", *files, cwd=generated.parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_accepts_the_ci_workflow_and_the_local_actions_it_uses() -> None:
    """actionlint checks a local action's metadata (inputs, outputs) where a workflow uses it."""
    ci = load(CI_WORKFLOW)
    used = {
        s["uses"].removeprefix("./actions/")
        for s in all_steps(ci)
        if str(s.get("uses", "")).startswith("./actions/")
    }
    # deploy needs an endpoint to verify: the smoke test has none (tests/deploy drives the
    # command against a real platform; the generated workflows use the action).
    assert used == STAGES - {"deploy"}
    result = run(tool("actionlint"), "-oneline", str(CI_WORKFLOW), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_schema_accepts_the_generated_workflows(generated: Path) -> None:
    files = sorted(str(p) for p in generated.glob("*.yml"))
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schemas_accept_the_actions_and_the_ci_workflow() -> None:
    actions = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", *map(str, ACTIONS)
    )
    assert actions.returncode == 0, actions.stdout + actions.stderr
    ci = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(CI_WORKFLOW)
    )
    assert ci.returncode == 0, ci.stdout + ci.stderr


# -- what the design promises, read from the YAML ---------------------------------------


def test_every_stage_has_a_documented_thin_action() -> None:
    assert {p.parent.name for p in ACTIONS} == STAGES
    for path in ACTIONS:
        action = load(path)
        where = path.relative_to(REPO)
        assert action["name"] and action["description"], where
        assert set(action["branding"]) == {"icon", "color"}, where
        for kind in ("inputs", "outputs"):
            for key, spec in (action.get(kind) or {}).items():
                assert spec.get("description"), f"{where}: {kind}.{key} has no description"
                assert re.fullmatch(r"[a-z]+(-[a-z]+)*", key), f"{where}: {key} is not kebab-case"
        assert action["runs"]["using"] == "composite"
        runs = [s for s in action["runs"]["steps"] if "run" in s]
        for step in runs:
            assert "${{" not in step["run"], f"{where}: an expression inside run: — use env:"
            assert step["shell"] == "bash"
        if path.parent.name != "setup":
            assert len(runs) == 1, where
            assert re.search(
                rf"(^|\n)podium {path.parent.name} --config \"\$PODIUM_CONFIG\"", runs[0]["run"]
            )
            assert {"config", "working-directory"} <= set(action["inputs"])
            assert runs[0]["working-directory"] == "${{ inputs.working-directory }}"


def test_the_actions_have_the_documented_inputs_and_outputs() -> None:
    actions = {p.parent.name: load(p) for p in ACTIONS}
    assert set(actions["report"]["inputs"]) >= {"github-token", "pr-number"}
    assert set(actions["rollback"]["inputs"]) >= {"version", "reason"}
    assert actions["rollback"]["inputs"]["reason"]["required"] is True
    assert set(actions["train"]["outputs"]) == {"model-version", "run-id"}
    assert set(actions["evaluate"]["outputs"]) == {"passed"}
    assert set(actions["promote"]["outputs"]) == {"promoted", "champion-version"}
    assert set(actions["rollback"]["outputs"]) == {"champion-version"}
    assert set(actions["deploy"]["inputs"]) >= {"environment", "version"}
    assert set(actions["deploy"]["outputs"]) == {"deployed"}
    assert set(actions["monitor"]["inputs"]) >= {"data", "github-token", "dispatch-token"}
    assert set(actions["monitor"]["outputs"]) == {"alert", "issue-url"}


@pytest.mark.parametrize(
    ("version", "expected"),
    [("7", ["--to", "7"]), ("", [])],
    ids=["named version", "previous champion"],
)
def test_the_rollback_action_passes_the_model_version_to_restore(
    tmp_path: Path, version: str, expected: list[str]
) -> None:
    # The env name says what it holds — the model version to restore — so it cannot be
    # read as podium's own version; the step itself runs, against a stand-in `podium`.
    step = load(REPO / "actions" / "rollback" / "action.yml")["runs"]["steps"][0]
    assert step["env"]["PODIUM_ROLLBACK_TO"] == "${{ inputs.version }}"
    fake = tmp_path / "podium"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "PODIUM_CONFIG": "podium.yaml",
        "PODIUM_REASON": "bad release",
        "PODIUM_ROLLBACK_TO": version,
    }
    done = subprocess.run(
        ["bash", "-c", step["run"]], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "rollback",
        "--config",
        "podium.yaml",
        "--reason",
        "bad release",
        *expected,
    ]


def _third_party_uses(path: Path) -> list[tuple[str, str]]:
    """(uses, the raw line) for every non-local, non-podium action reference."""
    found = []
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(?:-\s+)?uses:\s+(\S+)(.*)$", line)
        if (
            match
            and not match.group(1).startswith("./")
            and "/podium/actions/" not in match.group(1)
        ):
            found.append((match.group(1), line.strip()))
    return found


def test_third_party_actions_are_pinned_by_sha_with_a_version_comment(generated: Path) -> None:
    files = [*ACTIONS, *generated.glob("*.yml"), CI_WORKFLOW]
    seen = 0
    for path in files:
        for uses, line in _third_party_uses(path):
            seen += 1
            assert _PINNED.match(uses), f"{path.name}: {uses} is not pinned by a full SHA"
            assert _VERSION_COMMENT.search(line), f"{path.name}: {line} lacks a '# vX.Y.Z' comment"
    assert seen >= 10


def test_permissions_are_empty_at_the_top_and_least_privilege_per_job(generated: Path) -> None:
    # With the registry on a branch, exactly the jobs that write it may push (contents: write).
    writes = "write" if "git-branch" in str(generated) else "read"
    allowed = {
        "podium-churn-pr.yml": {"challenger": {"contents": "read"}},
        "podium-churn-pr-comment.yml": {
            "comment": {
                "actions": "read",
                "contents": "read",
                "pull-requests": "write",
                "statuses": "write",
            }
        },
        "podium-churn-promote.yml": {
            "scope": {},
            "challenger": {"contents": writes, "statuses": "write"},
            # actions: read — who approved the protected environment (the audit trail)
            "promote": {"contents": writes, "actions": "read"},
        },
        "podium-churn-rollback.yml": {"rollback": {"contents": writes, "actions": "read"}},
        "podium-churn-monitor.yml": {
            # monitor records its health check of the champion (model uptime) on the branch
            "monitor": {"contents": writes, "issues": "write", "actions": "write"}
        },
    }
    if "deploy" in str(generated):  # one job per environment after @champion moved
        # actions: read: podium deploy records who approved the environment's job
        staging = {"contents": writes, "actions": "read"}
        production = {"contents": writes, "actions": "read", "id-token": "write"}  # oidc there
        for name in ("podium-churn-promote.yml", "podium-churn-rollback.yml"):
            allowed[name] |= {"deploy-staging": staging, "deploy-production": production}
    for name, jobs in allowed.items():
        workflow = load(generated / name)
        assert workflow["permissions"] == {}, name
        assert {job: spec["permissions"] for job, spec in workflow["jobs"].items()} == jobs, name


def test_secrets_and_the_token_reach_podium_steps_only(generated: Path) -> None:
    """A job-level `env:` would hand MLflow's credentials to checkout, setup-python, the
    artifact actions: secrets go on the podium steps that use the registry, nowhere else."""
    seen = 0
    for path in generated.glob("*.yml"):
        workflow = load(path)
        assert "env" not in workflow, path.name
        for name, job in workflow["jobs"].items():
            assert "env" not in job, f"{path.name}: job {name} has a job-level env"
            for step in job.get("steps", []):
                podium = "/podium/actions/" in str(step.get("uses", ""))
                for key, value in (step.get("env") or {}).items():
                    if "secrets." in str(value) or key == "GITHUB_TOKEN":
                        seen += 1
                        assert podium, f"{path.name}: {key} reaches {step.get('uses') or 'run'}"
                if not podium:
                    assert "secrets." not in str(step.get("with", {})), f"{path.name}: {step}"
    assert seen >= 20
    # GHES: every GitHub address comes from the runner (GITHUB_SERVER_URL), none is written in.
    for path in generated.glob("*.yml"):
        assert "github.com" not in path.read_text(), path.name


def test_the_registry_branch_token_goes_to_podium_registry_steps_only(generated: Path) -> None:
    """With registry.git_branch the podium steps that read or write the registry get the
    job's token (read-only where the job is); without it, only the champion moves behind a
    protected environment get it (to read who approved: actions: read)."""
    branch = "git-branch" in str(generated)
    registry_stages = {"validate", "train", "evaluate", "promote", "rollback", "deploy"}
    for path in generated.glob("*.yml"):
        for step in all_steps(load(path)):
            stage = str(step.get("uses", "")).partition("/actions/")[2].partition("@")[0]
            token = (step.get("env") or {}).get("GITHUB_TOKEN")
            if (branch and stage in registry_stages) or stage in {"promote", "rollback"}:
                assert token == "${{ github.token }}", f"{path.name}: {stage}"
            else:
                assert token is None, f"{path.name}: {stage or step}"
    if branch:
        comment = (generated / "podium-churn-monitor.yml").read_text()
        assert "record its\n# health check on the registry branch podium-registry" in comment


def test_the_pr_workflow_never_promotes_and_keeps_secrets_from_fork_code(generated: Path) -> None:
    pr = load(generated / "podium-churn-pr.yml")
    on = pr.get("on", pr.get(True))
    assert set(on) == {"pull_request"}  # never pull_request_target: fork code gets no secrets
    text = (generated / "podium-churn-pr.yml").read_text()
    assert "/actions/promote@" not in text and "/actions/rollback@" not in text
    upload = [s for s in all_steps(pr) if "upload-artifact" in str(s.get("uses"))]
    # Uploaded after training, or when the data failed validation (so the PR hears why).
    assert upload and upload[0]["if"].startswith(
        "${{ !cancelled() && (steps.train.outcome == 'success' ||"
    )
    assert "steps.validate.outcome == 'failure'" in upload[0]["if"]

    comment = load(generated / "podium-churn-pr-comment.yml")
    on = comment.get("on", comment.get(True))
    assert on["workflow_run"]["workflows"] == [pr["name"]]
    comment_text = (generated / "podium-churn-pr-comment.yml").read_text()
    assert "secrets." not in comment_text  # nothing secret where PR results are handled
    for step in all_steps(comment):
        if "checkout" in str(step.get("uses")):
            assert set(step.get("with", {})) == {
                "persist-credentials"
            }  # the default branch, never the PR's
        assert "${{" not in step.get("run", ""), step
    report = [s for s in all_steps(comment) if "/actions/report@" in str(s.get("uses"))]
    assert report and report[0]["with"]["pr-number"] == "${{ steps.pr.outputs.number }}"


def test_untrusted_event_fields_reach_run_steps_only_through_env(generated: Path) -> None:
    for path in generated.glob("*.yml"):
        for step in all_steps(load(path)):
            assert "${{" not in step.get("run", ""), f"{path.name}: {step}"


def test_promotions_and_rollbacks_never_overlap(generated: Path) -> None:
    promote, rollback = (
        load(generated / "podium-churn-promote.yml"),
        load(generated / "podium-churn-rollback.yml"),
    )
    for workflow in (promote, rollback):
        assert workflow["concurrency"]["cancel-in-progress"] is False
    assert promote["concurrency"]["group"] == rollback["concurrency"]["group"]
    assert promote["jobs"]["promote"]["needs"] == "challenger"
    inputs = rollback.get("on", rollback.get(True))["workflow_dispatch"]["inputs"]
    assert inputs["reason"]["required"] is True
    assert inputs["version"]["required"] is False


# -- supply chain and credentials: every zizmor persona, podium's own pins ----------------

# What zizmor's stricter personas still report, each explained in README ("What the
# stricter zizmor personas report"): (audit, workflow kind, job).
EXPLAINED = {
    # The PR job reads MLflow with the optional READ-ONLY secrets (never the write ones).
    ("secrets-outside-env", "pr", "challenger"),
}


def _findings(folder: Path, persona: str) -> set[tuple[str, str, str]]:
    import json

    result = run(
        tool("zizmor"), "--offline", "--no-progress", "--persona", persona,
        "--format", "json", str(folder),
    )  # fmt: skip
    found = set()
    for finding in json.loads(result.stdout or "[]"):
        where = finding["locations"][0]["symbolic"]
        path = Path(next(iter(where["key"]["Local"].values()))).name
        kind = re.sub(r"^podium-(churn|fraud)-", "", path).removesuffix(".yml")
        route = [r.get("Key") for r in where.get("route", {}).get("route", [])]
        job = route[1] if len(route) > 1 and route[0] == "jobs" else ""
        found.add((finding["ident"], kind, str(job)))
    return found


@pytest.mark.parametrize("persona", ["regular", "pedantic", "auditor"])
def test_every_zizmor_persona_reports_only_what_the_readme_explains(
    generated: Path, persona: str
) -> None:
    found = _findings(generated, persona)
    if "custom" in str(generated):  # the team chose self-hosted runners (ci.runs_on)
        found = {f for f in found if f[0] != "self-hosted-runner"}
    assert found <= EXPLAINED, found - EXPLAINED
    if persona == "regular":
        assert found == set()


def test_podiums_own_actions_are_pinned_by_the_installed_release_commit(generated: Path) -> None:
    for path in generated.glob("*.yml"):
        text = path.read_text()
        assert "zizmor: ignore[unpinned-uses]" not in text, path.name
        for step in all_steps(load(path)):
            uses = str(step.get("uses", ""))
            if "/podium/actions/" in uses:
                pinned = "0123456789abcdef0123456789abcdef01234567" if "acme/" in uses else RELEASE
                assert uses.endswith(f"@{pinned}"), f"{path.name}: {uses}"
        if "acme/podium" not in text:
            assert f"/actions/setup@{RELEASE} # v1" in text, path.name


def test_without_a_known_release_commit_the_tag_stays_visible_to_scanners(tmp_path: Path) -> None:
    """No comment hides the tag: the user's own zizmor sees it, and init says how to pin."""
    from tests.conftest import run_cli

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    document = {
        "model": {"name": "churn", "task": "classification", "entrypoint": "train.py:build"},
        "data": {"train": "data/train.csv", "eval": "data/eval.csv", "target": "churned"},
    }
    (tmp_path / "podium.yaml").write_text(yaml.safe_dump(document))
    result = run_cli(["init", "--config", str(tmp_path / "podium.yaml")])
    assert result.code == 0, result.err
    assert "note: podium's own actions are referenced by the tag v1" in result.out
    assert "ci.actions: podium-ml/podium@<commit SHA of v1>" in result.out
    found = _findings(tmp_path / ".github" / "workflows", "regular")
    assert {ident for ident, _, _ in found} == {"unpinned-uses"}


def test_pull_request_jobs_get_only_the_read_only_mlflow_credentials(generated: Path) -> None:
    """Same-repository PRs run their code with secrets: never the write ones."""
    write = {"MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"}
    pr = load(generated / "podium-churn-pr.yml")
    steps = [s for s in all_steps(pr) if "/podium/actions/" in str(s.get("uses", ""))]
    assert len(steps) == 4  # setup, validate, train, evaluate
    for step in steps[1:]:
        env = step["env"]
        assert env["MLFLOW_TRACKING_TOKEN"] == "${{ secrets.PODIUM_MLFLOW_READ_TOKEN }}"
        assert env["MLFLOW_TRACKING_PASSWORD"] == "${{ secrets.PODIUM_MLFLOW_READ_PASSWORD }}"
        assert env["MLFLOW_TRACKING_USERNAME"] == "${{ secrets.PODIUM_MLFLOW_READ_USERNAME }}"
    text = (generated / "podium-churn-pr.yml").read_text()
    assert not any(f"secrets.{name} " in text for name in write), text
    assert "contents: write" not in text


def test_setup_installs_podiums_dependencies_with_podiums_constraints() -> None:
    """Every run installs the versions podium was tested with, not the newest of the day."""
    setup = load(REPO / "actions" / "setup" / "action.yml")
    install = next(s for s in setup["runs"]["steps"] if s.get("id") == "install")
    command = " ".join(install["run"].replace("\\\n", " ").split())
    assert '--constraint "$PODIUM_SOURCE/constraints.txt" "$PODIUM_SOURCE"' in command
    pins = (REPO / "constraints.txt").read_text()
    for name in ("mlflow==", "scikit-learn==", "great-expectations==", "pandas=="):
        assert f"\n{name}" in pins, name


def test_mlflow_write_secrets_are_read_only_in_environment_bound_jobs(generated: Path) -> None:
    """Write credentials belong in environments (limited to the main branch): a job that
    names them is bound to one, and no pull-request job names them."""
    write = {"tracking_token", "tracking_username", "tracking_password"}
    from podium.config import SecretNames

    names = {getattr(SecretNames(), field) for field in write}
    bound = 0
    for path in generated.glob("*.yml"):
        for name, job in load(path)["jobs"].items():
            text = yaml.safe_dump(job)
            if any(
                f"secrets.{secret} " in text or f"secrets.{secret}}}" in text for secret in names
            ):
                assert job.get("environment"), f"{path.name}: job {name}"
                assert not path.name.endswith("-pr.yml"), f"{path.name}: job {name}"
                bound += 1
    assert bound >= 4  # challenger (promote workflow), promote, rollback, monitor


def test_deploy_jobs_follow_the_champion_in_order_each_bound_to_its_environment(
    generated: Path,
) -> None:
    promote = load(generated / "podium-churn-promote.yml")
    rollback = load(generated / "podium-churn-rollback.yml")
    if "deploy" not in str(generated):
        for workflow in (promote, rollback):
            assert not [job for job in workflow["jobs"] if job.startswith("deploy")]
        return
    for workflow, first in ((promote, "promote"), (rollback, "rollback")):
        staging, production = (
            workflow["jobs"]["deploy-staging"],
            workflow["jobs"]["deploy-production"],
        )
        assert (staging["needs"], production["needs"]) == (first, "deploy-staging")
        assert staging["environment"] == {"name": "staging", "url": "https://staging.example.com"}
        assert production["environment"] == {"name": "production", "url": "${{ vars.PROD_URL }}"}
        assert staging["concurrency"] == {
            "group": "podium-deploy-churn-staging",
            "cancel-in-progress": False,
        }
        assert production["concurrency"]["group"] == "podium-deploy-churn-production"
        # One approval per release: the champion's job does not wait on production too.
        # It is bound to the registry's own environment (its write secrets, no reviewers).
        assert workflow["jobs"][first].get("environment") == "podium-registry"
        for job, secret in ((staging, None), (production, "AWS_ROLE_ARN")):
            steps = job["steps"]
            (deploy,) = [s for s in steps if "/actions/deploy@" in str(s.get("uses"))]
            assert deploy["with"]["environment"] == job["environment"]["name"]
            if secret:  # the listed secrets on the deploy step alone
                assert deploy["env"][secret] == f"${{{{ secrets.{secret} }}}}"
                assert deploy["env"]["PROD_URL"] == "${{ vars.PROD_URL }}"
            others = [s for s in steps if s is not deploy]
            assert "AWS_ROLE_ARN" not in str(others)
        assert "AWS_ROLE_ARN" not in str(staging)
    assert (
        promote["jobs"]["promote"]["outputs"]["promoted"] == "${{ steps.promote.outputs.promoted }}"
    )
    assert promote["jobs"]["deploy-staging"]["if"] == "needs.promote.outputs.promoted == 'true'"
    assert "if" not in rollback["jobs"]["deploy-staging"]  # a rollback always redeploys
