"""Benchmark: `podium validate` against hand-written vectorised pandas checks of the same rules.

    python bench/validate.py [--rows 5000000] [--format parquet|csv] [--keep DIR]

Generates a 10-column table (train: --rows rows; eval: a tenth of it), writes a suite
with `podium suggest`'s rules, then times in the same run:

- `podium validate` as CI runs it: a fresh process (imports included) and, warm, the
  stage function alone (data read, GX suite on train and eval, podium's own checks);
- the same rules as plain pandas: read each file once, one vectorised pass per rule.

and prints the ratios. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
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

    # 1. podium validate as CI runs it: a fresh process.
    started = time.perf_counter()
    done = subprocess.run(
        [*cli, "validate", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    cold = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"podium validate failed ({done.returncode}): {done.stderr.strip()}")

    # 2. the hand-written pandas checks, in this process: read each file once, check.
    started = time.perf_counter()
    verdicts = []
    for path in (train_path, eval_path):
        verdicts += pandas_checks(read(path), suite)
    by_hand = time.perf_counter() - started
    assert all(verdicts), "the hand-written checks disagree with podium"

    # 3. the stage function, warm (imports done), fresh data read.
    from podium import data, expectations
    from podium.config import load
    from podium.stages.validate import validate

    loaded = load(config)
    expectations._context()  # GX import and context, paid once per process
    data._CACHE.clear()
    started = time.perf_counter()
    validate(config=loaded)
    warm = time.perf_counter() - started

    # a script file, not `python -c`: pyspark (which GX imports when installed) takes a
    # `-c` process for a doctest run and exits 0 halfway through the import
    probe = folder / "import_gx.py"
    probe.write_text("import great_expectations\n")
    import_started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(probe)],
        env=env,
        check=True,
        capture_output=True,
    )
    gx_import = time.perf_counter() - import_started

    print(f"podium validate, fresh process:   {cold:7.2f}s  (a bare GX import: {gx_import:.1f}s)")
    print(f"podium validate, warm stage:      {warm:7.2f}s")
    print(f"hand-written pandas, same rules:  {by_hand:7.2f}s")
    print(f"ratio podium/pandas: {cold / by_hand:.1f}x cold, {warm / by_hand:.1f}x warm")
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
