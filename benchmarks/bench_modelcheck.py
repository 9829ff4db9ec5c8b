"""How the cost of the model checks (notebooks 21-25) grows with the cohort size.

Run from the repository root::

    .venv/bin/python benchmarks/bench_modelcheck.py            # n = 52, 500, 2000, 5000
    .venv/bin/python benchmarks/bench_modelcheck.py --quick    # n = 52, 500

Simulates a cohort of each size (``ctcbook.simulate_cohort``, seed 3) and prints a
markdown table of wall times (best of 3) for: every proportional-hazards test of the
book's Cox models (``ph_table(book_cox_models(...))``, which refits each model and loops
over event times), the RMST difference, the Results chapters' tests with their
adjustments, the Simon-Makuch curves, and the time-varying Cox model of chapter 14
(``cox_time_varying``: lifelines' ``CoxTimeVaryingFitter``, whose cost grows with events
times patients, beside the book's own counting-process Cox, ``cox(..., start=...)``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import best_of  # noqa: E402

import ctcbook as cb  # noqa: E402
from ctcbook.stats import modelcheck as mc  # noqa: E402
from ctcbook.stats.timevarying import counting_process  # noqa: E402

TV_ARGS = ("os_days", "os_event", "her2_pos_first_follow_up", "day_first_follow_up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (52, 500) if args.quick else (52, 500, 2000, 5000)
    print("| n | PH tests, all models | RMST difference | Results tests + Holm/BH | Simon-Makuch "
          "| Time-varying Cox, lifelines | same, cox(start=) |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        table = cb.patient_table(cb.simulate_cohort(n=n, seed=3))
        d = table.dropna(subset=["her2_pos_first_follow_up"])
        long = counting_process(table, *TV_ARGS).rename(columns={"marker": TV_ARGS[2]})
        cells = [
            best_of(lambda t=table: mc.ph_table(mc.book_cox_models(t))),
            best_of(lambda d=d: mc.rmst_difference(d["os_days"], d["os_event"],
                                                   d["her2_pos_first_follow_up"])),
            best_of(lambda t=table: mc.results_tests(t)),
            best_of(lambda t=table: mc.simon_makuch(t, "os_days", "os_event",
                                                    "her2_pos_first_follow_up",
                                                    "day_first_follow_up")),
            best_of(lambda t=table: cb.cox_time_varying(t, *TV_ARGS)),
            best_of(lambda long=long: cb.cox(long, "stop", "event", [TV_ARGS[2]], start="start")),
        ]
        print(f"| {n} | " + " | ".join(f"{c * 1000:.0f} ms" for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
