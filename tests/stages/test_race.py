"""Two promotions racing for the same champion: exactly one wins.

Each racer is a real `python -m podium promote` in its own interpreter, holding a
passed evaluation against the same champion (or against none). Both load everything
first, then wait on a barrier file so that they hit the registry at the same moment.
The race is run a few times in a row, against sqlite and against a real server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _ACTIONS_VARS, STRONG, STRONG_PARAMS, Project, Result
from tests.mlflow_server import MlflowServer

ROUNDS = 3  # round 1 races for the first crown; the others against a sitting champion

# Imports what `podium promote` will need, says "ready", waits for the barrier, then
# runs `python -m podium promote ...` in this same interpreter.
RACER = textwrap.dedent(
    """
    import os, runpy, sys, time
    from pathlib import Path

    import mlflow.tracking, podium.cli, podium.config, podium.registry, podium.stages.promote

    ready, go, config = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("racer: no go signal")
        time.sleep(0.002)
    sys.argv = ["podium", "promote", "--config", config]
    runpy.run_module("podium", run_name="__main__", alter_sys=True)
    """
)


def _race(projects: list[Project], folder: Path) -> list[Result]:
    env = {
        k: v for k, v in os.environ.items() if k not in _ACTIONS_VARS or k == "MLFLOW_TRACKING_URI"
    }
    go = folder / f"go-{uuid.uuid4().hex[:6]}"
    readies = [folder / f"ready-{go.name}-{i}" for i in range(len(projects))]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(ready), str(go), str(project.config_path)],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for project, ready in zip(projects, readies, strict=True)
    ]
    try:
        deadline = time.monotonic() + 180
        while not all(r.exists() for r in readies):
            assert all(p.poll() is None for p in racers), [p.communicate() for p in racers]
            assert time.monotonic() < deadline, "racers never got ready"
            time.sleep(0.02)
        go.touch()
        finished = [p.communicate(timeout=180) for p in racers]
    finally:
        for p in racers:
            if p.poll() is None:
                p.kill()
    return [Result(p.returncode, out, err) for p, (out, err) in zip(racers, finished, strict=True)]


def _race_rounds(
    make_racer: Callable[[], Project], registry_of: Callable[[Project], Any], tmp: Path
) -> None:
    a, b = make_racer(), make_racer()
    registry = registry_of(a)
    for round_ in range(1, ROUNDS + 1):
        before = registry.champion()
        trail = registry.history()
        challengers = []
        for racer in (a, b):
            trained = racer.cli("train")
            assert trained.code == 0, trained.err
            evaluated = racer.cli("evaluate")
            assert evaluated.code == 0, evaluated.err
            evaluation = json.loads((racer.state / "evaluation.json").read_text())
            assert evaluation["passed"]
            assert (evaluation["champion"] or {}).get("version") == (
                before.version if before else None
            )
            challengers.append(evaluation["challenger"]["version"])

        outcome = _race([a, b], tmp)

        codes = sorted(r.code for r in outcome)
        assert codes == [0, 1], f"round {round_}: {[(r.code, r.err) for r in outcome]}"
        winner = challengers[[r.code for r in outcome].index(0)]
        loser = outcome[[r.code for r in outcome].index(1)]
        assert "not moved: @champion" in loser.err and f"is now v{winner}" in loser.err, loser.err
        assert "Traceback" not in loser.err and len(loser.err.strip().splitlines()) == 1, loser.err
        assert registry.champion().version == winner
        new_events = registry.history()[len(trail) :]
        assert [(e.version, e.previous) for e in new_events] == [
            (winner, before.version if before else None)
        ]
        assert [e.seq for e in registry.history()] == list(range(1, round_ + 1))
        # Nothing is left holding the lock: the next promotion is not blocked.
        assert [
            m.name
            for m in registry.client.search_registered_models(f"name LIKE '{registry.name}.%'")
        ] == []


def test_two_promotions_race_on_sqlite(
    make_project: Callable[..., Project], registry_of: Callable[[Project], Any], tmp_path: Path
) -> None:
    shared = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"

    def racer() -> Project:
        return make_project(STRONG, STRONG_PARAMS, tracking_uri=shared, name="raced")

    _race_rounds(racer, registry_of, tmp_path)


@pytest.mark.server
def test_two_promotions_race_on_the_server(
    make_project: Callable[..., Project],
    registry_of: Callable[[Project], Any],
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    name = f"raced-{uuid.uuid4().hex[:8]}"

    def racer() -> Project:
        return make_project(STRONG, STRONG_PARAMS, name=name)

    _race_rounds(racer, registry_of, tmp_path)
