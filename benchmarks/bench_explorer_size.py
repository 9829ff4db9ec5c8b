"""How big are the kernel-free explorers at registry size? Prints a markdown table.

    .venv/bin/python benchmarks/bench_explorer_size.py [--sizes 52 500 5000 20000] [--kinds threshold her2 cutpoint]

For each cohort size (the shipped cohort at 52, else ``simulate_cohort(n, seed=3)``, the
cohort of ``python -m ctcbook simulate --n N --seed 3``) and each explorer, builds the HTML
fragment the book embeds (:func:`ctcbook.explorer_html`) and reports its size in MB, the
number of precomputed results and of distinct (shared) curves, the largest number of
points kept per curve and per curve's censoring marks, and the seconds the build took
(almost all of it ``explore`` and, for the cutpoint explorer, ``maxstat``'s permutations).
Also the size of the same explorer unthinned and uncompressed (the format before issue
14) for n <= 5,000. The book's pages add about 40 kB of theme to the fragment. No timed
tests: this only reports.
"""

from __future__ import annotations

import argparse
import platform
import time

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED
from ctcbook.explorers.static import explorer_data, explorer_html


def measure(cohort, kind: str, full: bool) -> dict:
    t0 = time.perf_counter()
    page = explorer_html(cohort, kind)
    seconds = time.perf_counter() - t0
    data = explorer_data(cohort, kind)
    row = {
        "MB": len(page.encode("utf-8")) / 1e6, "s": seconds, "results": len(data["results"]),
        "curves": len(data["curves"]), "points": max(len(c["t"]) for c in data["curves"]),
        "marks": max(len(c["c"]) for c in data["curves"]), "full MB": None,
    }
    if full:
        unthinned = explorer_html(cohort, kind, thin=False, compress=False)
        row["full MB"] = len(unthinned.encode("utf-8")) / 1e6
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[52, 500, 5000, 20000])
    parser.add_argument("--kinds", nargs="+", default=["threshold", "her2", "cutpoint"])
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    print()
    print("| n | explorer | page fragment (MB) | unthinned JSON (MB) | results | curves stored "
          "| max points / curve | max marks / curve | build (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        cohort = cb.load_cohort(SHIPPED) if n == 52 else cb.simulate_cohort(n, seed=3)
        for kind in args.kinds:
            r = measure(cohort, kind, full=n <= 5000)
            full = "—" if r["full MB"] is None else f"{r['full MB']:.3f}"
            print(f"| {n:,} | {kind} | {r['MB']:.3f} | {full} | {r['results']} | {r['curves']} "
                  f"| {r['points']} | {r['marks']} | {r['s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
