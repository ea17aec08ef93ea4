"""`podium maturity`: grade the repository against MLOps maturity levels 0–2.

Level 0 is manual work; level 1 automates the ML pipeline (continuous training: workflows,
validated data, drift, a durable registry, retraining triggers, monitoring); level 2
automates delivery with evidence (significance, slices, staged deployment, rollback,
reproduction verified, model cards). Every check reads podium.yaml, the repository and —
when it is a local file (sqlite, or a branch registry's fetched copy) — the registry's
recorded tags, straight from sqlite: no network, no MLflow import, well under a second.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from podium import worktree
from podium.config import Config
from podium.errors import PodiumError
from podium.registry import tags

LEVELS = {
    0: "manual process",
    1: "ML pipeline automation (continuous training)",
    2: "CI/CD pipeline automation",
}


class Check(BaseModel):
    """One graded fact: passed (True), failed (False) or not knowable offline (None)."""

    name: str
    level: int
    passed: bool | None
    why: str
    fix: str


class Maturity(BaseModel):
    model_name: str
    level: int
    checks: list[Check]
    next_steps: list[str]

    def text(self) -> str:
        marks = {True: "✓", False: "✗", None: "?"}
        lines = [
            f"{marks[c.passed]} L{c.level} {c.name}: {c.why}"
            + ("" if c.passed else f" — fix: {c.fix}")
            for c in self.checks
        ]
        lines.append(f"{self.model_name}: level {self.level} ({LEVELS[self.level]})")
        lines += [f"next: {step}" for step in self.next_steps] or ["next: nothing; keep it green"]
        return "\n".join(lines)


def maturity(*, config: Config) -> Maturity:
    """Every check, the level reached (all checks of it and below pass) and three next steps."""
    recorded = _recorded(config)
    top = worktree.top_level(config.root)
    checks = [
        _workflows(config),
        _expectations(config, top),
        _drift(config),
        _durable(config),
        _triggers(config),
        _monitoring(config),
        _significance(config),
        _slices(config),
        _deployment(config),
        _rollback(config, top),
        _reproduced(recorded),
        _cards(recorded),
    ]
    level = 0
    for candidate in (1, 2):
        if all(c.passed for c in checks if c.level <= candidate):
            level = candidate
    steps = [f"{c.name}: {c.fix}" for c in checks if not c.passed][:3]
    return Maturity(model_name=config.model.name, level=level, checks=checks, next_steps=steps)


def _workflows(config: Config) -> Check:
    from podium.stages.init import init

    name, fix = "workflows generated and current", "run `podium init` and commit .github/workflows"
    try:
        result = init(configs=[config], write=False)
    except PodiumError as exc:
        return Check(name=name, level=1, passed=False, why=str(exc), fix=fix)
    if result.stale:
        return Check(
            name=name,
            level=1,
            passed=False,
            why=f"stale or missing: {', '.join(result.stale)}",
            fix=fix,
        )
    return Check(
        name=name, level=1, passed=True, why=f"{len(result.workflows)} files up to date", fix=fix
    )


def _expectations(config: Config, top: Path | None) -> Check:
    name = "committed expectation suite"
    fix = "run `podium suggest`, review the suite, commit it and set data.expectations"
    suite = config.data.expectations
    if not suite:
        return Check(name=name, level=1, passed=False, why="data.expectations is not set", fix=fix)
    path = config.resolve(suite)
    if not path.is_file():
        return Check(name=name, level=1, passed=False, why=f"{suite} does not exist", fix=fix)
    changed = worktree.changed_files(config.root, top=top) if top else None
    if changed is None or top is None:
        return Check(name=name, level=1, passed=False, why="not in a git repository", fix=fix)
    relative = path.resolve().relative_to(top.resolve()).as_posix()
    if relative in changed:
        return Check(
            name=name, level=1, passed=False, why=f"{suite} has uncommitted changes", fix=fix
        )
    return Check(name=name, level=1, passed=True, why=f"{suite} is committed", fix=fix)


def _drift(config: Config) -> Check:
    name, fix = (
        "drift gated",
        "set drift.max_drifted_share (e.g. 0.3) or drift.max_psi in podium.yaml",
    )
    drift = config.drift
    gated = drift.enabled and (drift.max_drifted_share is not None or drift.max_psi is not None)
    why = (
        "drift against the champion's training data fails validation"
        if gated
        else (
            "drift is measured but never fails a run" if drift.enabled else "drift.enabled is false"
        )
    )
    return Check(name=name, level=1, passed=gated, why=why, fix=fix)


def _durable(config: Config) -> Check:
    name = "durable registry"
    fix = "set registry.git_branch: podium-registry (or an MLflow server via MLFLOW_TRACKING_URI)"
    raw = config.raw.registry
    uri = raw.tracking_uri
    local = uri.startswith(("sqlite:", "file:")) or ":" not in uri
    if raw.git_branch:
        return Check(
            name=name, level=1, passed=True, why=f"kept on branch {raw.git_branch}", fix=fix
        )
    if not local:
        return Check(name=name, level=1, passed=True, why="an MLflow server", fix=fix)
    return Check(
        name=name,
        level=1,
        passed=False,
        why=f"{uri} is a file on one machine (thrown away in CI)",
        fix=fix,
    )


def _triggers(config: Config) -> Check:
    name = "retraining triggers"
    fix = "set ci.retrain_cron, ci.paths (data updated) or monitor.data with monitor.dispatch"
    found = []
    if config.ci.retrain_cron:
        found.append(f"schedule {config.ci.retrain_cron}")
    if config.ci.paths:
        found.append("data updated (ci.paths)")
    if config.monitor.data is not None and config.monitor.dispatch:
        found.append("monitor alerts")
    why = ", ".join(found) if found else "no schedule, data or monitor trigger"
    return Check(name=name, level=1, passed=bool(found), why=why, fix=fix)


def _monitoring(config: Config) -> Check:
    name, fix = (
        "monitoring on production data",
        "set monitor.data (recent production inputs) and ci.monitor_cron",
    )
    ok = config.monitor.data is not None and bool(config.ci.monitor_cron)
    why = (
        "monitor.data checked on a schedule"
        if ok
        else (
            "monitor.data is not set" if config.monitor.data is None else "ci.monitor_cron is off"
        )
    )
    return Check(name=name, level=1, passed=ok, why=why, fix=fix)


def _significance(config: Config) -> Check:
    name, fix = "significance on gates", "add `significant: true` to a gate with min_delta"
    gated = [g.metric for g in config.raw.gates or [] if g.significant]
    why = (
        f"gates needing a significant difference: {', '.join(gated)}"
        if gated
        else "no gate asks for significance"
    )
    return Check(name=name, level=2, passed=bool(gated), why=why, fix=fix)


def _slices(config: Config) -> Check:
    name, fix = "slices", "add `slices:` (e.g. [region]) and a per_slice gate"
    found = config.raw.slices or []
    return Check(
        name=name,
        level=2,
        passed=bool(found),
        why=f"{len(found)} slicing(s) evaluated" if found else "no slices evaluated",
        fix=fix,
    )


def _deployment(config: Config) -> Check:
    name = "deployment staging → production"
    fix = "add `deploy:` with a staging environment and production `after: staging`"
    deploy = _raw(config).get("deploy")
    if not isinstance(deploy, list) or not deploy:
        return Check(name=name, level=2, passed=False, why="no deploy: environments", fix=fix)
    names = [str(d.get("environment")) for d in deploy if isinstance(d, dict)]
    staged = len(names) >= 2 and any(isinstance(d, dict) and d.get("after") for d in deploy)
    why = " → ".join(names) if staged else f"one environment only ({', '.join(names)})"
    return Check(name=name, level=2, passed=staged, why=why, fix=fix)


def _raw(config: Config) -> dict[str, Any]:
    """podium.yaml as YAML (keys the config model may not know yet)."""
    import yaml

    try:
        loaded = yaml.safe_load(config.path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _rollback(config: Config, top: Path | None) -> Check:
    from podium.stages.init import WORKFLOWS_DIR, file_name

    name = "rollback"
    fix = "run `podium init` (a rollback workflow) and keep ci.environment protected"
    workflow = file_name(config.model.name, "rollback")
    there = top is not None and (top / WORKFLOWS_DIR / workflow).is_file()
    if not there:
        return Check(name=name, level=2, passed=False, why=f"{workflow} not generated", fix=fix)
    if not config.ci.environment:
        return Check(
            name=name,
            level=2,
            passed=False,
            why="ci.environment is off: anyone may roll back",
            fix=fix,
        )
    return Check(
        name=name, level=2, passed=True, why=f"{workflow}, behind {config.ci.environment}", fix=fix
    )


class _Recorded(BaseModel):
    champion: str | None = None
    tags: dict[str, str] = {}
    readable: str | None = None  # why the registry could not be read offline


def _recorded(config: Config) -> _Recorded:
    """The champion's version tags, read from a local sqlite store without MLflow."""
    from podium.stages import sqlite_file

    db = sqlite_file(config)
    if db is None:
        return _Recorded(readable="the registry is a server: not read offline")
    if not db.is_file():
        where = " (run `podium registry pull`)" if config.registry_branch else ""
        return _Recorded(readable=f"no local registry at {db}{where}")
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
            row = connection.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (config.model.name, tags.CHAMPION),
            ).fetchone()
            if row is None:
                return _Recorded(readable="no champion yet")
            found = connection.execute(
                "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                (config.model.name, row[0]),
            ).fetchall()
    except sqlite3.Error as exc:
        return _Recorded(readable=f"{db} unreadable: {exc}")
    return _Recorded(champion=str(row[0]), tags={str(k): str(v) for k, v in found})


def _reproduced(recorded: _Recorded) -> Check:
    name = "reproduction verified"
    fix = "run `podium reproduce --version N` on the champion"
    if recorded.champion is None:
        return Check(name=name, level=2, passed=None, why=recorded.readable or "", fix=fix)
    try:
        found = json.loads(recorded.tags.get(tags.REPRODUCTION, "null"))
    except ValueError:
        found = None
    v = f"champion v{recorded.champion}"
    if not isinstance(found, dict):
        return Check(name=name, level=2, passed=False, why=f"{v} never reproduced", fix=fix)
    ok = found.get("verdict") == "reproduced"
    return Check(
        name=name,
        level=2,
        passed=ok,
        why=f"{v}: {found.get('verdict')} at {found.get('at')}",
        fix=fix,
    )


def _cards(recorded: _Recorded) -> Check:
    name = "model cards"
    fix = "promote with this podium (it writes model_card.md), or run `podium card`"
    if recorded.champion is None:
        return Check(name=name, level=2, passed=None, why=recorded.readable or "", fix=fix)
    written = tags.CARD_WRITTEN in recorded.tags
    v = f"champion v{recorded.champion}"
    why = f"{v} has model_card.md" if written else f"{v} has no model card recorded"
    return Check(name=name, level=2, passed=written, why=why, fix=fix)
