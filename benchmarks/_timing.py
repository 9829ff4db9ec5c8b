"""Timing helper shared by the benchmark scripts (run as scripts from the repository root)."""

from __future__ import annotations

import time


def best_of(fn, repeat: int = 3) -> float:
    """The shortest wall time, in seconds, of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
