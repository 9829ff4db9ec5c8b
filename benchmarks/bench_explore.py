"""How long does a move of the live explorer take? Prints a markdown table.

    .venv/bin/python benchmarks/bench_explore.py [--moves 40]

For n = 52 (the shipped cohort) and n = 10,000 (``simulate_cohort(10000, seed=11)``), the
CTC-threshold slider is moved through thresholds 1..moves (grouping by CTC count at first
follow-up, then HER2 rules) on a live ``ExplorerWidget``: each move runs the widget's own
observer, i.e. ``explore`` + updating the figure's artists + rendering (Agg, cached
background) + PNG encoding + setting the widget values. Medians and 90th percentiles in
milliseconds. Also times ``Exploration.figure`` (a full ``plot_km`` figure with its risk
table, what the static chapters draw) for comparison. No timed tests: this only reports.
"""

from __future__ import annotations

import argparse
import io
import platform
import time

import numpy as np
import pandas as pd

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED
from ctcbook.explorers.core import explore
from ctcbook.explorers.widgets import explorer_widget

PARTS = ["explore", "artists", "render", "png", "widgets", "total"]


def bench(cohort, moves: int) -> dict[str, tuple[float, float]]:
    w = explorer_widget(cohort, grouping="ctc_count")
    w.timings.clear()
    slider = w.controls["threshold"]
    for th in list(range(1, moves + 1)) + [5]:
        slider.value = th
    frame = pd.DataFrame(w.timings) * 1000
    out = {p: (float(frame[p].median()), float(frame[p].quantile(0.9))) for p in PARTS}
    # plot_km figure for comparison
    full = []
    for th in range(1, 11):
        t0 = time.perf_counter()
        fig = explore(cohort, th, grouping="ctc_count").figure
        fig.savefig(io.BytesIO(), format="png", dpi=80)
        full.append(time.perf_counter() - t0)
    out["plot_km figure + PNG (not live)"] = (float(np.median(full) * 1000),
                                              float(np.quantile(full, 0.9) * 1000))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    cb.style()
    cohorts = {"52 (shipped)": cb.load_cohort(SHIPPED),
               "10,000 (simulated)": cb.simulate_cohort(10_000, seed=11)}
    results = {name: bench(c, args.moves) for name, c in cohorts.items()}
    print(f"Live explorer, one slider move ({args.moves + 1} moves; median / p90 ms; "
          f"{platform.python_version()}, {platform.machine()})\n")
    print("| step | " + " | ".join(f"n = {n}" for n in results) + " |")
    print("|---|" + "---|" * len(results))
    for part in [*PARTS, "plot_km figure + PNG (not live)"]:
        cells = [f"{r[part][0]:.1f} / {r[part][1]:.1f}" for r in results.values()]
        print(f"| {part} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
