"""How long the paired bootstrap takes: 100k evaluation rows × 1,000 resamples.

    python bench/significance.py [--rows 100000] [--resamples 1000]

Prints one line per metric set (wall and CPU seconds, best of 3) so the figure can be
quoted. Not a test: timings depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from podium.scoring import Outputs
from podium.significance import paired_bootstrap


def _classifier(rng: np.random.Generator, y: np.ndarray, signal: float) -> Outputs:
    score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(size=len(y)))))
    proba = np.column_stack([1 - score, score])
    return Outputs(predicted=(score > 0.5).astype(int), proba=proba, classes=[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = (rng.random(args.rows) < 0.3).astype(int)
    challenger, champion = _classifier(rng, y, 1.05), _classifier(rng, y, 1.0)
    regression_y = rng.normal(size=args.rows)
    reg_a = Outputs(predicted=regression_y + rng.normal(scale=0.5, size=args.rows))
    reg_b = Outputs(predicted=regression_y + rng.normal(scale=0.52, size=args.rows))
    cases = [
        ("roc_auc", ["roc_auc"], "classification", y, challenger, champion),
        ("accuracy", ["accuracy"], "classification", y, challenger, champion),
        (
            "roc_auc+accuracy+f1+precision+recall+log_loss",
            ["roc_auc", "accuracy", "f1", "precision", "recall", "log_loss"],
            "classification",
            y,
            challenger,
            champion,
        ),
        ("rmse+mae+r2", ["rmse", "mae", "r2"], "regression", regression_y, reg_a, reg_b),
    ]
    print(f"paired bootstrap, {args.rows:,} rows × {args.resamples:,} resamples (best of 3)")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, metrics, task, target, a, b in cases:
        best = cpu = float("inf")
        for _ in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            found = paired_bootstrap(
                metrics,
                task=task,
                target=target,
                challenger=a,
                champion=b,
                resamples=args.resamples,
            )
            best = min(best, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - started_cpu)
        first = found.intervals[metrics[0]]
        print(
            f"  {label:<48} {best:5.2f} s wall, {cpu:5.2f} s CPU   {metrics[0]} Δ 95% CI "
            f"{first.low:+.4f} … {first.high:+.4f} ({first.method})"
        )


if __name__ == "__main__":
    main()
