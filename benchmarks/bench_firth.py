"""How the small-group intervals of chapter 10 cost as the cohort grows.

Run from the repository root::

    .venv/bin/python benchmarks/bench_firth.py

Prints a markdown table: wall time of one Firth-penalised Cox fit with its profile penalised
likelihood interval (``cox_firth``) and of the plain profile-likelihood fit, for a binary group
of 12% prevalence at several n. Data are seeded; each time is the best of three. (The
bootstrap of ``hazard_ratio_intervals`` is ``resampling.cox_binary_rows``, measured by the
resampling benchmarks; chapter 10 reuses the bootstrap it already ran.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_of  # noqa: E402

from ctcbook.stats.firth import cox_firth  # noqa: E402


def main() -> None:
    print("| n | Firth + profile CI | plain + profile CI |")
    print("|---|---|---|")
    for n in (52, 500, 5000, 50_000):
        rng = np.random.default_rng(n)
        g = (rng.random(n) < 0.12).astype(float)
        t = rng.exponential(500 / np.exp(0.8 * g)) + 1
        e = rng.random(n) < 0.8
        firth = best_of(lambda t=t, e=e, g=g: cox_firth(t, e, g))
        plain = best_of(lambda t=t, e=e, g=g: cox_firth(t, e, g, firth=False))
        print(f"| {n:,} | {1000 * firth:.1f} ms | {1000 * plain:.1f} ms |")


if __name__ == "__main__":
    main()
