"""Benchmarks run by `make bench`; reports go to benchmarks/results/."""

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
