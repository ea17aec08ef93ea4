"""Benchmark: how `podium run` and `podium validate` scale with the rows — wall time and
peak memory against the in-memory size of the data.

    python bench/scaling.py [--rows 50000 200000 1000000 5000000] [--keep DIR]

For each size: bench/run.py's table (20 numeric features, a quarter as many evaluation
rows) as csv, a suite from `podium suggest` configured in podium.yaml, a first
`podium run` that crowns a champion (untimed), then, each a fresh process: `podium run`
(validate with the suite and drift, train, evaluate with bootstrap and importance,
report, promote) and `podium validate`. Peak memory is the process's maximum resident
set (`ru_maxrss`); the data's size is what pandas holds for train + eval once read.
Prints a Markdown table. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, generate  # bench/run.py, beside this file


def measured(command: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MB of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: a gate or check failed, still a full run
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed ({code}):\n{stderr}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[50_000, 200_000, 1_000_000, 5_000_000]
    )
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="podium-scaling-"))
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("GITHUB_ACTIONS", None)
    podium = [sys.executable, "-m", "podium"]
    lines = [
        "| rows (train + eval) | data in memory | `podium run` wall / CPU | peak | peak / data "
        "| `podium validate` wall / CPU | peak | peak / data |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rows in args.rows:
        folder = base / f"rows-{rows}"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        train, evaluation = generate(rows, 1), generate(max(rows // 4, 1000), 2)
        train.to_csv(folder / "data" / "train.csv", index=False)
        evaluation.to_csv(folder / "data" / "eval.csv", index=False)
        del train, evaluation
        size = sum(
            pd.read_csv(folder / "data" / name).memory_usage(deep=True).sum()
            for name in ("train.csv", "eval.csv")
        ) / (1 << 20)
        (folder / "podium.yaml").write_text(
            "model:\n  name: bench\n  task: classification\n"
            "  estimator: {class: sklearn.ensemble.HistGradientBoostingClassifier}\n"
            "data:\n  train: data/train.csv\n  eval: data/eval.csv\n  target: target\n"
            "  expectations: expectations/bench.json\n"
            "gates:\n  - {metric: roc_auc, min_delta: 0}\n"
        )
        subprocess.run(
            [*podium, "suggest", "--force"],
            cwd=folder,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        measured([*podium, "run"], folder, env)  # crowns the first champion
        run_wall, run_cpu, run_peak = measured([*podium, "run"], folder, env)
        val_wall, val_cpu, val_peak = measured([*podium, "validate"], folder, env)
        line = (
            f"| {rows:,} + {max(rows // 4, 1000):,} | {size:,.0f} MB "
            f"| {run_wall:.1f} s / {run_cpu:.1f} s | {run_peak:,.0f} MB | {run_peak / size:.1f}× "
            f"| {val_wall:.1f} s / {val_cpu:.1f} s | {val_peak:,.0f} MB "
            f"| {val_peak / size:.1f}× |"
        )
        lines.append(line)
        print(line, flush=True)
    print("\n".join(lines))
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
