"""Simulation study of the guarantee-time bias: a marker with no effect, four analyses.

With a marker that has **no** effect on survival, how often do a naive "positive at any
time" or "positive at first follow-up" comparison, a landmark analysis and a
time-varying Cox score test find one? The replications run in seeded batches
(:func:`ctcbook.simulation.runner.run_batches`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ctcbook.simulation.runner import StudyResult, _mc_se, run_batches
from ctcbook.stats._engine import score_test_batch

__all__ = [
    "simulate_marker_schedule",
    "guarantee_analyses",
    "guarantee_time_study",
]

#: Days of the scheduled draws after the first follow-up (restaging every ~3 months).
RESTAGING_EVERY_DAYS = 91.0


# ------------------------------------------------------- study 2: guarantee time


def simulate_marker_schedule(
    rng: np.random.Generator,
    size: int,
    n: int,
    *,
    p_positive: float = 0.15,
    median_days: float = 540.0,
    log_hr: float = 0.0,
) -> dict[str, np.ndarray]:
    """Simulate ``size`` studies of ``n`` patients with a marker measured at scheduled draws.

    Draws are at day 0, at a first follow-up day (uniform on days 21-28) and every
    ``RESTAGING_EVERY_DAYS`` (91) after it, as long as the patient is alive and followed. Each
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

    Returns
    -------
    dict of ndarray (size, n)
        ``time``, ``event``, ``day_first_follow_up``, ``has_first_follow_up`` (drawn while
        alive and followed), ``positive_first_follow_up``, ``first_positive_day`` (inf
        when never positive while followed), ``positive_baseline``.
    """
    shape = (size, n)
    lam = math.log(2.0) / median_days
    d1 = rng.integers(21, 29, shape).astype(float)
    censor = rng.uniform(380.0, 1280.0, shape)
    later = RESTAGING_EVERY_DAYS * np.arange(1, int(np.ceil(1280.0 / RESTAGING_EVERY_DAYS)) + 3)
    days = np.concatenate([np.zeros(shape + (1,)), d1[..., None], d1[..., None] + later], axis=-1)
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
