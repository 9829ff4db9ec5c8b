"""Simulation studies: what the paper's analysis choices do when the truth is known.

Three studies, each a pure function of its arguments and a seed:

* :func:`cutpoint_type1_error`: with **no** true effect, how often does the "best"
  CTC threshold look significant naively, and after correcting for the search
  (Lausen-Schumacher 1992, Lausen-Sauerbrei-Schumacher 1994, permutation)?
* :func:`~ctcbook.simulation.guarantee.guarantee_time_study`: with a marker that has **no** effect on survival, how
  often do a naive "positive at any time" or "positive at first follow-up" comparison,
  a landmark analysis and a time-varying Cox score test find one?
* :func:`simulate_power`: the power of the log-rank test for HER2-positive vs other
  patients in a follow-up study, to check Schoenfeld's formula (:mod:`ctcbook.stats.power`).

The batches, their seeding and the progress bar are in :mod:`ctcbook.simulation.runner`;
the guarantee-time study is in :mod:`ctcbook.simulation.guarantee`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.simulation.runner import StudyResult, _mc_se, run_batches, show_progress
from ctcbook.stats._engine import score_test_batch

__all__ = [
    "simulate_null_cutpoint_data",
    "cutpoint_type1_error",
    "simulate_trials",
    "simulate_power",
    "SUMMARY_COLUMNS",
    "summary_table",
]


# ------------------------------------------------------------ study 1: best cutpoint


def simulate_null_cutpoint_data(
    rng: np.random.Generator, n: int, marker: str = "ctc", median_days: float = 450.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One data set with a marker that has no effect on survival.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Patients.
    marker : {"ctc", "continuous"}
        ``"ctc"``: CTC counts per 7.5 mL from the synthetic cohort's Poisson-lognormal
        model (:class:`ctcbook.simulation.synthetic.ModelParams` defaults: many zeros, ties, a long
        tail); ``"continuous"``: standard normal values (no ties).
    median_days : float
        Median of the exponential survival time (the same for everybody).

    Returns
    -------
    (time, event, marker) : ndarrays
        Censoring is administrative: uniform accrual over 900 days and 380 more days of
        follow-up (the design of version 1 of the synthetic cohort's model), so censoring times are 380-1280 days.
    """
    from ctcbook.simulation.synthetic import ModelParams

    if marker == "ctc":
        p = ModelParams()
        level = p.ctc_log_mean + p.ctc_log_sd * rng.standard_normal(n)
        rate = np.exp(np.minimum(level + p.ctc_draw_sd * rng.standard_normal(n), math.log(1e5)))
        x = rng.poisson(rate).astype(float)
    elif marker == "continuous":
        x = rng.standard_normal(n)
    else:
        raise ValueError(f"marker must be 'ctc' or 'continuous', not {marker!r}")
    death = rng.exponential(median_days / math.log(2.0), n)
    censor = rng.uniform(380.0, 1280.0, n)
    return np.minimum(death, censor), death <= censor, x


def _cutpoint_batch(rng: np.random.Generator, size: int, *, n: int, marker: str,
                    min_prop: float, max_prop: float, n_permutations: int) -> dict[str, np.ndarray]:
    from ctcbook.stats.cutpoints import maxstat

    out = {k: np.full(size, np.nan) for k in ("statistic", "cutpoint", "p_naive", "p_lau92",
                                              "p_lau94", "p_permutation")}
    for i in range(size):
        t, e, x = simulate_null_cutpoint_data(rng, n, marker)
        try:
            res = maxstat(t, e, x, min_prop=min_prop, max_prop=max_prop,
                          n_permutations=n_permutations, seed=int(rng.integers(2**31)))
        except ValueError:  # no admissible cutpoint (e.g. nearly all counts 0): no test
            continue
        out["statistic"][i] = res.statistic
        out["cutpoint"][i] = res.cutpoint
        out["p_naive"][i] = 2.0 * stats.norm.sf(res.statistic)
        out["p_lau92"][i] = res.p_lau92
        out["p_lau94"][i] = res.p_lau94
        out["p_permutation"][i] = res.p_permutation
    return out


#: Display names of the p-values of the cutpoint study, in table order.
CUTPOINT_METHODS = {
    "p_naive": "Naive (best cutpoint, usual p)",
    "p_lau92": "Lausen-Schumacher 1992",
    "p_lau94": "Lausen-Sauerbrei-Schumacher 1994",
    "p_permutation": "Permutation (conditional Monte Carlo)",
}


def cutpoint_type1_error(
    n_sim: int = 1000,
    n: int = 52,
    marker: str = "ctc",
    alpha: float = 0.05,
    min_prop: float = 0.1,
    max_prop: float = 0.9,
    n_permutations: int = 1000,
    seed: int = 0,
    *,
    batch_size: int = 100,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
) -> StudyResult:
    """Type I error of the best-cutpoint search, naive and corrected.

    Each replication draws a data set with no true effect
    (:func:`simulate_null_cutpoint_data`), searches every cutpoint of the marker with
    :func:`ctcbook.stats.cutpoints.maxstat` and records the naive p-value of the best
    cutpoint, ``2 (1 - Phi(M))`` for the maximal standardised log-rank statistic M,
    and the three corrected p-values.

    Parameters
    ----------
    n_sim : int
        Simulated data sets.
    n : int
        Patients per data set.
    marker : {"ctc", "continuous"}
        The marker's distribution.
    alpha : float
        Nominal level.
    min_prop, max_prop : float
        Range of the low group's share over which cutpoints are searched.
    n_permutations : int
        Permutations per data set for the permutation p-value.
    seed : int
    batch_size, n_jobs, backend, progress
        See :func:`run_batches`.

    Returns
    -------
    StudyResult
        ``summary``: one row per method (``method``, ``label``, ``rejection_rate``,
        ``mc_se``, ``n_sim``). ``replications``: the p-values of each data set.

    Notes
    -----
    The rejection rate of a valid test is ``alpha`` within Monte Carlo error
    ``sqrt(alpha (1 - alpha) / n_sim)``; data sets with no admissible cutpoint are
    dropped (their count is ``settings["n_tested"]``).

    References
    ----------
    .. [1] Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal"
       cutpoints in the evaluation of prognostic factors. J Natl Cancer Inst
       1994;86:829-835.
    .. [2] Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics
       1992;48:73-85.
    .. [3] Hothorn T, Lausen B. On the exact distribution of maximally selected rank
       statistics. Comput Stat Data Anal 2003;43:121-137.
    """
    from functools import partial

    draw = partial(_cutpoint_batch, n=int(n), marker=marker, min_prop=min_prop,
                   max_prop=max_prop, n_permutations=int(n_permutations))
    reps, seconds = run_batches(draw, n_sim, seed, batch_size=batch_size, n_jobs=n_jobs,
                                backend=backend, progress=progress, desc="cutpoint search")
    reps = reps.dropna(subset=["statistic"]).reset_index(drop=True)
    n_tested = len(reps)
    rows = []
    for key, label in CUTPOINT_METHODS.items():
        rate = float(np.mean(reps[key] <= alpha))
        rows.append({"method": key, "label": label, "rejection_rate": rate,
                     "mc_se": float(_mc_se(rate, n_tested)), "n_sim": n_tested})
    settings = {"n_sim": int(n_sim), "n_tested": n_tested, "n": int(n), "marker": marker,
                "alpha": alpha, "min_prop": min_prop, "max_prop": max_prop,
                "n_permutations": int(n_permutations), "seed": int(seed)}
    return StudyResult(pd.DataFrame(rows), reps, n_tested, seconds, settings)


# ------------------------------------------------------------------- study 3: power


def simulate_trials(
    rng: np.random.Generator,
    size: int,
    n: int,
    hr: float,
    prevalence: float,
    median_negative_days: float = 540.0,
    accrual_days: float = 720.0,
    follow_up_days: float = 360.0,
) -> dict[str, np.ndarray]:
    """Simulate ``size`` prognostic studies of ``n`` patients, marker-positive with ``prevalence``.

    Survival is exponential with median ``median_negative_days`` for marker-negative
    patients and hazard ratio ``hr`` for marker-positive ones; entry is uniform over
    ``accrual_days`` and the analysis is ``follow_up_days`` after the last entry.

    Returns
    -------
    dict of ndarray (size, n)
        ``time``, ``event``, ``positive``.
    """
    shape = (size, n)
    pos = rng.random(shape) < prevalence
    rate = math.log(2.0) / median_negative_days * np.where(pos, hr, 1.0)
    death = rng.standard_exponential(shape) / rate
    censor = accrual_days + follow_up_days - rng.uniform(0.0, accrual_days, shape)
    return {"time": np.minimum(death, censor), "event": death <= censor, "positive": pos}


def _power_batch(rng: np.random.Generator, size: int, *, n: int, hr: float, prevalence: float,
                 median_negative_days: float, accrual_days: float, follow_up_days: float,
                 alpha: float) -> dict[str, np.ndarray]:
    sim = simulate_trials(rng, size, n, hr, prevalence, median_negative_days, accrual_days,
                          follow_up_days)
    res = score_test_batch(sim["time"], sim["event"], np.where(sim["positive"], -np.inf, np.inf))
    return {"p_value": res["p_value"], "log_hr": res["log_hr"], "events": res["events"],
            "n_positive": sim["positive"].sum(axis=1)}


def simulate_power(
    n: Any,
    hr: Any,
    prevalence: float,
    n_sim: int = 1000,
    alpha: float = 0.05,
    median_negative_days: float = 540.0,
    accrual_days: float = 720.0,
    follow_up_days: float = 360.0,
    seed: int = 0,
    *,
    batch_size: int = 500,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
) -> StudyResult:
    """Power of the two-sided log-rank test by simulation, over a grid of n and HR.

    Parameters
    ----------
    n : int or sequence of int
        Patients per study (all screened patients, positive and negative).
    hr : float or sequence of float
        Hazard ratio of marker-positive vs marker-negative patients.
    prevalence : float
        Share of marker-positive patients.
    n_sim : int
        Simulated studies per design point.
    alpha : float
        Two-sided level.
    median_negative_days, accrual_days, follow_up_days : float
        See :func:`simulate_trials`.
    seed : int
        Design point k uses seed ``(seed, k)``.
    batch_size, n_jobs, backend, progress
        See :func:`run_batches`.

    Returns
    -------
    StudyResult
        ``summary``: one row per (n, hr) with ``power``, ``mc_se``, ``mean_events``,
        ``n_sim``.

    References
    ----------
    .. [1] Schoenfeld DA. Sample-size formula for the proportional-hazards regression
       model. Biometrics 1983;39:499-503.
    """
    from functools import partial
    from itertools import product

    from tqdm.auto import tqdm

    ns = np.atleast_1d(np.asarray(n, dtype=int))
    hrs = np.atleast_1d(np.asarray(hr, dtype=float))
    rows, frames = [], []
    seconds = 0.0
    designs = tqdm(list(product(hrs, ns)), desc="power", unit="design",
                   disable=not show_progress(progress))
    for k, (h, m) in enumerate(designs):
        draw = partial(_power_batch, n=int(m), hr=float(h), prevalence=float(prevalence),
                       median_negative_days=median_negative_days, accrual_days=accrual_days,
                       follow_up_days=follow_up_days, alpha=alpha)
        seq_seed = int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])
        reps, sec = run_batches(draw, n_sim, seq_seed, batch_size=batch_size, n_jobs=n_jobs,
                                backend=backend, progress=False)
        seconds += sec
        rate = float(np.mean(reps["p_value"] <= alpha))
        rows.append({"n": int(m), "hr": float(h), "power": rate,
                     "mc_se": float(_mc_se(rate, n_sim)),
                     "mean_events": float(reps["events"].mean()), "n_sim": int(n_sim)})
        frames.append(reps.assign(n=int(m), hr=float(h)))
    settings = {"prevalence": prevalence, "n_sim": int(n_sim), "alpha": alpha,
                "median_negative_days": median_negative_days, "accrual_days": accrual_days,
                "follow_up_days": follow_up_days, "seed": int(seed)}
    return StudyResult(pd.DataFrame(rows), pd.concat(frames, ignore_index=True), int(n_sim),
                       seconds, settings)


# -------------------------------------------------------------------------- display

#: Display name and format of the columns of the studies' summaries (and of derived ones).
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "label": ("Method", "{}"),
    "n": ("Patients", "{:.0f}"),
    "hr": ("Hazard ratio", "{:g}"),
    "rejection_rate": ("Type I error (nominal 5%)", "{:.3f}"),
    "mc_se": ("Monte Carlo SE", "{:.3f}"),
    "hr_at_mean": ("Hazard ratio at the mean", "{:.2f}"),
    "mean_events": ("Mean events", "{:.1f}"),
    "power": ("Power (simulated)", "{:.3f}"),
    "schoenfeld": ("Power (Schoenfeld)", "{:.3f}"),
    "n_sim": ("Simulated studies", "{:.0f}"),
}


def summary_table(
    summary: pd.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A study's summary for display: chosen columns, readable names, numbers as text.

    Parameters
    ----------
    summary : pandas.DataFrame
        A :class:`StudyResult` ``summary`` (or any frame with columns of
        :data:`SUMMARY_COLUMNS`).
    columns : sequence of str
        The columns to show, in order.
    labels : mapping of str to str, optional
        Display names overriding :data:`SUMMARY_COLUMNS` (e.g. another nominal level).

    Returns
    -------
    pandas.DataFrame
        Strings (NaN as ""), columns renamed, a fresh 0..n-1 index; pass it to
        :func:`ctcbook.report.tables.html_table`.
    """
    labels = dict(labels or {})
    out = {}
    for col in columns:
        name, fmt = SUMMARY_COLUMNS.get(col, (col, "{}"))
        out[labels.get(col, name)] = [
            "" if isinstance(v, float) and np.isnan(v) else fmt.format(v) for v in summary[col]
        ]
    return pd.DataFrame(out)
