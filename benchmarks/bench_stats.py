"""Timings of ctcbook's statistics against lifelines, measured in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_stats.py            # full run (about a minute)
    .venv/bin/python benchmarks/bench_stats.py --quick    # fewer repeats

Prints a markdown table: median wall time of repeated calls (``timeit``), the speed-up,
and the largest absolute difference between our numbers and lifelines' (the
cutpoint sweep must agree to 1e-8). Data are seeded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lifelines import CoxPHFitter, KaplanMeierFitter  # noqa: E402
from lifelines.statistics import logrank_test  # noqa: E402

from ctcbook.stats._engine import cox_binary_rows, score_test_batch  # noqa: E402
from ctcbook.stats.cutpoints import _MAXSTAT_CACHE, logrank_sweep, maxstat  # noqa: E402
from ctcbook.stats.resampling import bootstrap, permutation_logrank  # noqa: E402
from ctcbook.stats.survival import cox, kaplan_meier, logrank  # noqa: E402


def median_time(fn: Callable[[], object], repeat: int, min_time: float = 0.05) -> float:
    """Median seconds per call over ``repeat`` timeit runs, each looping >= ~min_time."""
    timer = timeit.Timer(fn)
    one = timer.timeit(1)  # also a warm-up
    number = max(1, int(min_time / max(one, 1e-9)))
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def data(n: int, seed: int = 2012) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    marker = rng.lognormal(0, 1, n)
    time = np.ceil(rng.exponential(400 / (1 + 0.3 * (marker > 1)), n))  # days, with ties
    event = rng.random(n) < 0.7
    return time, event, marker


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def bench_n(n: int, repeat: int) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    time, event, marker = data(n)
    cuts = np.quantile(marker, np.linspace(0.1, 0.9, 50))

    def sweep_ours() -> pd.DataFrame:
        return logrank_sweep(time, event, marker, cutpoints=cuts)

    def sweep_lifelines() -> np.ndarray:
        out = np.empty(cuts.size)
        for i, c in enumerate(cuts):
            h = marker >= c
            out[i] = logrank_test(time[h], time[~h], event[h], event[~h]).test_statistic
        return out

    diff = float(np.max(np.abs(sweep_ours().statistic.to_numpy() - sweep_lifelines())))
    assert diff < 1e-8, diff
    t_ours = median_time(sweep_ours, repeat)
    t_ll = median_time(sweep_lifelines, max(1, repeat // 2))
    rows.append((f"`logrank_sweep`, 50 cutpoints, n={n:,}", fmt(t_ours), fmt(t_ll) + " (50 × `logrank_test`)", f"{t_ll / t_ours:,.0f}×", f"{diff:.1e}"))

    def maxstat_uncached() -> object:
        _MAXSTAT_CACHE.clear()  # maxstat remembers results by their inputs: time the work
        return maxstat(time, event, marker, n_permutations=10_000)

    t_max = median_time(maxstat_uncached, max(1, repeat // 2))
    rows.append((f"`maxstat`, 10,000 permutations, n={n:,}", fmt(t_max), "—", "—", "—"))

    df = pd.DataFrame({"t": time, "e": event.astype(int), "x": np.log(marker)})
    ours_cox = cox(df, "t", "e", ["x"])

    def ll_cox() -> CoxPHFitter:
        return CoxPHFitter().fit(df, "t", "e")

    def ll_cox_tight() -> CoxPHFitter:
        return CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-12, "r_precision": 1e-15})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence heuristics are not timed content
        diff_cox = abs(ours_cox.summary.coef.iloc[0] - ll_cox_tight().params_.iloc[0])
        t_ll_cox = median_time(ll_cox, max(1, repeat // 2))
    t_cox = median_time(lambda: cox(df, "t", "e", ["x"]), repeat)
    rows.append((f"`cox` (Efron, 1 covariate), n={n:,}", fmt(t_cox), fmt(t_ll_cox) + " (`CoxPHFitter`)", f"{t_ll_cox / t_cox:,.0f}×", f"{diff_cox:.1e} (vs tightened)"))

    km = kaplan_meier(time, event)
    kmf = KaplanMeierFitter().fit(time, event)
    diff_km = float(np.max(np.abs(km.survival.to_numpy() - kmf.survival_function_.iloc[:, 0].loc[km.time].to_numpy())))
    t_km = median_time(lambda: kaplan_meier(time, event), repeat)
    t_ll_km = median_time(lambda: KaplanMeierFitter().fit(time, event), repeat)
    rows.append((f"`kaplan_meier`, n={n:,}", fmt(t_km), fmt(t_ll_km) + " (`KaplanMeierFitter`)", f"{t_ll_km / t_km:,.0f}×", f"{diff_km:.1e}"))

    group = marker >= np.median(marker)
    lr = logrank(time, event, group).statistic
    ref = logrank_test(time[group], time[~group], event[group], event[~group]).test_statistic
    t_lr = median_time(lambda: logrank(time, event, group), repeat)
    t_ll_lr = median_time(lambda: logrank_test(time[group], time[~group], event[group], event[~group]), repeat)
    rows.append((f"`logrank` (2 groups), n={n:,}", fmt(t_lr), fmt(t_ll_lr) + " (`logrank_test`)", f"{t_ll_lr / t_lr:,.0f}×", f"{abs(lr - ref):.1e}"))
    return rows


def bench_loops(repeat: int) -> list[tuple[str, str, str, str, str]]:
    """The engine's many-rows paths at n = 52: bootstrap Cox fits, permutations, studies.

    lifelines is timed on 20 calls and scaled to the same number (its cost per call is
    flat); the difference column compares the first 20 rows.
    """
    rows: list[tuple[str, str, str, str, str]] = []
    time, event, marker = data(52)
    g = (marker >= np.median(marker)).astype(int)
    rng = np.random.default_rng(1)
    w = rng.multinomial(52, np.full(52, 1 / 52), size=10_000)
    df = pd.DataFrame({"t": time, "e": event.astype(int), "g": g})
    t_rows = median_time(lambda: cox_binary_rows(time, event, g, w), max(1, repeat // 2))
    fits = []

    def ll_fits() -> None:
        fits.clear()
        for i in range(20):
            d = df.iloc[np.repeat(np.arange(52), w[i])]
            fits.append(CoxPHFitter().fit(d, "t", "e", fit_options={"precision": 1e-12, "r_precision": 1e-15}).params_.iloc[0])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ll = median_time(ll_fits, 1, min_time=0.0) * 500
    diff = float(np.max(np.abs(cox_binary_rows(time, event, g, w[:20]) - np.array(fits))))
    rows.append(("10,000 bootstrap Cox fits (`cox_binary_rows`), n=52", fmt(t_rows),
                 fmt(t_ll) + " (10,000 × `CoxPHFitter`, from 20)", f"{t_ll / t_rows:,.0f}×", f"{diff:.1e}"))
    t_boot = median_time(lambda: bootstrap(time, event, g, n_boot=2000, seed=0), max(1, repeat // 2))
    rows.append(("`bootstrap`, 2,000 resamples (Cox + two KM medians), n=52", fmt(t_boot), "—", "—", "—"))
    t_perm = median_time(lambda: permutation_logrank(time, event, g, n_permutations=20_000, max_exact=0, seed=0),
                         max(1, repeat // 2))
    rows.append(("`permutation_logrank`, 20,000 permutations, n=52", fmt(t_perm), "—", "—", "—"))
    sim_t = rng.exponential(400, (2000, 52))
    sim_e = rng.random((2000, 52)) < 0.7
    sim_g = rng.random((2000, 52)) < 0.3
    switch = np.where(sim_g, -np.inf, np.inf)
    t_sim = median_time(lambda: score_test_batch(sim_t, sim_e, switch), max(1, repeat // 2))

    def ll_tests() -> None:
        for i in range(20):
            a, b = sim_g[i], ~sim_g[i]
            logrank_test(sim_t[i, a], sim_t[i, b], sim_e[i, a], sim_e[i, b])

    t_ll_sim = median_time(ll_tests, 1, min_time=0.0) * 100
    rows.append(("2,000 simulated studies' log-rank tests (`score_test_batch`), n=52", fmt(t_sim),
                 fmt(t_ll_sim) + " (2,000 × `logrank_test`, from 20)", f"{t_ll_sim / t_sim:,.0f}×", "—"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    rows: list[tuple[str, str, str, str, str]] = []

    for n in (52, 10_000):
        rows.extend(bench_n(n, repeat))
    rows.extend(bench_loops(repeat))

    print("| computation | ctcbook | lifelines | speed-up | max abs difference |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
