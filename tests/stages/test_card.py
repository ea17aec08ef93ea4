"""`podium card`: a model card per version, filled only from what podium recorded.

Real git repositories (the commit is recorded), real sqlite stores and a real `mlflow
server`, a registry on a git branch read from a fresh clone; one golden card per model kind.
Regenerate the golden files after an intended change with PODIUM_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project
from tests.mlflow_server import MlflowServer
from tests.stages.test_loop import ENTRYPOINT
from tests.stages.test_train_command import NUMPY_SCRIPT as COMMAND  # deterministic

GOLDEN = Path(__file__).parents[1] / "golden"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


def commit_all(root: Path, message: str = "model") -> str:
    """Commit everything in `root` (a new repository the first time); the commit's hash."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
        if not (root / ".gitignore").exists():  # as podium's own .gitignore inside it does
            (root / ".gitignore").write_text(".podium/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def described(project: Project, kind: str) -> None:
    """The project built the `kind` way, with the card's purpose keys filled in."""
    document = project.config()
    model = document["model"]
    if kind == "entrypoint":
        (project.root / "train_model.py").write_text(ENTRYPOINT)
        model.pop("estimator")
        model["entrypoint"] = "train_model.py:build_model"
    elif kind == "command":
        (project.root / "train.py").write_text(COMMAND)
        model.pop("estimator")
        model["command"] = [sys.executable, "train.py"]
    model["description"] = "Predicts which customers <b>churn</b> next month"
    model["owners"] = ["data-team", "@ada"]
    model["intended_use"] = "Ranking retention offers; not for pricing"
    project.write_config(document)


def stable(card: Any) -> Any:
    """The card with what changes from run to run (times, ids, paths, timings) fixed."""
    identity = card.identity.model_copy(
        update={
            "created": "2026-01-01T00:00:00Z",
            "run_id": "0" * 32,
            "commit": "c" * 40,  # the commit holds podium.yaml, with this machine's paths
            "source": "python train.py"
            if card.identity.kind == "command"
            else card.identity.source,
        }
    )
    performance = card.performance.model_copy(
        update={
            "evaluated_at": "2026-01-01T00:00:01Z",
            "metrics": [
                m.model_copy(update={"value": 1.0})
                if m.name in {"latency_ms", "model_size_mb"}
                else m
                for m in card.performance.metrics
            ],
        }
    )
    moves = [
        m.model_copy(update={"at": "2026-01-01T00:00:02Z", "actor": "ada"}) for m in card.moves
    ]
    return card.model_copy(
        update={
            "identity": identity,
            "performance": performance,
            "moves": moves,
            "resources": {k: 1.0 for k in card.resources},
        }
    )


def card_of(project: Project, version: str) -> Any:
    from podium.card import collect
    from podium.config import load
    from podium.stages import open_registry

    registry = open_registry(load(project.config_path))
    return collect(registry, registry.get_version(version))


@pytest.mark.parametrize("kind", ["estimator", "entrypoint", "command"])
def test_a_promoted_version_s_card_matches_the_golden_file(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any], kind: str
) -> None:
    from podium.card import render

    project = make_project()
    described(project, kind)
    commit = commit_all(project.root)
    result = project.cli("run")
    assert result.code == 0, result.err

    card = card_of(project, "1")
    assert card.identity.commit == commit and card.identity.dirty is False
    assert card.identity.kind == kind
    assert card.champion and card.verdict.verdict == "passed"
    assert card.data.validation and card.data.validation.startswith("passed")
    rendered = render(stable(card), "md")
    golden = GOLDEN / f"card_{kind}.md"
    if os.environ.get("PODIUM_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with PODIUM_UPDATE_GOLDEN=1"
    assert rendered == golden.read_text(encoding="utf-8")

    # Written at promotion as artifacts of the version, and what the CLI prints.
    registry = registry_of(project)
    version = registry.get_version("1")
    written = registry.run_json(version.run_id, "model_card.json")
    assert written is not None and written["identity"]["version"] == "1"
    listed = {a.path for a in registry.client.list_artifacts(version.run_id)}
    assert {"model_card.md", "model_card.json"} <= listed
    shown = project.cli("card")
    assert shown.code == 0, shown.err
    assert shown.out.startswith("# Model card: `churn` v1")
    assert "&lt;b&gt;churn&lt;/b&gt;" in shown.out  # the description, escaped
    assert "@&#8203;ada" in shown.out  # a mention that notifies no one


def test_facts_never_recorded_say_so(project: Project) -> None:
    """A version trained outside git, never evaluated: no commit, verdict or metrics."""
    assert project.cli("train").code == 0
    shown = project.cli("card", "--version", "1", "--format", "json")
    assert shown.code == 0, shown.err
    card = json.loads(shown.out)
    assert card["identity"]["commit"] is None and card["identity"]["dirty"] is None
    assert card["verdict"] == {"verdict": None, "summary": None}
    assert card["performance"]["metrics"] == [] and card["moves"] == []
    assert card["purpose"]["description"] is None
    markdown = project.cli("card", "--version", "v1").out
    assert "- description: not recorded" in markdown
    assert "| commit | not recorded (working tree state not recorded) |" in markdown
    assert "Metrics: not recorded" in markdown
    assert "## Reproduction\nnot recorded" in markdown


def test_html_is_escaped(project: Project) -> None:
    document = project.config()
    document["model"]["limitations"] = "<script>alert(1)</script>"
    project.write_config(document)
    assert project.cli("train").code == 0
    page = project.cli("card", "--version", "1", "--format", "html")
    assert page.code == 0, page.err
    assert page.out.startswith("<!doctype html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.out and "<script>" not in page.out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--version", "7"], "no version '7'"),
        (["--version", "seven"], "--version 'seven' is not a model version number"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
        ([], "has no champion yet; name a version with --version N"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project: Project, args: list[str], named: str) -> None:
    assert project.cli("train").code == 0
    result = project.cli("card", *args)
    assert result.code == 2
    assert named in result.err and len(result.err.strip().splitlines()) == 1, result.err


@pytest.mark.server
def test_a_card_from_a_real_mlflow_server(
    make_project: Callable[..., Project],
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uuid

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    project = make_project(name=f"churn-{uuid.uuid4().hex[:8]}", seeded=False)
    commit = commit_all(project.root)
    assert project.cli("run").code == 0
    shown = project.cli("card", "--format", "json")
    assert shown.code == 0, shown.err
    card = json.loads(shown.out)
    assert card["identity"]["commit"] == commit and card["champion"] is True
    assert card["identity"]["flavors"] == ["python_function", "sklearn"]
    assert card["data"]["validation"].startswith("passed")
    assert [m["action"] for m in card["moves"]] == ["promote"]


def test_a_card_from_a_fresh_clone_of_a_branch_registry(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    project = make_project(seeded=False)
    document = project.config()
    document["registry"] = {"git_branch": "podium-registry"}
    project.write_config(document)
    commit = commit_all(project.root)
    git(project.root, "remote", "add", "origin", str(origin))
    git(project.root, "push", "-q", "origin", "main")
    assert project.cli("run").code == 0

    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(fresh))
    elsewhere = Project(fresh)
    shown = elsewhere.cli("card")
    assert shown.code == 0, shown.err
    assert f"| commit | `{commit}` (clean working tree) |" in shown.out
    assert "## Training and evaluation data" in shown.out
    assert "validation: passed" in shown.out  # kept from the card written at promotion
    assert "promote v1 (was none)" in shown.out
