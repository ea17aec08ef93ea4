"""What slicing costs: 100k evaluation rows cut into 50 slices, both models, gated.

    python bench/slices.py [--rows 100000] [--resamples 1000]

Slicings: region (5), plan (4), age in 5 bins, segment (16) and region × plan (20) =
50 slices; every row is in 5 of them. Gates: f1 per slice (significant, Holm) and the
ROC AUC gap across slices, so each slice gets all metrics of both models and the paired
bootstrap of f1 and ROC AUC. Prints the median wall and CPU seconds of
`evaluate_slices` (of 3) beside the whole-set paired bootstrap of the same two metrics,
measured in the same run (absolute times on a shared machine say little; the ratio more).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

from podium.config import Gate
from podium.scoring import Outputs
from podium.significance import paired_bootstrap
from podium.slices import Binned, evaluate_slices


def _classifier(rng: np.random.Generator, y: np.ndarray, signal: float) -> Outputs:
    score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(size=len(y)))))
    proba = np.column_stack([1 - score, score])
    return Outputs(predicted=(score > 0.5).astype(int), proba=proba, classes=[0, 1])


def _timed(run: object) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()  # type: ignore[operator]
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    n = args.rows
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west", "centre"], size=n),
            "plan": rng.choice(["monthly", "yearly", "two_year", "trial"], size=n),
            "age": rng.integers(18, 90, size=n).astype(float),
            "segment": rng.integers(0, 16, size=n).astype(str),
        }
    )
    y = (rng.random(n) < 0.3).astype(int)
    challenger, champion = _classifier(rng, y, 1.05), _classifier(rng, y, 1.0)
    specs = [
        "region",
        "plan",
        Binned(column="age", bins=[18, 30, 40, 50, 65, 90]),
        "segment",
        ["region", "plan"],
    ]
    gates = [
        Gate(metric="f1", significant=True, per_slice={"min_delta": -0.05}),
        Gate(metric="roc_auc", max_slice_gap=0.2),
    ]

    def sliced() -> None:
        found = evaluate_slices(
            specs=specs,
            gates=gates,
            min_rows=30,
            frame=frame,
            task="classification",
            target=pd.Series(y),
            challenger=challenger,
            champion=champion,
            where="podium.yaml",
        )
        assert len(found.slices) == 50, len(found.slices)

    def whole() -> None:
        paired_bootstrap(
            ["f1", "roc_auc"],
            task="classification",
            target=y,
            challenger=challenger,
            champion=champion,
            resamples=args.resamples,
        )

    print(f"slices: {n:,} rows × 50 slices (5 slicings), f1 + roc_auc bootstrapped per slice")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    wall, cpu = _timed(sliced)
    base_wall, base_cpu = _timed(whole)
    print(f"  evaluate_slices           {wall:6.2f} s wall  {cpu:6.2f} s CPU  (median of 3)")
    print(f"  whole-set bootstrap       {base_wall:6.2f} s wall  {base_cpu:6.2f} s CPU")
    print(f"  slices / whole set        {wall / base_wall:6.2f}× wall {cpu / base_cpu:6.2f}× CPU")


if __name__ == "__main__":
    main()
