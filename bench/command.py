"""What podium adds around a training command (`model.command`): seconds, side by side.

Two contenders, each a fresh process, alternating `--repeats` times on the same data:
- `podium train` with `model.command: python train.py` (README's NumPy example): podium
  reads and fingerprints the data, opens the run, runs the script, finds and loads its
  model, scores it on the training data, logs podium's params/artifacts and registers it;
- the bare script alone (`python train.py`): the same training and `log_model`, in a run
  it opens itself, nothing registered.
The difference is podium's overhead. Both stores exist already (a warm-up run each): a
real project's registry does.

    python bench/command.py [--rows 20000] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_script() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"```python\n(# train\.py — .*?)```", readme, re.DOTALL)
    assert found, "README lost its train.py example"
    return found.group(1)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="training rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the generated project in DIR")
    options = parser.parse_args()

    from podium.sample import churn_tables

    folder = options.keep or Path(tempfile.mkdtemp(prefix="podium-bench-command-"))
    project = folder / "project"
    (project / "data").mkdir(parents=True, exist_ok=True)
    train, evaluation = churn_tables(train_rows=options.rows, eval_rows=options.rows // 4)
    train.to_csv(project / "data" / "train.csv", index=False)
    evaluation.to_csv(project / "data" / "eval.csv", index=False)
    (project / "train.py").write_text(readme_script())
    (project / "podium.yaml").write_text(
        "model:\n  name: churn\n  task: classification\n  command: python train.py\n"
        "data:\n  train: data/train.csv\n  eval: data/eval.csv\n  target: churned\n"
        "  exclude: [customer_id]\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    bare_env = {
        **base,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'bare.db'}",
        "PODIUM_TRAIN_DATA": str(project / "data" / "train.csv"),
        "PODIUM_EVAL_DATA": str(project / "data" / "eval.csv"),
        "PODIUM_TARGET": "churned",
        "PODIUM_TASK": "classification",
        "PODIUM_FEATURES": json.dumps(
            [c for c in train.columns if c not in ("customer_id", "churned")]
        ),
    }
    podium = [sys.executable, "-m", "podium", "train"]
    bare = [sys.executable, "train.py"]
    timed(podium, project, base)  # warm-up: creates the registry (migrations), byte-compiles
    timed(bare, project, bare_env)
    runs: dict[str, list[tuple[float, float]]] = {"podium train": [], "bare script": []}
    for _ in range(options.repeats):
        runs["podium train"].append(timed(podium, project, base))
        runs["bare script"].append(timed(bare, project, bare_env))
    print(f"{options.rows:,} training rows, median of {options.repeats} (alternating)")
    medians = {}
    for name, samples in runs.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        medians[name] = (wall, cpu)
        print(f"  {name:<13} wall {wall:6.2f} s   CPU {cpu:6.2f} s")
    (pw, pc), (bw, bc) = medians["podium train"], medians["bare script"]
    print(f"  overhead      wall {pw - bw:+6.2f} s   CPU {pc - bc:+6.2f} s")
    if options.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
