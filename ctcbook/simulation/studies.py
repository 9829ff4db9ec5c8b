"""Simulation studies: what the paper's analysis choices do when the truth is known.

Three studies, each a pure function of its arguments and a seed:

* :func:`cutpoint_type1_error`: with **no** true effect, how often does the "best"
  CTC threshold look significant naively, and after correcting for the search
  (Lausen-Schumacher 1992, Lausen-Sauerbrei-Schumacher 1994, permutation)?
* :func:`guarantee_time_study`: with a marker that has **no** effect on survival, how
  often do a naive "positive at any time" or "positive at first follow-up" comparison,
  a landmark analysis and a time-varying Cox score test find one?
* :func:`simulate_power`: the power of the log-rank test for HER2-positive vs other
  patients in a follow-up study, to check Schoenfeld's formula (:mod:`ctcbook.stats.power`).

Every study draws its replications in fixed-size batches; batch ``k`` uses the random
stream ``SeedSequence(seed).spawn(...)[k]``, so results do not depend on how the
batches are spread over workers. Batches run through :class:`joblib.Parallel`, so the
same call runs on more cores (``n_jobs=2``) or on a Dask cluster, unchanged::

    from dask.distributed import Client
    import joblib
    client = Client("scheduler-address:8786")
    with joblib.parallel_backend("dask"):
        result = cutpoint_type1_error(n_sim=100_000, seed=1)

A progress bar (``tqdm.auto``) is shown in an interactive Jupyter session or terminal
and hidden in the book build (see :func:`show_progress`).
"""

from __future__ import annotations

import math
import os
import sys
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.stats._engine import score_test_batch

__all__ = [
    "StudyResult",
    "show_progress",
    "run_batches",
    "score_test_batch",
    "simulate_null_cutpoint_data",
    "cutpoint_type1_error",
    "simulate_marker_schedule",
    "guarantee_time_study",
    "simulate_trials",
    "simulate_power",
    "SUMMARY_COLUMNS",
    "summary_table",
]

#: Days of the scheduled draws after the first follow-up (restaging every ~3 months).
RESTAGING_EVERY_DAYS = 91.0


# --------------------------------------------------------------------------- running


def show_progress(progress: bool | None = None) -> bool:
    """Whether to show a progress bar.

    Parameters
    ----------
    progress : bool or None
        ``True``/``False`` force it on/off. ``None`` (the default of every study)
        decides: off when the environment variable ``CTCBOOK_QUIET`` is ``1``; in a
        Jupyter kernel, on only when the kernel was started by a Jupyter server (which
        sets ``JPY_SESSION_NAME``), so headless execution (the book build, nbclient,
        the test-suite) stays quiet; elsewhere, on when standard error is a terminal.

    Returns
    -------
    bool
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("CTCBOOK_QUIET", "") == "1":
        return False
    shell = None
    if "IPython" in sys.modules:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover
            shell = None
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        return "JPY_SESSION_NAME" in os.environ
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def run_batches(
    draw: Callable[[np.random.Generator, int], dict[str, np.ndarray]],
    n_sim: int,
    seed: int,
    *,
    batch_size: int = 250,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    desc: str = "simulating",
) -> tuple[pd.DataFrame, float]:
    """Run ``n_sim`` replications of ``draw`` in seeded batches, possibly in parallel.

    Parameters
    ----------
    draw : callable
        ``draw(rng, size)`` returns a dict of 1-d arrays of length ``size`` (one value
        per replication). It must be picklable (a module-level function or a
        :func:`functools.partial` of one) for process or cluster backends.
    n_sim : int
        Number of replications.
    seed : int
        Seed; batch k uses ``numpy.random.default_rng(SeedSequence(seed).spawn(K)[k])``.
    batch_size : int
        Replications per batch (and per task sent to a worker).
    n_jobs : int, optional
        Passed to :class:`joblib.Parallel`. ``None`` means joblib's default: 1 (run in
        this process) unless a ``joblib.parallel_backend`` context says otherwise.
    backend : str, optional
        Passed to :class:`joblib.Parallel` (``"loky"``, ``"threading"``, ``"dask"``...).
        ``None`` uses the active ``joblib.parallel_backend`` context, if any.
    progress : bool, optional
        Progress bar over batches (see :func:`show_progress`).
    desc : str
        Label of the progress bar.

    Returns
    -------
    (pandas.DataFrame, float)
        One row per replication (in batch order, so identical whatever ``n_jobs``),
        and the elapsed wall-clock time in seconds.
    """
    from joblib import Parallel, delayed

    n_sim = int(n_sim)
    if n_sim < 1:
        raise ValueError("n_sim must be >= 1")
    sizes = [batch_size] * (n_sim // batch_size)
    if n_sim % batch_size:
        sizes.append(n_sim % batch_size)
    seqs = np.random.SeedSequence(int(seed)).spawn(len(sizes))
    start = _time.perf_counter()
    tasks = (delayed(_one_batch)(draw, s, k) for s, k in zip(seqs, sizes, strict=True))
    parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")
    results = parallel(tasks)
    if show_progress(progress):
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(sizes), desc=desc, unit="batch")
    frames = [pd.DataFrame(r) for r in results]
    return pd.concat(frames, ignore_index=True), _time.perf_counter() - start


def _one_batch(draw, seq: np.random.SeedSequence, size: int) -> dict[str, np.ndarray]:
    return draw(np.random.default_rng(seq), size)


@dataclass(frozen=True)
class StudyResult:
    """Summary of a simulation study.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per analysis (or design point) with the estimate and its Monte Carlo
        standard error.
    replications : pandas.DataFrame
        One row per simulated data set (per analysis): the raw results.
    n_sim : int
        Number of simulated data sets (per design point).
    seconds : float
        Wall-clock time of the simulation.
    settings : dict
        The arguments of the study.
    """

    summary: pd.DataFrame
    replications: pd.DataFrame = field(repr=False)
    n_sim: int = 0
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)


def _mc_se(p: np.ndarray | float, n: int) -> np.ndarray | float:
    """Monte Carlo standard error of a proportion estimated from ``n`` replications."""
    return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / n)


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


# ------------------------------------------------------- study 2: guarantee time


def simulate_marker_schedule(
    rng: np.random.Generator,
    size: int,
    n: int,
    *,
    p_positive: float = 0.15,
    median_days: float = 540.0,
    log_hr: float = 0.0,
    first_follow_up: tuple[int, int] = (21, 28),
    every_days: float = RESTAGING_EVERY_DAYS,
) -> dict[str, np.ndarray]:
    """Simulate ``size`` studies of ``n`` patients with a marker measured at scheduled draws.

    Draws are at day 0, at a first follow-up day (uniform on ``first_follow_up``) and
    every ``every_days`` after it, as long as the patient is alive and followed. Each
    draw is positive with probability ``p_positive``, independently of everything else.
    After the first positive draw the hazard of death is multiplied by ``exp(log_hr)``
    (``log_hr = 0``: the marker has no effect at all).

    Parameters
    ----------
    rng : numpy.random.Generator
    size, n : int
        Studies and patients per study.
    p_positive : float
        Probability that a draw is positive.
    median_days : float
        Median survival (exponential) while the marker is negative.
    log_hr : float
        Log hazard ratio after the first positive draw.
    first_follow_up : (int, int)
        Range of the first follow-up day.
    every_days : float
        Interval between later draws.

    Returns
    -------
    dict of ndarray (size, n)
        ``time``, ``event``, ``day_first_follow_up``, ``has_first_follow_up`` (drawn while
        alive and followed), ``positive_first_follow_up``, ``first_positive_day`` (inf
        when never positive while followed), ``positive_baseline``.
    """
    shape = (size, n)
    lam = math.log(2.0) / median_days
    d1 = rng.integers(first_follow_up[0], first_follow_up[1] + 1, shape).astype(float)
    censor = rng.uniform(380.0, 1280.0, shape)
    n_draws = int(np.ceil(1280.0 / every_days)) + 3
    days = np.concatenate([np.zeros(shape + (1,)), d1[..., None],
                           d1[..., None] + every_days * np.arange(1, n_draws)], axis=-1)
    pos = rng.random(days.shape) < p_positive
    first_pos = np.where(pos, days, np.inf).min(axis=-1)
    # death: exponential with rate lam until first_pos, lam * exp(log_hr) after it
    e = rng.standard_exponential(shape)
    t_switch = lam * first_pos  # cumulative hazard at the switch
    after = np.where(np.isfinite(first_pos), first_pos, 0.0) + np.maximum(e - t_switch, 0.0) / (
        lam * math.exp(log_hr))
    death = np.where(e <= t_switch, e / lam, after)
    time = np.minimum(death, censor)
    event = death <= censor
    observed = days < time[..., None]  # a draw happens only while alive and followed
    first_pos_obs = np.where(pos & observed, days, np.inf).min(axis=-1)
    return {
        "time": time,
        "event": event,
        "day_first_follow_up": d1,
        "has_first_follow_up": d1 < time,
        "positive_first_follow_up": pos[..., 1] & (d1 < time),
        "first_positive_day": first_pos_obs,
        "positive_baseline": pos[..., 0],
    }


#: Display names of the analyses of the guarantee-time study, in table order.
GUARANTEE_METHODS = {
    "naive_any_time": "Naive: positive at any draw, survival from baseline",
    "naive_first_follow_up": "Naive: positive at first follow-up (no draw: left out), from baseline",
    "landmark": "Landmark at day 28: first follow-up status, survival from day 28",
    "time_varying": "Time-varying Cox: positive from the first positive draw",
}


def guarantee_analyses(sim: dict[str, np.ndarray], landmark_day: float = 28.0) -> dict[str, dict]:
    """The four analyses of :func:`guarantee_time_study` on simulated studies.

    Parameters
    ----------
    sim : dict
        Output of :func:`simulate_marker_schedule`.
    landmark_day : float
        Landmark (on or after the last possible first follow-up day).

    Returns
    -------
    dict
        Method name (keys of ``GUARANTEE_METHODS``) -> :func:`score_test_batch` output.
        The first-follow-up analyses leave out the patients without a first-follow-up
        draw (dead or censored before it), as the book's analysis of a cohort does
        (:func:`ctcbook.report.tables.compare_survival`); the landmark analysis leaves out
        everyone no longer at risk at the landmark.
    """
    t, e = sim["time"], sim["event"]
    inf = np.inf
    any_pos = np.isfinite(sim["first_positive_day"])
    fu_pos = sim["positive_first_follow_up"]
    out = {
        "naive_any_time": score_test_batch(t, e, np.where(any_pos, -inf, inf)),
        # as the book's analysis of a cohort: no first-follow-up result, not in either group
        "naive_first_follow_up": score_test_batch(t, e, np.where(fu_pos, -inf, inf),
                                                  include=sim["has_first_follow_up"]),
        "landmark": score_test_batch(t, e, np.where(fu_pos, -inf, inf),
                                     entry=np.full(t.shape, landmark_day)),
        "time_varying": score_test_batch(t, e, sim["first_positive_day"]),
    }
    return out


def _guarantee_batch(rng: np.random.Generator, size: int, *, n: int, p_positive: float,
                     median_days: float, log_hr: float, landmark_day: float) -> dict[str, np.ndarray]:
    sim = simulate_marker_schedule(rng, size, n, p_positive=p_positive,
                                   median_days=median_days, log_hr=log_hr)
    res = guarantee_analyses(sim, landmark_day)
    out: dict[str, np.ndarray] = {}
    for method, r in res.items():
        out[f"{method}_p"] = r["p_value"]
        out[f"{method}_log_hr"] = r["log_hr"]
    out["share_positive_any"] = np.isfinite(sim["first_positive_day"]).mean(axis=1)
    out["share_positive_first_follow_up"] = sim["positive_first_follow_up"].mean(axis=1)
    return out


def guarantee_time_study(
    n_sim: int = 2000,
    n: int = 52,
    p_positive: float = 0.15,
    median_days: float = 540.0,
    log_hr: float = 0.0,
    alpha: float = 0.05,
    landmark_day: float = 28.0,
    seed: int = 0,
    *,
    batch_size: int = 500,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
) -> StudyResult:
    """Guarantee-time (immortal-time) bias: a marker with no effect that looks protective.

    Each replication simulates a study (:func:`simulate_marker_schedule`) and analyses
    it four ways (:data:`GUARANTEE_METHODS`): two naive comparisons that group patients
    by information gathered after time zero but measure survival from time zero, a
    landmark analysis and a Cox score test with the marker as a time-varying covariate
    (:func:`score_test_batch`).

    Parameters
    ----------
    n_sim, n : int
        Simulated studies and patients per study.
    p_positive, median_days, log_hr : float
        See :func:`simulate_marker_schedule`; ``log_hr = 0`` (default) is the null.
    alpha : float
        Nominal level.
    landmark_day : float
        Landmark of the landmark analysis.
    seed : int
    batch_size, n_jobs, backend, progress
        See :func:`run_batches`.

    Returns
    -------
    StudyResult
        ``summary``: per method, ``rejection_rate`` with ``mc_se``, the mean one-step
        log hazard ratio (positive vs negative; < 0 means "positive looks protective"),
        the hazard ratio at that mean (``hr_at_mean``) and ``n_sim``.

    References
    ----------
    .. [1] Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response.
       J Clin Oncol 1983;1:710-719.
    .. [2] Suissa S. Immortal time bias in pharmaco-epidemiology. Am J Epidemiol
       2008;167:492-499.
    """
    from functools import partial

    draw = partial(_guarantee_batch, n=int(n), p_positive=p_positive, median_days=median_days,
                   log_hr=log_hr, landmark_day=landmark_day)
    reps, seconds = run_batches(draw, n_sim, seed, batch_size=batch_size, n_jobs=n_jobs,
                                backend=backend, progress=progress, desc="guarantee time")
    rows = []
    for key, label in GUARANTEE_METHODS.items():
        p = reps[f"{key}_p"].to_numpy()
        ok = ~np.isnan(p)
        rate = float(np.mean(p[ok] <= alpha))
        mean_lhr = float(np.nanmean(reps[f"{key}_log_hr"]))
        rows.append({"method": key, "label": label, "rejection_rate": rate,
                     "mc_se": float(_mc_se(rate, int(ok.sum()))), "mean_log_hr": mean_lhr,
                     "hr_at_mean": math.exp(mean_lhr), "n_sim": int(ok.sum())})
    settings = {"n_sim": int(n_sim), "n": int(n), "p_positive": p_positive,
                "median_days": median_days, "log_hr": log_hr, "alpha": alpha,
                "landmark_day": landmark_day, "seed": int(seed),
                "share_positive_any": float(reps["share_positive_any"].mean()),
                "share_positive_first_follow_up": float(reps["share_positive_first_follow_up"].mean())}
    return StudyResult(pd.DataFrame(rows), reps, int(n_sim), seconds, settings)


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

    ns = np.atleast_1d(np.asarray(n, dtype=int))
    hrs = np.atleast_1d(np.asarray(hr, dtype=float))
    rows, frames = [], []
    seconds = 0.0
    show = show_progress(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=ns.size * hrs.size, desc="power", unit="design")
    k = 0
    for h in hrs:
        for m in ns:
            draw = partial(_power_batch, n=int(m), hr=float(h), prevalence=float(prevalence),
                           median_negative_days=median_negative_days, accrual_days=accrual_days,
                           follow_up_days=follow_up_days, alpha=alpha)
            seq_seed = int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])
            reps, sec = run_batches(draw, n_sim, seq_seed, batch_size=batch_size, n_jobs=n_jobs,
                                    backend=backend, progress=False)
            seconds += sec
            k += 1
            rate = float(np.mean(reps["p_value"] <= alpha))
            rows.append({"n": int(m), "hr": float(h), "power": rate,
                         "mc_se": float(_mc_se(rate, n_sim)),
                         "mean_events": float(reps["events"].mean()), "n_sim": int(n_sim)})
            frames.append(reps.assign(n=int(m), hr=float(h)))
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
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
