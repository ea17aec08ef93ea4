"""Benchmark: `podium run` against the bare script a user would write for the same loop.

    python bench/run.py [--rows 200000] [--repeats 3] [--keep DIR]
    python bench/run.py --rows 1000000          # the 1M-row figure

Generates a classification table (--rows training rows, a quarter as many evaluation
rows, 20 numeric features), trains HistGradientBoostingClassifier, and prepares two
sqlite registries that each already hold a champion. Then, alternating, each a fresh
process as a user runs it:

- `podium run` (validate, train, evaluate with bootstrap and importance, report, promote);
- the bare script: read the csv files, fit, `mlflow.sklearn.log_model` + register, score
  champion and challenger on the evaluation rows, gate on ROC AUC, move `@champion`.

and prints the median wall and CPU time of each and their ratios. Not a test: the numbers depend
on the machine and on what else runs on it (hence side by side, alternating).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FEATURES = 20

BARE = '''\
"""What a user writes by hand: read, fit, log + register, score both, gate, move the alias."""

import sys

import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

uri, name = sys.argv[1], "bare"
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
mlflow.set_experiment("bare")
train = pd.read_csv("data/train.csv")
evaluation = pd.read_csv("data/eval.csv")
x, y = train.drop(columns="target"), train["target"]
ex, ey = evaluation.drop(columns="target"), evaluation["target"]
model = HistGradientBoostingClassifier(random_state=0).fit(x, y)
with mlflow.start_run() as run:
    mlflow.log_metric("train_roc_auc", roc_auc_score(y, model.predict_proba(x)[:, 1]))
    # What podium does too: cloudpickle (MLflow's default, skops, refuses the trees'
    # TreePredictor unless told to trust it) and the requirements given, not inferred
    # (inference costs seconds in a subprocess).
    info = mlflow.sklearn.log_model(model, name="model", input_example=x.head(5),
                                    registered_model_name=name,
                                    serialization_format="cloudpickle",
                                    pip_requirements=["scikit-learn", "cloudpickle"])
client = MlflowClient()
version = info.registered_model_version
challenger = roc_auc_score(ey, model.predict_proba(ex)[:, 1])
try:
    champion_model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    champion = roc_auc_score(ey, champion_model.predict_proba(ex)[:, 1])
except mlflow.exceptions.MlflowException:
    champion = None
if champion is None or challenger >= champion:
    client.set_registered_model_alias(name, "champion", str(version))
print(f"challenger {challenger:.4f} champion {champion}")
'''


def generate(rows: int, seed: int) -> pd.DataFrame:
    """Rows of 20 numeric features; the label depends on a few of them, with noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES))
    weights = np.linspace(1.5, 0.0, FEATURES)
    logit = x @ weights + 0.5 * x[:, 0] * x[:, 1] + rng.normal(scale=1.0, size=rows)
    frame = pd.DataFrame(x.round(5), columns=[f"f{i:02d}" for i in range(FEATURES)])
    frame["target"] = (logit > 0).astype(int)
    return frame


def timed(
    command: list[str], folder: Path, env: dict[str, str], *, ok: tuple[int, ...] = (0,)
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one fresh process that
    must exit with one of `ok` (a script that died half-way would time less work)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="also time `podium run` from another checkout's src/ (e.g. main's), alternating, "
        "in its own copy of the project: before and after, side by side",
    )
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="podium-bench-"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    generate(args.rows, 1).to_csv(folder / "data" / "train.csv", index=False)
    generate(max(args.rows // 4, 1000), 2).to_csv(folder / "data" / "eval.csv", index=False)
    print(
        f"generated {args.rows:,} + {args.rows // 4:,} rows x {FEATURES} features "
        f"in {time.perf_counter() - started:.1f}s"
    )
    (folder / "podium.yaml").write_text(
        "model:\n  name: bench\n  task: classification\n"
        "  estimator: {class: sklearn.ensemble.HistGradientBoostingClassifier}\n"
        "data:\n  train: data/train.csv\n  eval: data/eval.csv\n  target: target\n"
        "gates:\n  - {metric: roc_auc, min_delta: 0}\n"
    )
    (folder / "bare.py").write_text(BARE)
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("GITHUB_ACTIONS", None)
    podium = [sys.executable, "-m", "podium", "run"]
    bare = [sys.executable, "bare.py", f"sqlite:///{folder / 'bare.db'}"]
    # `podium run` exits 1 when a gate fails (a whole run all the same); the bare script
    # has no gate to fail: anything but 0 is an error that cut it short.
    either = (0, 1)
    contenders = {
        "podium run": (podium, folder, env, either),
        "bare script": (bare, folder, env, (0,)),
    }
    if args.baseline:
        other = folder / "baseline"
        other.mkdir(exist_ok=True)
        # A copy of podium.yaml (a symlink would resolve to this folder and share its
        # registry); the data folder is shared.
        (other / "podium.yaml").write_text((folder / "podium.yaml").read_text())
        if not (other / "data").exists():
            (other / "data").symlink_to(folder / "data")
        old_path = os.pathsep.join([str(Path(args.baseline).resolve()), env["PYTHONPATH"]])
        contenders["baseline run"] = (podium, other, {**env, "PYTHONPATH": old_path}, either)

    # Every registry starts with a champion, as in a project's second PR onwards.
    setup = time.perf_counter()
    for command, where, environment, ok in contenders.values():
        timed(command, where, environment, ok=ok)
    print(f"set up the registries with a champion in {time.perf_counter() - setup:.1f}s")

    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, (command, where, environment, ok) in contenders.items():
            runs[name].append(timed(command, where, environment, ok=ok))
        print(
            "  "
            + "   ".join(f"{n} {r[-1][0]:5.1f}s ({r[-1][1]:5.1f}s CPU)" for n, r in runs.items())
        )
    # CPU time is the steadier figure on a shared machine (another process's load
    # stretches wall time, not the work done); wall time is what a user waits.
    for what, index in (("wall", 0), ("CPU", 1)):
        medians = {n: statistics.median(r[index] for r in found) for n, found in runs.items()}
        bare_median = medians["bare script"]
        print(
            f"{what:>4} (medians of {args.repeats}, {args.rows:,} rows): "
            + ", ".join(f"{n} {m:.2f}s = {m / bare_median:.2f}x bare" for n, m in medians.items())
        )
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
