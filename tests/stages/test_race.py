"""Two promotions racing for the same champion: exactly one wins.

Each racer is its own interpreter running podium's entry point (`podium.cli.main`,
what `python -m podium promote` runs), holding a passed evaluation against the same
champion (or against none). Racers load everything first, then wait on a barrier
file, so that both hit the registry at the same moment. They stay up between rounds
(interpreter start-up is the slow part): the race is run a few times in a row,
against sqlite and against a real server.
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
from types import TracebackType
from typing import Any

import pytest

from tests.conftest import _ACTIONS_VARS, STRONG, STRONG_PARAMS, Project, Result
from tests.mlflow_server import MlflowServer

ROUNDS = 3  # round 1 races for the first crown; the others against a sitting champion
WAIT = 180.0  # seconds, for any one step of a racer (generous: CI cores are busy)

RACER = textwrap.dedent(
    """
    import contextlib, io, json, sys, time
    from pathlib import Path

    import mlflow.tracking, podium.config, podium.registry, podium.stages.promote
    from podium.cli import main

    folder, me, config, rounds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    for n in range(1, rounds + 1):
        (folder / f"ready-{n}-{me}").touch()
        deadline = time.monotonic() + WAIT
        while not (folder / f"go-{n}").exists():
            if time.monotonic() > deadline:
                sys.exit(f"racer {me}: no go signal for round {n}")
            time.sleep(0.002)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["promote", "--config", config])
            except SystemExit as exit_:
                code = exit_.code
        result = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
        partial = folder / f".result-{n}-{me}.json"
        partial.write_text(json.dumps(result))
        partial.replace(folder / f"result-{n}-{me}.json")  # appears whole, never half-written
    """
).replace("WAIT", str(WAIT))


class Racers:
    """One racer process per project; `race(n)` fires round n and collects the outcome."""

    def __init__(self, projects: list[Project], folder: Path, rounds: int) -> None:
        self.folder = folder / f"race-{uuid.uuid4().hex[:6]}"
        self.folder.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in _ACTIONS_VARS}
        if "MLFLOW_TRACKING_URI" in os.environ:
            env["MLFLOW_TRACKING_URI"] = os.environ["MLFLOW_TRACKING_URI"]
        self.names = [f"r{i}" for i in range(len(projects))]
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    RACER,
                    str(self.folder),
                    name,
                    str(p.config_path),
                    str(rounds),
                ],
                cwd=p.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p, name in zip(projects, self.names, strict=True)
        ]

    def _await(self, paths: list[Path], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not all(p.exists() for p in paths):
            dead = [p for p in self.procs if p.poll() is not None]
            assert not dead, f"racer died before {what}: {[p.communicate() for p in dead]}"
            assert time.monotonic() < deadline, f"racers not {what} after {WAIT:.0f}s"
            time.sleep(0.01)

    def race(self, n: int) -> list[Result]:
        self._await([self.folder / f"ready-{n}-{name}" for name in self.names], "ready")
        (self.folder / f"go-{n}").touch()
        results = [self.folder / f"result-{n}-{name}.json" for name in self.names]
        self._await(results, "finished")
        loaded = [json.loads(path.read_text()) for path in results]
        return [Result(int(r["code"]), r["out"], r["err"]) for r in loaded]

    def __enter__(self) -> Racers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in self.procs:
            if kind is not None:  # a failed round: the racers wait for rounds that never come
                proc.kill()
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


def _race_rounds(
    make_racer: Callable[[], Project], registry_of: Callable[[Project], Any], tmp: Path
) -> None:
    a, b = make_racer(), make_racer()
    registry = registry_of(a)
    with Racers([a, b], tmp, ROUNDS) as racers:
        for round_ in range(1, ROUNDS + 1):
            _one_round(round_, a, b, racers, registry)
    assert all(p.returncode == 0 for p in racers.procs), [p.returncode for p in racers.procs]


def _one_round(round_: int, a: Project, b: Project, racers: Racers, registry: Any) -> None:
    """Both racers train and evaluate a challenger against the same champion, then race."""
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
        assert (evaluation["champion"] or {}).get("version") == (before.version if before else None)
        challengers.append(evaluation["challenger"]["version"])

    outcome = racers.race(round_)

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
        m.name for m in registry.client.search_registered_models(f"name LIKE '{registry.name}.%'")
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
