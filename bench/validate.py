"""Benchmark: `podium validate` against hand-written vectorised pandas checks of the same rules.

    python bench/validate.py [--rows 5000000] [--format parquet|csv] [--repeats 3] [--keep DIR]

Generates a 10-column table (train: --rows rows; eval: a tenth of it), writes a suite
with `podium suggest`'s rules, then times in the same run:

- `podium validate` as CI runs it: a fresh process (imports included) and, warm, the
  stage function alone (data read, GX suite on train and eval, podium's own checks);
- the same rules as plain pandas: read each file once, one vectorised pass per rule —
  as a fresh process too (a script importing pandas), and warm in this process.

alternating `--repeats` times, and prints the medians and the ratios (fresh vs fresh,
warm vs warm). Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def generate(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(0, 73, rows),
            "monthly_charges": np.round(rng.uniform(20, 120, rows), 2),
            "support_calls": rng.poisson(1.5, rows),
            "age": rng.integers(18, 81, rows).astype(float),
            "balance": rng.normal(1000, 300, rows),
            "usage_gb": rng.gamma(2.0, 10.0, rows),
            "logins": rng.integers(0, 500, rows),
            "plan": rng.choice(["monthly", "yearly", "two_year"], rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "churned": rng.integers(0, 2, rows),
        }
    )
    frame.loc[rng.uniform(size=rows) < 0.03, "age"] = np.nan
    return frame


def write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def pandas_checks(frame: pd.DataFrame, suite: list[dict[str, Any]]) -> list[bool]:
    """The suite's rules, hand-written: one vectorised expression per expectation."""
    out = []
    for item in suite:
        kind, kw = item["type"], item["kwargs"]
        column = frame[kw["column"]] if "column" in kw and kw["column"] in frame else None
        if kind == "expect_table_row_count_to_be_between":
            ok = kw["min_value"] <= len(frame) <= kw["max_value"]
        elif kind == "expect_column_to_exist":
            ok = column is not None
        elif kind == "expect_column_values_to_be_in_type_list":
            assert column is not None
            ok = str(column.dtype) in kw["type_list"]
        elif kind == "expect_column_values_to_not_be_null":
            assert column is not None
            ok = column.notna().mean() >= kw.get("mostly", 1.0)
        elif kind == "expect_column_values_to_be_between":
            assert column is not None
            present = column.dropna()
            ok = bool(present.between(kw["min_value"], kw["max_value"]).all())
        elif kind == "expect_column_values_to_be_in_set":
            assert column is not None
            ok = bool(column.dropna().isin(kw["value_set"]).all())
        elif kind == "expect_column_values_to_be_unique":
            assert column is not None
            ok = not column.dropna().duplicated().any()
        else:
            raise SystemExit(f"no hand-written check for {kind}")
        out.append(bool(ok))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    sys.path.insert(0, str(ROOT / "src"))

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="podium-bench-"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    train_path = folder / "data" / f"train.{args.format}"
    eval_path = folder / "data" / f"eval.{args.format}"
    started = time.perf_counter()
    write(generate(args.rows, 1), train_path)
    write(generate(max(args.rows // 10, 1000), 2), eval_path)
    print(
        f"generated {args.rows:,} + {args.rows // 10:,} rows x 10 columns "
        f"({args.format}) in {time.perf_counter() - started:.1f}s"
    )

    config = folder / "podium.yaml"
    config.write_text(
        "model:\n  name: bench\n  task: classification\n"
        "  estimator: {class: sklearn.linear_model.LogisticRegression}\n"
        f"data:\n  train: data/{train_path.name}\n  eval: data/{eval_path.name}\n"
        "  target: churned\n  expectations: expectations/bench.json\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    cli = [sys.executable, "-m", "podium"]
    subprocess.run(
        [*cli, "suggest", "--force", "--config", str(config)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    suite = json.loads((folder / "expectations" / "bench.json").read_text())["expectations"]
    print(f"suite: {len(suite)} expectations (podium suggest's rules), on train and eval")

    from podium import data, expectations
    from podium.config import load
    from podium.stages.validate import validate

    loaded = load(config)
    expectations._context()  # GX import and context, paid once per process (if ever)
    # The hand-written checks as a script of their own, for a fresh process on both sides.
    script = folder / "by_hand.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'bench')!r})\n"
        "import json\nfrom pathlib import Path\nfrom validate import pandas_checks, read\n"
        f"suite = json.loads(Path({str(folder / 'expectations' / 'bench.json')!r}).read_text())\n"
        f"paths = [Path({str(train_path)!r}), Path({str(eval_path)!r})]\n"
        "verdicts = [v for p in paths for v in pandas_checks(read(p), suite['expectations'])]\n"
        "sys.exit(0 if all(verdicts) else 1)\n"
    )

    def fresh(command: list[str]) -> tuple[float, float]:
        """Wall and CPU seconds (user + system, all threads) of a fresh process."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime

    def warm_podium() -> tuple[float, float]:
        data._CACHE.clear()  # a fresh read, as in a new process
        started, cpu = time.perf_counter(), time.process_time()
        validate(config=loaded)
        return time.perf_counter() - started, time.process_time() - cpu

    def warm_pandas() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        verdicts = []
        for path in (train_path, eval_path):
            verdicts += pandas_checks(read(path), suite)
        assert all(verdicts), "the hand-written checks disagree with podium"
        return time.perf_counter() - started, time.process_time() - cpu

    # Alternating, so that a burst of load elsewhere stretches both sides alike.
    timings: dict[str, list[tuple[float, float]]] = {
        k: [] for k in ("cold", "cold_pandas", "warm", "pandas")
    }
    for _ in range(args.repeats):
        timings["cold"].append(fresh([*cli, "validate", "--config", str(config)]))
        timings["cold_pandas"].append(fresh([sys.executable, str(script)]))
        timings["warm"].append(warm_podium())
        timings["pandas"].append(warm_pandas())
    # CPU time is the steadier figure on a shared machine; wall time is what a user waits.
    wall = {k: statistics.median(t[0] for t in found) for k, found in timings.items()}
    cpu = {k: statistics.median(t[1] for t in found) for k, found in timings.items()}

    # a script file, not `python -c`: pyspark (which GX imports when installed) takes a
    # `-c` process for a doctest run and exits 0 halfway through the import
    probe = folder / "import_gx.py"
    probe.write_text("import great_expectations\n")
    gx_import = fresh([sys.executable, str(probe)])

    print(f"medians of {args.repeats}, alternating (a bare GX import: {gx_import[0]:.1f}s)")
    names = {
        "cold": "podium validate, fresh process",
        "cold_pandas": "hand-written pandas, fresh process",
        "warm": "podium validate, warm stage",
        "pandas": "hand-written pandas, warm",
    }
    for key, name in names.items():
        print(f"{name + ':':37} {wall[key]:7.2f}s wall {cpu[key]:7.2f}s CPU")
    for what, found in (("wall", wall), ("CPU", cpu)):
        print(
            f"ratio podium/pandas ({what}): {found['cold'] / found['cold_pandas']:.1f}x fresh "
            f"(both fresh processes), {found['warm'] / found['pandas']:.1f}x warm"
        )
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
