"""What the serving check costs: `podium run` with `serving:` vs without, side by side.

The demo's sample project (`podium.sample`), three contenders, each a fresh `podium run
--no-promote` process, alternating `--repeats` times in their own copy of the project
(each with a champion already, as a real project has):
- no `serving:` section;
- `serving: {env_manager: local}`;
- `serving: {env_manager: uv}` (the model's own logged environment; the first round
  builds it from the package registry, later rounds reuse MLflow's cached environment).
Printed: median wall and CPU seconds of each, the extra seconds over the run without
serving, and the serving check's own figures from `.podium/evaluation.json` (server start
to healthy, p95 request latency).

    python bench/serving.py [--repeats 3] [--rows 200]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200, help="serving.rows")
    options = parser.parse_args()

    from podium.sample import churn_tables

    base = Path(tempfile.mkdtemp(prefix="podium-bench-serving-"))
    tables = churn_tables(train_rows=5000, eval_rows=2000)
    contenders = {"none": None, "local": "local", "uv": "uv"}
    projects = {}
    for name, manager in contenders.items():
        root = base / name
        (root / "data").mkdir(parents=True)
        tables[0].to_csv(root / "data" / "train.csv", index=False)
        tables[1].to_csv(root / "data" / "eval.csv", index=False)
        document: dict[str, object] = {
            "model": {
                "name": "churn",
                "task": "classification",
                "estimator": {"class": "sklearn.ensemble.HistGradientBoostingClassifier"},
            },
            "data": {
                "train": "data/train.csv",
                "eval": "data/eval.csv",
                "target": "churned",
                "exclude": ["customer_id"],
            },
        }
        if manager:
            document["serving"] = {
                "env_manager": manager,
                "rows": options.rows,
                "timeout_seconds": 900,
            }
        (root / "podium.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        timed([sys.executable, "-m", "podium", "run"], root)  # the champion
        projects[name] = root
    podium = [sys.executable, "-m", "podium", "run", "--no-promote"]
    found: dict[str, list[tuple[float, float, dict[str, float]]]] = {n: [] for n in contenders}
    for _ in range(options.repeats):
        for name, root in projects.items():
            wall, cpu = timed(podium, root)
            served = json.loads((root / ".podium" / "evaluation.json").read_text())
            found[name].append((wall, cpu, served.get("serving") or {}))
    none_wall = statistics.median(w for w, _, _ in found["none"])
    print(f"podium run --no-promote, {options.repeats} rounds, serving.rows {options.rows}")
    for name, rounds in found.items():
        wall = statistics.median(w for w, _, _ in rounds)
        cpu = statistics.median(c for _, c, _ in rounds)
        extra = f" (+{wall - none_wall:.1f} s)" if name != "none" else ""
        line = f"  serving {name:<5}  wall {wall:6.1f} s{extra}  cpu {cpu:6.1f} s"
        if name != "none":
            starts = [s["start_seconds"] for _, _, s in rounds]
            p95s = [s["latency_ms"] for _, _, s in rounds]
            line += (
                f"  server healthy in {statistics.median(starts):.1f} s (rounds: "
                f"{', '.join(f'{s:.1f}' for s in starts)}), p95 {statistics.median(p95s):.1f} ms"
            )
        print(line)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
