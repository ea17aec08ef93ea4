"""Benchmark: `podium maturity` as a fresh process on a project whose champion is recorded.

    python -m bench.maturity [--repeats 5] [--keep DIR]   (from the repository root)

Builds the sample churn project in a git repository, generates its workflows (`podium
init`) and crowns v1 (`podium run`, not timed), then runs `podium maturity` `--repeats`
times as a user would: a new interpreter each time. It must stay offline and under a
second; prints the median wall and CPU time (user + system) and the load average, since
on a shared machine wall time stretches with other work and CPU time much less. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.demo import load, timed

GIT = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="build the project in DIR and keep it")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="podium-bench-maturity-"))
    root = folder / "project"
    from tests.conftest import write_sample_project

    from podium.sample import churn_tables

    write_sample_project(root, churn_tables(train_rows=1200, eval_rows=600))
    env = {**os.environ, **GIT}
    podium = [sys.executable, "-m", "podium"]
    (root / ".gitignore").write_text(".podium/\n")
    for step in (
        ["git", "init", "-q"],
        [*podium, "init"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "project"],
        [*podium, "run"],
    ):
        subprocess.run(step, cwd=root, env=env, check=True, capture_output=True)
    os.chdir(root)
    print(f"load before: {load()}")
    runs = [timed([*podium, "maturity"], env) for _ in range(args.repeats)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"podium maturity: median wall {wall:.2f} s, CPU {cpu:.2f} s ({args.repeats} runs)")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
