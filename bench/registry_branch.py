"""Benchmark: a registry kept on a git branch (`registry.git_branch`) after N promotions.

    python bench/registry_branch.py [--promotions 200] [--keep-versions 50] [--keep DIR]

The demo project (`podium demo`'s data and model: HistGradientBoostingClassifier,
max_iter 200) with its registry on a branch of a bare repository on disk. Each cycle
makes the three changes the promote workflow makes, each one commit pushed with
compare-and-set, as the stages make them: register a version (the model and the run's
artifacts, as `podium train` logs them), record its evaluation (tags, eval metrics, the
importance ranking), promote it over the previous champion. Each cycle's model is
fitted on a bootstrap sample (its fit is not part of the times measured).

Prints the branch's size (what origin stores, before and after `git gc`; what a stage's
shallow fetch downloads) and the time the git side adds to a stage: a fetch (`pull`:
fetch + reset + path rewrite) and a change's overhead (the whole transaction minus the
MLflow writes), as medians over the first and the last 10 cycles. Retention
(`registry.keep_versions`, default 50) bounds the tip, and with it what a new runner's
shallow fetch downloads; `--keep-versions 100000` measures the branch without it. Not a
test: times depend on the machine; against GitHub add the network's round trips.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def _repo_bytes(bare: Path) -> int:
    return sum(p.stat().st_size for p in (bare / "objects").rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promotions", type=int, default=200)
    parser.add_argument("--keep-versions", type=int, default=50, help="registry.keep_versions")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as scratch:
        run(args.keep or Path(scratch), args.promotions, args.keep_versions)


def run(folder: Path, promotions: int, keep_versions: int = 50) -> None:
    from podium import data, drift, modeling, sample
    from podium.config import load
    from podium.registry import git_branch
    from podium.stages import open_registry

    origin = folder / "origin.git"
    project = folder / "project"
    _git("init", "-q", "--bare", str(origin))
    config_path = sample.write_project(
        project,
        "churn-demo",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        {"max_iter": 200, "learning_rate": 0.05},
    )
    text = config_path.read_text().replace(
        "tracking_uri: sqlite:///.podium/mlflow.db",
        f"git_branch: podium-registry\n  keep_versions: {keep_versions}",
    )
    config_path.write_text(text)
    _git("init", "-q", cwd=project)
    _git("remote", "add", "origin", str(origin), cwd=project)
    config = load(config_path)
    table = data.read_table(config.resolve(config.data.train), label="data.train")
    prepared = data.prepare(
        table,
        target=config.data.target,
        task=config.model.task,
        features=config.data.features,
        exclude=config.data.exclude,
    )

    def fitted(seed: int) -> Any:
        """A model of its own each cycle (a bootstrap sample): identical files would share
        one blob on the branch and flatter its size."""
        rows = prepared.features.sample(frac=1.0, replace=True, random_state=seed).index
        model = modeling.build(config, prepared.feature_types)
        return model.fit(prepared.features.loc[rows], prepared.target.loc[rows])

    artifacts = {
        "podium/features.json": prepared.feature_types,
        "podium/data.json": {"train": table.describe()},
        drift.PROFILE_ARTIFACT: drift.profile(prepared.features, prepared.feature_types),
    }
    importance = {"challenger": {f: 1.0 / (i + 1) for i, f in enumerate(prepared.feature_types)}}

    registry: Any = open_registry(config, writes=True)
    store = registry.store
    experiment = registry.change(
        lambda r: r.experiment_id(config.experiment_name, store.artifacts), lambda _: "experiment"
    )
    pulls: list[float] = []
    overheads: list[float] = []
    champion: str | None = None
    started = time.perf_counter()
    for cycle in range(1, promotions + 1):
        spent: list[float] = []

        def timed(apply: Any, spent: list[float] = spent) -> Any:
            def wrapper(r: Any) -> Any:
                begun = time.perf_counter()
                try:
                    return apply(r)
                finally:
                    spent.append(time.perf_counter() - begun)

            return wrapper

        model = fitted(cycle)
        begun = time.perf_counter()
        store.pull()
        pulls.append(time.perf_counter() - begun)
        begun = time.perf_counter()
        _, version = registry.change(
            timed(
                lambda r, model=model: r.log_candidate(
                    experiment_id=experiment,
                    model=model,
                    example=prepared.features.head(5),
                    params={"podium.estimator": "HistGradientBoostingClassifier"},
                    metrics={"train_roc_auc": 0.9},
                    run_tags={},
                    version_tags={"podium.candidate": "true"},
                    artifacts=artifacts,
                )
            ),
            lambda done: f"register churn-demo v{done[1].version}",
        )
        tagged = version.run_id or ""

        def record(r: Any, v: str = version.version, run_id: str = tagged) -> None:
            r.set_version_tags(v, {"podium.verdict": "passed", "podium.evaluated_against": ""})
            r.log_metrics(run_id, {"eval_roc_auc": 0.9, "eval_f1": 0.8})
            r.log_json(run_id, importance, "podium/importance.json")

        registry.change(timed(record), lambda _, v=version.version: f"evaluate churn-demo v{v}")
        event = registry.change(
            timed(
                lambda r, v=version.version, was=champion: r.__class__.__mro__[1].move_champion(
                    r,
                    action="promote",
                    version=v,
                    expected=was,
                    actor="bench",
                    reason="gates passed",
                    commit=None,
                    run_url=None,
                )
            ),
            lambda e: git_branch.move_message("churn-demo", e),
        )
        champion = event.version
        overheads.append(time.perf_counter() - begun - sum(spent))
        if cycle % 10 == 0:
            tip = _git("--git-dir", str(origin), "ls-tree", "-r", "-l", "podium-registry")
            tip_bytes = sum(int(line.split()[3]) for line in tip.splitlines())
            print(
                f"{cycle} promotions, {time.perf_counter() - started:.0f}s, tip {_mib(tip_bytes)}",
                flush=True,
            )

    commits = int(_git("--git-dir", str(origin), "rev-list", "--count", "podium-registry"))
    pushed = _repo_bytes(origin)
    _git("--git-dir", str(origin), "gc", "-q", "--prune=now")
    packed = _repo_bytes(origin)
    shallow = folder / "shallow"
    _git("init", "-q", str(shallow))
    _git("fetch", "-q", "--depth", "1", str(origin), "podium-registry", cwd=shallow)
    fetched = _repo_bytes(shallow / ".git")
    tree = sum(
        p.stat().st_size for p in store.folder.rglob("*") if p.is_file() and ".git" not in p.parts
    )
    with_files = sum(1 for v in registry.versions() if "podium.pruned_files_in" not in v.tags)
    first, last = slice(0, 10), slice(-10, None)
    print(f"\n{promotions} promotions of the demo model, {commits} commits on the branch")
    print(f"registry.keep_versions {keep_versions}: {with_files} versions have files on the tip")
    print(f"origin as pushed: {_mib(pushed)}; after git gc: {_mib(packed)}")
    print(f"tip tree on disk: {_mib(tree)}; a stage's shallow fetch downloads {_mib(fetched)}")
    print(
        "a stage's fetch (pull): "
        f"{statistics.median(pulls[first]):.2f}s first 10, "
        f"{statistics.median(pulls[last]):.2f}s last 10 (median)"
    )
    print(
        "git's share of one cycle's 3 changes (fetch, commit, push each): "
        f"{statistics.median(overheads[first]):.2f}s first 10, "
        f"{statistics.median(overheads[last]):.2f}s last 10 (median); "
        f"one change ≈ a third"
    )


if __name__ == "__main__":
    main()
