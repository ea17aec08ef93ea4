"""Benchmark: `podium demo` as a fresh process, against a baseline checkout in the same run.

    python bench/demo.py [--repeats 3] [--baseline /work/main/src] [--python PY] [--keep DIR]

Each repeat runs, alternating, `podium demo --dir <new empty folder>` from this checkout
(and from `--baseline SRC`, another checkout's src/, e.g. main's before a change), as a
user runs it after `pip install`: a new interpreter, a new folder, a new sqlite store.
Then `podium --help` (start-up alone) the same way. Prints the median wall time, CPU
time (user + system, all threads) and peak memory of each, the ratios to the baseline,
and the load average before and after: on a shared machine wall time stretches with
other work, CPU time much less (quote both). Not a test: the numbers depend on the
machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline", metavar="SRC", help="also time another checkout's src/, alternating"
    )
    parser.add_argument("--keep", metavar="DIR", help="run the demos in DIR and keep them")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter to run podium with, e.g. a fresh venv's after `pip install .` "
        "(each checkout's src/ comes first on its PYTHONPATH)",
    )
    args = parser.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    base_env.pop("GITHUB_ACTIONS", None)
    sources = {"this": ROOT / "src"}
    if args.baseline:
        sources["baseline"] = Path(args.baseline).resolve()
    envs = {
        name: {
            **base_env,
            "PYTHONPATH": os.pathsep.join([str(src), base_env.get("PYTHONPATH", "")]),
        }
        for name, src in sources.items()
    }
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="podium-bench-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    podium = [args.python, "-m", "podium"]
    print(f"load average before: {load()}")
    runs: dict[str, list[tuple[float, float, float]]] = {}
    for repeat in range(args.repeats):
        for name, env in envs.items():
            where = folder / f"{name}-{repeat}"
            runs.setdefault(f"demo ({name})", []).append(
                timed([*podium, "demo", "--dir", str(where)], env)
            )
            runs.setdefault(f"--help ({name})", []).append(timed([*podium, "--help"], env))
        print(
            f"  round {repeat + 1}: "
            + "   ".join(
                f"{n} {r[-1][0]:.2f}s ({r[-1][1]:.2f}s CPU)"
                for n, r in runs.items()
                if n.startswith("demo")
            )
        )
    print(f"load average after:  {load()}")
    medians = {
        n: tuple(statistics.median(run[i] for run in found) for i in range(3))
        for n, found in runs.items()
    }
    for name, (wall, cpu, peak) in medians.items():
        line = f"{name:>18}: {wall:6.2f}s wall  {cpu:6.2f}s CPU  {peak:5.0f} MB peak"
        other = name.replace("(this)", "(baseline)")
        if other != name and other in medians:
            old_wall, old_cpu, _ = medians[other]
            line += f"   = {wall / old_wall:.2f}x wall, {cpu / old_cpu:.2f}x CPU of baseline"
        print(line)
    print(f"(medians of {args.repeats} alternating fresh processes)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
