"""Resource measurement: CPU (own and children's), peak memory, prediction memory, cost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from podium.resources import (
    FIT_COST,
    FIT_CPU_SECONDS,
    PREDICT_MEMORY_MB,
    measure,
    model_metrics,
    prediction_peak_mb,
)


def test_cpu_seconds_count_this_process_and_the_children_it_waited_for() -> None:
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    with measure() as used:
        subprocess.run([sys.executable, "-c", burn], check=True)
    assert used.cpu_seconds >= 0.3
    assert used.wall_seconds >= 0.3


def test_peak_memory_is_what_the_block_needed() -> None:
    with measure() as used:
        block = np.ones(100_000_000 // 8)  # 100 MB, touched
        block.sum()
        del block
    assert used.peak_memory_mb is not None
    assert used.peak_memory_mb >= 80


def test_a_training_subprocess_peak_counts() -> None:
    """Measured in a fresh interpreter, as `podium train` is: RUSAGE_CHILDREN's maxrss is
    the high-water mark of every child the process ever waited for, so an earlier, bigger
    child of the test process (another test's subprocess) would hide this one's peak."""
    grow = "import numpy as np\nnp.ones(150_000_000 // 8).sum()"
    check = textwrap.dedent(
        f"""
        import subprocess, sys
        from podium.resources import measure
        with measure() as used:
            subprocess.run([sys.executable, "-c", {grow!r}], check=True)
        print(used.peak_memory_mb)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = float(proc.stdout.split()[-1])
    assert peak >= 150, peak


def test_prediction_memory_grows_with_what_predict_allocates() -> None:
    class Wasteful:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            np.ones((len(frame), 10_000)).sum()  # 80 MB for 1,000 rows
            return np.zeros(len(frame))

    class Frugal:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return np.zeros(len(frame))

    features = pd.DataFrame({"x": np.arange(10.0)})
    assert prediction_peak_mb(Wasteful(), features) >= 80
    assert prediction_peak_mb(Frugal(), features) < 1


def test_cost_is_cpu_hours_times_the_rate_and_absent_without_one() -> None:
    logged = {FIT_CPU_SECONDS: 7200.0, "fit_seconds": 100.0}
    found = model_metrics(logged, predict_memory_mb=1.0, cost_per_cpu_hour=0.05)
    assert found[FIT_COST] == pytest.approx(0.1)
    assert found[PREDICT_MEMORY_MB] == 1.0
    assert FIT_COST not in model_metrics(logged, predict_memory_mb=1.0, cost_per_cpu_hour=None)
