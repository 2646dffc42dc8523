"""Benchmarks run by `make bench`; reports go to benchmarks/results/."""

import time
from collections.abc import Callable

import numpy as np

# The peak RSS of this process from /proc: unlike getrusage's ru_maxrss, which a child
# started with fork+exec can inherit from a larger parent. Used in measurement subprocesses.
PEAK_RSS_MB = (
    "[int(line.split()[1]) / 1024 for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')][0]"
)


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0 to 1) of the samples by nearest rank, rounded to 3 decimals."""
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def host_speed() -> dict[str, float]:
    """Medians of two fixed workloads, in ms: timings from runs on other hosts, or in a
    slower spell of a shared one, compare once scaled by them. BLAS should use one thread."""
    left = np.random.default_rng(0).standard_normal((128, 512), dtype=np.float32)
    right = np.random.default_rng(1).standard_normal((512, 512), dtype=np.float32)
    return {"sgemm_128x512x512_ms": _median_ms(lambda: left @ right, 200),
            "python_loop_1e6_ms": _median_ms(lambda: sum(range(1_000_000)), 9)}


def _median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1000)
    return percentile(times, 0.5)
