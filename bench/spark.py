"""Benchmark: validate and evaluate inside local Spark, rows/s and the driver's peak memory.

    python bench/spark.py [--rows 1000000 10000000 20000000] [--limit 8m] [--keep DIR]

For each size: a table made with `spark.range` (four features, a label) is written as
parquet for train and eval; a project with `engine: spark` sources, a three-rule GX
suite and a LogisticRegression is run through validate, train (on `data.train_sample`
rows), evaluate (a first champion), then validate (drift vs the champion) and evaluate
again (champion vs challenger), warm, in one process. `spark.driver.maxResultSize` is
`--limit`, far below any table: collecting one would fail.

Printed per size: seconds and rows/s of each stage, and the driver's peak memory — the
Python process's max RSS and the JVM's (VmHWM; in local mode the executors live in that
JVM too, so this is an upper bound for a cluster's driver). The goal is flat memory.
Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def generate(spark: Any, rows: int, seed: int, shift: float = 0.0) -> Any:
    return spark.range(rows).selectExpr(
        f"(xxhash64(id, {seed}) % 1000000) / 1000000.0 + {shift} as x1",
        f"(xxhash64(id, {seed + 1}) % 1000) / 100.0 as x2",
        f"element_at(array('a', 'b', 'c'), cast(pmod(xxhash64(id, {seed + 3}), 3) + 1 as int))"
        " as plan",
        f"pmod(xxhash64(id, {seed + 5}), 90) as age",
        f"cast((xxhash64(id, {seed}) % 1000000) / 1000000.0 "
        f"+ pmod(xxhash64(id, {seed + 4}), 100) / 100.0 > 0.9 as int) as label",
    )


def jvm_peak_mb(spark: Any) -> float:
    pid = spark.sparkContext._gateway.proc.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_cpu_seconds(spark: Any) -> float:
    """CPU (user + system) so far of this process, the JVM and the JVM's descendants
    (Python workers): the figure to quote beside wall time on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree = {spark.sparkContext._gateway.proc.pid}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return time.process_time() + sum(used.get(pid, 0.0) for pid in tree)


def python_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(spark: Any, rows: int, folder: Path) -> dict[str, float]:
    from podium.config import load
    from podium.engine import spark as engine
    from podium.stages.evaluate import evaluate
    from podium.stages.train import train
    from podium.stages.validate import validate

    data = folder / "data"
    generate(spark, rows, seed=1).write.mode("overwrite").parquet(str(data / "train.parquet"))
    generate(spark, rows, seed=2).write.mode("overwrite").parquet(str(data / "eval.parquet"))
    suite = {
        "name": "bench",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "x1", "min_value": -1, "max_value": 2},
            },
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "plan", "value_set": ["a", "b", "c"]},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x2"}},
        ],
    }
    (folder / "suite.json").write_text(json.dumps(suite))
    document = {
        "model": {
            "name": "bench",
            "task": "classification",
            "estimator": {
                "class": "sklearn.linear_model.LogisticRegression",
                "params": {"max_iter": 200},
            },
        },
        "data": {
            "train": {"engine": "spark", "path": "data/train.parquet"},
            "eval": {"engine": "spark", "path": "data/eval.parquet"},
            "target": "label",
            "expectations": "suite.json",
            "train_sample": 50_000,
        },
        "gates": [{"metric": "roc_auc", "min": 0.5, "min_delta": -0.05}],
    }
    (folder / "podium.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    config = load(folder / "podium.yaml")
    times: dict[str, tuple[float, float, int]] = {}  # stage -> (seconds, CPU s, Spark jobs)
    context = spark.sparkContext

    def timed(name: str, stage: Any) -> None:
        context.setJobGroup(f"bench-{rows}-{name}", name)
        started, cpu = time.perf_counter(), tree_cpu_seconds(spark)
        stage(config=config)
        jobs = len(context.statusTracker().getJobIdsForGroup(f"bench-{rows}-{name}"))
        times[name] = (time.perf_counter() - started, tree_cpu_seconds(spark) - cpu, jobs)

    from podium.stages.promote import promote

    timed("validate (first)", validate)
    timed("train", train)
    timed("evaluate (challenger only)", evaluate)
    promote(config=config)
    engine._TABLES.clear()  # a new month of training data
    generate(spark, rows, seed=3, shift=0.2).write.mode("overwrite").parquet(
        str(data / "train.parquet")
    )
    timed("validate (with drift)", validate)
    timed("train 2", train)
    timed("evaluate (champion vs challenger)", evaluate)
    engine._TABLES.clear()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000, 20_000_000])
    parser.add_argument("--limit", default="8m", help="spark.driver.maxResultSize")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--keep", type=Path, help="keep the generated projects here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from pyspark.sql import SparkSession

    from podium.engine import spark as engine

    builder = SparkSession.builder.master(args.master).appName("podium-bench")
    # what podium sets on a session it builds (an older checkout has none)
    for key, value in getattr(engine, "SESSION_DEFAULTS", {}).items():
        builder = builder.config(key, value)
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.driver.maxResultSize", args.limit)
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    base = args.keep or Path(tempfile.mkdtemp(prefix="podium-bench-spark-"))
    print(f"maxResultSize {args.limit}, master {args.master}, projects in {base}")
    print(f"load average at start {os.getloadavg()[0]:.1f}")
    print("| rows | stage | seconds | CPU s | rows/s | Spark jobs | python peak MB | JVM peak MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for rows in args.rows:
        times = one_size(spark, rows, base / f"rows-{rows}")
        python_mb, jvm_mb = python_peak_mb(), jvm_peak_mb(spark)
        for stage, (seconds, cpu, jobs) in times.items():
            print(
                f"| {rows:,} | {stage} | {seconds:.1f} | {cpu:.1f} | {rows / seconds:,.0f} "
                f"| {jobs} | {python_mb:.0f} | {jvm_mb:.0f} |",
                flush=True,
            )
        print(f"load average after {rows:,} rows {os.getloadavg()[0]:.1f}", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
