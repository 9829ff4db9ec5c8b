"""Time the synthetic generator: free simulations by n, and rebuilding the shipped cohort.

Run from the repository root: ``.venv/bin/python benchmarks/bench_synthetic.py``
(about 20 s). Prints the median of 3 runs of ``simulate_cohort(n, seed=1)`` for growing n
(CPU time and wall time, so a busy machine shows as the gap between them), and the
time to rebuild the shipped cohort from its recorded calibration (``shipped_cohort()``,
which is what ``python -m ctcbook.simulation.synthetic --out data`` does before writing the files).
The calibration search itself (``python -m ctcbook.simulation.synthetic --calibrate``) is not run
here: it takes about 30 s of CPU.
"""

from __future__ import annotations

import statistics
import time

from ctcbook.simulation import calibration, synthetic


def _timed(fn, repeats: int = 3) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    synthetic.simulate_cohort(52, seed=1)  # warm-up (imports, caches)
    print("| what | CPU | wall |")
    print("|---|---|---|")
    for n in (52, 1_000, 10_000, 20_000, 100_000):
        cpu, wall = _timed(lambda n=n: synthetic.simulate_cohort(n, seed=1))
        print(f"| simulate_cohort, n = {n:,} | {cpu * 1e3:.0f} ms | {wall * 1e3:.0f} ms |")
    cpu, wall = _timed(calibration.shipped_cohort)
    print(f"| shipped_cohort() (replay of {len(calibration.SHIPPED_SPEC['moves'])} re-draws) "
          f"| {cpu * 1e3:.0f} ms | {wall * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
