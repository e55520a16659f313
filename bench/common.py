"""Helpers both benchmarks share: progress lines, machine CPU counters, the report footer."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def log(msg: str) -> None:
    """A timestamped progress line on stderr (the report itself goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs from /proc/stat; (0, 0) where unavailable."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank; 0 for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def print_footer(p: Callable[[str], None], report: dict) -> None:
    """NOTE and PROBLEM lines, then the wall time and the verdict."""
    for line in report.get("notes", []):
        p(f"NOTE: {line}")
    for line in report.get("problems", []):
        p(f"PROBLEM: {line}")
    p(f"total wall time {report['wall_seconds']:.0f} s; result: {report['status']}")
