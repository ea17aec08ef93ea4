"""Resource use and cost of a model version: what training and prediction took.

- Training (`measure`, around the whole fit — an estimator, an entrypoint or a
  `model.command` subprocess): wall time, CPU seconds of this process *and* of the child
  processes it waited for, and peak memory. Peak memory is the most resident memory the
  fit needed above what the process held before it (sampled every 10 ms), or the peak of
  a training subprocess, whichever is larger.
- Prediction (`prediction_peak_mb`): the peak of memory allocated while predicting the
  same 1,000-row batch `latency_ms` times (Python's tracemalloc, which numpy reports to;
  native libraries' own allocations are not seen).
- Cost: CPU hours × `metrics.cost_per_cpu_hour`, when set.

`podium train` logs the training numbers on the version's run (`fit_seconds`,
`fit_cpu_seconds`, `fit_peak_memory_mb`); `podium evaluate` reads them back for both
models, so they are compared and gated like any metric (`max`, `min_delta`).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The metrics this module adds to a model's scores (names as in `podium.scoring.METRICS`).
FIT_SECONDS = "fit_seconds"
FIT_CPU_SECONDS = "fit_cpu_seconds"
FIT_PEAK_MEMORY_MB = "fit_peak_memory_mb"
FIT_COST = "fit_cost"
PREDICT_MEMORY_MB = "predict_memory_mb"
# Measured once by `podium train` (on its run): evaluate does not log them again as eval_*.
AT_TRAINING = frozenset({FIT_SECONDS, FIT_CPU_SECONDS, FIT_PEAK_MEMORY_MB, FIT_COST})
RESOURCES = frozenset(
    {FIT_SECONDS, FIT_CPU_SECONDS, FIT_PEAK_MEMORY_MB, FIT_COST, PREDICT_MEMORY_MB}
)

_SAMPLE_SECONDS = 0.01
_MB = 1_000_000


@dataclass
class Usage:
    """What one measured call took (filled in when the `measure` block ends)."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_mb: float | None = None


def _rss_bytes() -> int | None:
    """Resident memory of this process now (Linux: /proc; elsewhere None)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes(who: int) -> int:
    """getrusage's peak resident size (kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(who).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return float(usage.ru_utime + usage.ru_stime)


@contextlib.contextmanager
def measure() -> Iterator[Usage]:
    """Measure the block: `with measure() as used: fit()` then read `used.cpu_seconds`."""
    used = Usage()
    baseline = _rss_bytes()
    peak = [baseline or 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(_SAMPLE_SECONDS):
            now = _rss_bytes()
            if now is not None and now > peak[0]:
                peak[0] = now

    sampler = threading.Thread(target=sample, name="podium-memory", daemon=True)
    if baseline is not None:
        sampler.start()
    self_max, child_max = (
        _maxrss_bytes(resource.RUSAGE_SELF),
        _maxrss_bytes(resource.RUSAGE_CHILDREN),
    )
    cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        yield used
    finally:
        used.wall_seconds = time.perf_counter() - started
        done.set()
        if baseline is not None:
            sampler.join()
            final = _rss_bytes() or 0
            grown = max(peak[0], final) - baseline
        else:  # no /proc: the process's peak, if this call raised it
            grown = max(0, _maxrss_bytes(resource.RUSAGE_SELF) - self_max)
        used.cpu_seconds = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu
        child = _maxrss_bytes(resource.RUSAGE_CHILDREN)
        child_peak = child if child > child_max else 0  # a training subprocess's own peak
        used.peak_memory_mb = max(grown, child_peak, 0) / _MB


def prediction_peak_mb(model: Any, features: Any) -> float:
    """Peak memory allocated while predicting a 1,000-row batch of `features`, in MB."""
    import tracemalloc

    import numpy as np
    from threadpoolctl import threadpool_limits

    if len(features) == 0:
        return math.nan
    batch = features.iloc[np.resize(np.arange(len(features)), 1000)]
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        # One thread, as latency_ms is timed: the arrays allocated are the same, and an
        # OpenMP region of 1,000 rows waits for a descheduled thread on a busy runner.
        with threadpool_limits(limits=1):
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            model.predict(batch)
            _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return max(0, peak - before) / _MB


def logged_metrics(registry: Any, run_id: str | None) -> dict[str, float]:
    """The metrics logged on a version's run (a `podium.registry.Registry`); none when the
    run is gone (deleted, or a version registered from elsewhere). A registry that cannot
    be reached still raises (exit 3)."""
    if not run_id:
        return {}
    run = registry.find("reading the run", lambda: registry.client.get_run(run_id))
    if run is None:
        return {}
    return {str(k): float(v) for k, v in run.data.metrics.items()}


def model_metrics(
    logged: Mapping[str, float],
    *,
    predict_memory_mb: float,
    cost_per_cpu_hour: float | None,
) -> dict[str, float]:
    """A version's resource metrics from its run's logged metrics (missing ones left out)."""
    found = {
        name: float(logged[name])
        for name in (FIT_SECONDS, FIT_CPU_SECONDS, FIT_PEAK_MEMORY_MB)
        if name in logged
    }
    if cost_per_cpu_hour is not None and FIT_CPU_SECONDS in found:
        found[FIT_COST] = found[FIT_CPU_SECONDS] / 3600 * cost_per_cpu_hour
    found[PREDICT_MEMORY_MB] = predict_memory_mb
    return found


def version_costs(
    registry: Any, version: Any, model: Any, features: Any, cost_per_cpu_hour: float | None
) -> dict[str, float]:
    """What a registered version cost to train (logged by `podium train`) and to predict
    1k rows."""
    return model_metrics(
        logged_metrics(registry, version.run_id),
        predict_memory_mb=prediction_peak_mb(model, features),
        cost_per_cpu_hour=cost_per_cpu_hour,
    )


def usage_metrics(used: Usage) -> dict[str, float]:
    """The run metrics of a training's resource use (`measure`)."""
    usage = {
        FIT_SECONDS: used.wall_seconds,
        FIT_CPU_SECONDS: used.cpu_seconds,
    }
    if used.peak_memory_mb is not None:
        usage[FIT_PEAK_MEMORY_MB] = used.peak_memory_mb
    return usage
