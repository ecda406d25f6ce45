"""What every benchmark measures the same way: percentiles, a process's CPU time from /proc,
and enough file descriptors for thousands of sockets."""

from __future__ import annotations

import os
import resource
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank value at `share` (0.5, 0.99) of at least one value."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _stat_cpu_seconds(stat: Path) -> float:
    """User and system CPU time in a /proc `stat` file (a process's or one thread's)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds(*pids: int) -> float:
    """User and system CPU time so far of the processes, all their threads."""
    return sum(_stat_cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in pids)


def thread_cpu_seconds(pid: int, tid: int) -> float:
    """User and system CPU time so far of one thread of a process."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/task/{tid}/stat"))


def lift_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
