"""Benchmarks run by `make bench`; reports go to benchmarks/results/."""

# The peak RSS of this process from /proc: unlike getrusage's ru_maxrss, which a child
# started with fork+exec can inherit from a larger parent. Used in measurement subprocesses.
PEAK_RSS_MB = (
    "[int(line.split()[1]) / 1024 for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')][0]"
)
