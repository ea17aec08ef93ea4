"""CPU of podium's own statistics at 1M-row scale: the paired bootstrap and drift.

    python bench/own_work.py [--rows 250000] [--drift-rows 1000000] [--rounds 3]
                             [--baseline OTHER/src] [--cases binary,drift-profile,...]
                             [--threads]

Each case runs in a fresh process and reports the CPU seconds (time.process_time) of the
call alone: the paired bootstrap of 1,000 resamples on one thread, or with `--threads` on
as many as podium gives it (250,000 rows: what `podium run` evaluates at 1M), and drift's `profile` of a 1M-row ×
20-feature table and `compare` of a shifted one against that profile. With `--baseline`
(another checkout's src directory) the same cases run alternately under both sources,
round after round, and the line shows both medians, their ratio and whether the results
are the same bit for bit (a digest of every delta / drift number). Not a test: timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

CASES = {
    # name: (task, metrics, classes, decimals of the scores: None = full precision)
    "binary": ("classification", ["roc_auc", "accuracy", "f1", "log_loss"], 2, None),
    "binary-4dp": ("classification", ["roc_auc", "accuracy", "f1", "log_loss"], 2, 4),
    "multiclass-3": ("classification", ["roc_auc", "accuracy", "f1", "log_loss"], 3, None),
    "multiclass-5": ("classification", ["roc_auc", "accuracy", "f1", "log_loss"], 5, None),
    "regression": ("regression", ["rmse", "mae", "r2"], 0, None),
}
DRIFT_CASES = ("drift-profile", "drift-compare")
FEATURES = 20


def _outputs(rng: np.random.Generator, y: np.ndarray, k: int, signal: float, decimals: Any) -> Any:
    from podium.scoring import Outputs

    logits = rng.normal(size=(len(y), k))
    logits[np.arange(len(y)), y] += signal
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if decimals is not None:
        proba = np.round(proba, decimals)
    return Outputs(predicted=proba.argmax(axis=1), proba=proba, classes=list(range(k)))


def _bootstrap(name: str, rows: int, threads: bool) -> tuple[float, str]:
    from podium import significance
    from podium.scoring import Outputs

    if not threads:  # one thread: CPU seconds comparable across loads
        significance.PARALLEL_CELLS = 10**15
    task, metrics, k, decimals = CASES[name]
    rng = np.random.default_rng(0)
    if task == "regression":
        y = rng.normal(size=rows)
        a = Outputs(predicted=y + rng.normal(scale=0.5, size=rows))
        b = Outputs(predicted=y + rng.normal(scale=0.52, size=rows))
    else:
        y = rng.integers(0, k, rows)
        a, b = _outputs(rng, y, k, 1.0, decimals), _outputs(rng, y, k, 0.9, decimals)
    started = time.process_time()
    found = significance.resampled_deltas(metrics, task=task, target=y, challenger=a, champion=b)
    cpu = time.process_time() - started
    digest = hashlib.sha256()
    for metric in sorted(found.deltas):
        digest.update(metric.encode() + found.deltas[metric].tobytes())
    return cpu, digest.hexdigest()[:12]


def _drift(name: str, rows: int) -> tuple[float, str]:
    import pandas as pd
    import scipy.stats  # noqa: F401  (imported beside the reading in `podium run`)

    from podium import drift

    rng = np.random.default_rng(0)
    columns = {f"x{i}": rng.normal(size=rows) for i in range(FEATURES)}
    columns["x0"][rng.random(rows) < 0.01] = np.nan  # some missing values
    types = dict.fromkeys(columns, "numeric")
    training = pd.DataFrame(columns)
    started = time.process_time()
    profiled = drift.profile(training, types)
    cpu = time.process_time() - started
    found: Any = profiled
    if name == "drift-compare":
        shifted = pd.DataFrame({c: v + 0.02 * i for i, (c, v) in enumerate(columns.items())})
        started = time.process_time()
        found = [f.to_dict() for f in drift.compare(profiled, shifted, types)]
        cpu = time.process_time() - started
    text = json.dumps(found, sort_keys=True).encode()
    return cpu, hashlib.sha256(text).hexdigest()[:12]


def _child(name: str, rows: int, drift_rows: int, threads: bool) -> None:
    if name in DRIFT_CASES:
        cpu, digest = _drift(name, drift_rows)
    else:
        cpu, digest = _bootstrap(name, rows, threads)
    print(json.dumps({"cpu": cpu, "digest": digest}))


def _run(src: Path, name: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, __file__, "--child", name]
    command += ["--rows", str(args.rows), "--drift-rows", str(args.drift_rows)]
    command += ["--threads"] if args.threads else []
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000, help="evaluation rows")
    parser.add_argument("--drift-rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout's src directory")
    parser.add_argument("--cases", default=",".join([*CASES, *DRIFT_CASES]))
    parser.add_argument(
        "--threads", action="store_true", help="the bootstrap on its threads, as podium runs it"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows, args.drift_rows, args.threads)
        return
    here = Path(__file__).resolve().parents[1] / "src"
    sources = {"this": here} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    threads = "its threads" if args.threads else "one thread"
    print(
        f"podium's own statistics: bootstrap {args.rows:,} rows × 1,000 resamples ({threads}),"
        f" drift {args.drift_rows:,} rows × {FEATURES} features; CPU s, median of {args.rounds}"
    )
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name in args.cases.split(","):
        cpu: dict[str, list[float]] = {label: [] for label in sources}
        digests: dict[str, set[str]] = {label: set() for label in sources}
        for round_ in range(args.rounds):
            labels = list(sources) if round_ % 2 == 0 else list(sources)[::-1]
            for label in labels:
                found = _run(sources[label], name, args)
                cpu[label].append(found["cpu"])
                digests[label].add(found["digest"])
        medians = {label: statistics.median(values) for label, values in cpu.items()}
        line = f"  {name:<14} this {medians['this']:5.2f} ({_list(cpu['this'])})"
        if args.baseline:
            same = digests["this"] == digests["baseline"] and len(digests["this"]) == 1
            line += (
                f"   baseline {medians['baseline']:5.2f} ({_list(cpu['baseline'])})"
                f"   {medians['this'] / medians['baseline']:.2f}×"
                f"   same numbers: {'yes' if same else 'NO'}"
            )
        print(line, flush=True)


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
