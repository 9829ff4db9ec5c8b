"""How stable are conclusions drawn from a group of six? Bootstrap, permutation, leave-one-out.

All functions take one data set (``time``, ``event``, a 0/1 ``group``) and evaluate a
statistic on many re-weighted or re-labelled copies of it **at once**: the copies are
rows of a weight (or label, or event) matrix, and the risk-set sums of every row come
from one matrix product with the indicator matrix of the distinct times. So 10,000
bootstrap Cox fits or permutations of 50 patients take a fraction of a second.

* :func:`bootstrap` percentile intervals for the hazard ratio (Cox, Efron ties) and the
  median survival of each group;
* :func:`permutation_logrank` an exact (all relabellings) or Monte Carlo permutation
  p-value for the log-rank test;
* :func:`sensitivity` the log-rank p-value and hazard ratio when one patient is left out,
  or one patient's outcome is changed (event <-> censored);
* :func:`stability` all three on one endpoint of the patient table, and
  :func:`stability_summary` one row of them per endpoint.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.survival import _time_event, km_quantile

__all__ = [
    "BootstrapResult",
    "PermutationResult",
    "logrank_rows",
    "cox_binary_rows",
    "km_median_rows",
    "bootstrap",
    "permutation_logrank",
    "sensitivity",
    "StabilityResult",
    "stability",
    "stability_summary",
]


def _data(time: Any, event: Any, group: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e = _time_event(time, event)
    g = np.asarray(group, dtype=float).ravel()
    if g.shape != t.shape:
        raise ValueError("group has a different length from time")
    if not np.isin(g, (0.0, 1.0)).all():
        raise ValueError("group must be 0/1 (or boolean) without missing values")
    if g.min() == g.max():
        raise ValueError("group must contain both 0 and 1")
    return t, e, g.astype(bool)


def _tables(time: np.ndarray, event: Any, group: Any, weights: Any
            ) -> tuple[np.ndarray, ...]:
    """Weighted counts per distinct time for every row.

    Returns ``times`` (J,), and (R, J) arrays: ``n`` and ``n1`` at risk, ``d`` and ``d1``
    deaths (``1`` = group 1).
    """
    times, inv = np.unique(time, return_inverse=True)
    onehot = np.zeros((time.size, times.size))
    onehot[np.arange(time.size), inv] = 1.0
    e = np.atleast_2d(np.asarray(event, dtype=float))
    g = np.atleast_2d(np.asarray(group, dtype=float))
    w = np.ones((1, time.size)) if weights is None else np.atleast_2d(np.asarray(weights, float))
    rows = max(e.shape[0], g.shape[0], w.shape[0])
    e, g, w = (np.broadcast_to(a, (rows, time.size)) for a in (e, g, w))
    removed = w @ onehot
    removed1 = (w * g) @ onehot
    d = (w * e) @ onehot
    d1 = (w * e * g) @ onehot

    def at_risk(x: np.ndarray) -> np.ndarray:
        return np.cumsum(x[:, ::-1], axis=1)[:, ::-1]

    return times, at_risk(removed), at_risk(removed1), d, d1


def logrank_rows(time: Any, event: Any, group: Any, weights: Any = None) -> dict[str, np.ndarray]:
    """Two-group log-rank test on many versions of one data set at once.

    Parameters
    ----------
    time : array-like (n,)
        Follow-up times, shared by every row.
    event, group : array-like (n,) or (R, n)
        Event indicators and 0/1 group labels, per row (broadcast).
    weights : array-like (n,) or (R, n), optional
        Non-negative case weights (bootstrap counts; 0 leaves a patient out).

    Returns
    -------
    dict of ndarray (R,)
        ``statistic`` (chi-square, 1 df), ``p_value``, ``observed`` and ``expected``
        events of group 1, ``variance``, ``log_hr`` (Peto's one-step ``(O - E) / V``).

    Notes
    -----
    Ties are handled as in :func:`ctcbook.survival.logrank` (hypergeometric variance),
    with which it agrees to rounding for every row.
    """
    t = np.asarray(time, dtype=float).ravel()
    _, n, n1, d, d1 = _tables(t, event, group, weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n > 0, n1 / n, 0.0)
        exp1 = (frac * d).sum(axis=1)
        var = np.where(n > 1, d * (n - d) / (n - 1) * frac * (1 - frac), 0.0).sum(axis=1)
        obs = d1.sum(axis=1)
        stat = np.where(var > 0, (obs - exp1) ** 2 / var, np.nan)
        log_hr = np.where(var > 0, (obs - exp1) / var, np.nan)
    return {"statistic": stat, "p_value": stats.chi2.sf(stat, 1), "observed": obs,
            "expected": exp1, "variance": var, "log_hr": log_hr}


def _efron_terms(beta: np.ndarray, n: np.ndarray, n1: np.ndarray, d: np.ndarray,
                 d1: np.ndarray, dmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Score and information of the Efron partial likelihood, binary covariate, per row."""
    eb = np.exp(beta)[:, None]
    n0, d0 = n - n1, d - d1
    score = d1.sum(axis=1)
    info = np.zeros(n.shape[0])
    for ell in range(dmax):
        active = d > ell
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(active, ell / d, 0.0)
            a = (n1 - f * d1) * eb
            c = (n0 - f * d0) + a
            share = np.where(active & (c > 0), a / c, 0.0)
        score = score - share.sum(axis=1)
        info = info + (share * (1 - share)).sum(axis=1)
    return score, info


def cox_binary_rows(time: Any, event: Any, group: Any, weights: Any = None,
                    max_iter: int = 100) -> np.ndarray:
    """Cox log hazard ratio of group 1 vs 0 (Efron ties) for many versions of one data set.

    Parameters
    ----------
    time, event, group, weights
        As in :func:`logrank_rows`; integer weights are case replications (a bootstrap
        sample), so Efron's correction treats replicated deaths as tied deaths.
    max_iter : int
        Iterations of the safeguarded Newton search.

    Returns
    -------
    ndarray (R,)
        The maximum partial likelihood estimate; ``+inf``/``-inf`` when the likelihood is
        monotone (no events in group 0 / 1 while group 1 / 0 is at risk, e.g. no
        deaths in a group: the estimate diverges), NaN when a group is empty or there are
        no events.

    Notes
    -----
    The score is decreasing in beta, so the root is found by Newton steps kept inside a
    shrinking bracket (bisection when a step leaves it). Agrees with
    :func:`ctcbook.survival.cox` (Efron) to about 1e-9 on the log scale.

    References
    ----------
    .. [1] Efron B. The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 1977;72:557-565.
    """
    t = np.asarray(time, dtype=float).ravel()
    _, n, n1, d, d1 = _tables(t, event, group, weights)
    rows = n.shape[0]
    dmax = int(np.ceil(d.max())) if d.size else 0
    has_both = (n1[:, 0] > 0) & (n1[:, 0] < n[:, 0])
    has_events = d.sum(axis=1) > 0
    # limits of the score at beta -> +inf and -inf
    n0, d0 = n - n1, d - d1
    u_pos = d1.sum(axis=1).copy()
    u_neg = d1.sum(axis=1).copy()
    for ell in range(dmax):
        active = d > ell
        f = np.where(active, ell / np.where(d > 0, d, 1), 0.0)
        a = n1 - f * d1
        b = n0 - f * d0
        u_pos -= (active & (a > 1e-12)).sum(axis=1)
        u_neg -= (active & (a > 1e-12) & (b <= 1e-12)).sum(axis=1)
    out = np.full(rows, np.nan)
    ok = has_both & has_events
    plus_inf = ok & (u_pos >= -1e-9)
    minus_inf = ok & (u_neg <= 1e-9)
    out[plus_inf] = np.inf
    out[minus_inf] = -np.inf
    fit = ok & ~plus_inf & ~minus_inf
    if fit.any():
        idx = np.flatnonzero(fit)
        lo = np.full(idx.size, -50.0)
        hi = np.full(idx.size, 50.0)
        beta = np.zeros(idx.size)
        for _ in range(max_iter):
            u, i = _efron_terms(beta, n[idx], n1[idx], d[idx], d1[idx], dmax)
            lo = np.where(u > 0, beta, lo)
            hi = np.where(u <= 0, beta, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = beta + u / i
            inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
            new = np.where(inside, newton, 0.5 * (lo + hi))
            if np.max(np.abs(new - beta)) < 1e-12:
                beta = new
                break
            beta = new
        out[idx] = beta
    return out


def km_median_rows(time: Any, event: Any, weights: Any = None) -> np.ndarray:
    """Kaplan-Meier median for many (re-weighted) versions of one sample.

    Parameters
    ----------
    time : array-like (n,)
    event : array-like (n,) or (R, n)
    weights : array-like (n,) or (R, n), optional
        Case weights; 0 leaves a subject out.

    Returns
    -------
    ndarray (R,)
        The median by :func:`ctcbook.survival.median_survival`'s (R ``survfit``'s)
        rule: the first time at which S(t) <= 0.5 within a tolerance, the midpoint where
        S(t) sits at 0.5; ``inf`` if never; NaN for a row with no subjects.
    """
    t = np.asarray(time, dtype=float).ravel()
    times, n, _, d, _ = _tables(t, event, np.zeros(t.size), weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1.0 - d / n, 1.0)
    surv = np.cumprod(factor, axis=1)
    # R survfit's rule, as median_survival (tolerance; midpoint of a flat at 0.5); a row's
    # curve ends at its last time with positive weight
    present = n > np.concatenate((n[:, 1:], np.zeros((n.shape[0], 1))), axis=1)
    last = times[n.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)]
    med = km_quantile(np.concatenate(([0.0], times)),
                      np.concatenate((np.ones((surv.shape[0], 1)), surv), axis=1), 0.5,
                      last_time=last)
    return np.where(n[:, 0] > 0, med, np.nan)


# ------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap percentile intervals for a two-group comparison.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per quantity (``hazard_ratio``, ``median_0``, ``median_1``): the
        estimate on the data, the percentile interval (``ci_lower``, ``ci_upper``) and
        the share of resamples where the quantity was infinite (a monotone likelihood,
        or a median not reached) or undefined (``share_infinite``, ``share_undefined``).
    replicates : pandas.DataFrame
        One row per resample: ``log_hr``, ``median_0``, ``median_1``.
    n_boot : int
    level : float
    stratified : bool
    """

    summary: pd.DataFrame
    replicates: pd.DataFrame = field(repr=False)
    n_boot: int = 0
    level: float = 0.95
    stratified: bool = True


def _multinomial_weights(rng: np.random.Generator, mask: np.ndarray, n_boot: int) -> np.ndarray:
    k = int(mask.sum())
    w = np.zeros((n_boot, mask.size))
    w[:, mask] = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)
    return w


def bootstrap(
    time: Any,
    event: Any,
    group: Any,
    n_boot: int = 2000,
    level: float = 0.95,
    stratified: bool = True,
    seed: int = 0,
) -> BootstrapResult:
    """Percentile bootstrap intervals for the hazard ratio and the median of each group.

    Parameters
    ----------
    time, event : array-like
        Follow-up and event indicator.
    group : array-like of {0, 1}
        Group (1 = e.g. HER2-positive CTCs).
    n_boot : int
        Resamples.
    level : float
        Coverage of the intervals.
    stratified : bool
        Resample within each group (the group sizes stay fixed, e.g. 6 and 43); else
        resample patients from the whole cohort.
    seed : int

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Each resample is a vector of multinomial case counts; the Cox estimate (Efron ties,
    :func:`cox_binary_rows`) and the Kaplan-Meier medians (:func:`km_median_rows`) of
    all resamples are computed together. Infinite values are kept when taking the
    percentiles (a resample in which the small group has no deaths has HR 0 or
    infinity: that is information about stability, not noise to drop), so an interval
    end can be 0 or infinity. Resamples in which a group is empty (only possible
    unstratified) are dropped from the hazard-ratio interval.

    References
    ----------
    .. [1] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993,
       chapter 13 (percentile intervals). doi:10.1201/9780429246593
    .. [2] Davison AC, Hinkley DV. Bootstrap Methods and their Application. Cambridge
       University Press 1997, section 7.3 (censored data). doi:10.1017/CBO9780511802843
    """
    t, e, g = _data(time, event, group)
    rng = np.random.default_rng(seed)
    if stratified:
        w = _multinomial_weights(rng, g, n_boot) + _multinomial_weights(rng, ~g, n_boot)
    else:
        w = _multinomial_weights(rng, np.ones(t.size, bool), n_boot)
    log_hr = cox_binary_rows(t, e, g, w)
    med0 = km_median_rows(t, e, w * ~g)
    med1 = km_median_rows(t, e, w * g)
    est_lhr = float(cox_binary_rows(t, e, g)[0])
    est0 = float(km_median_rows(t, e, ~g)[0])
    est1 = float(km_median_rows(t, e, g)[0])
    alpha = (1 - level) / 2
    rows = []
    for name, est, values, transform in (
        ("hazard_ratio", est_lhr, log_hr, np.exp),
        ("median_0", est0, med0, None),
        ("median_1", est1, med1, None),
    ):
        ok = ~np.isnan(values)
        v = values[ok]
        lo, hi = np.quantile(v, [alpha, 1 - alpha], method="inverted_cdf") if v.size else (np.nan, np.nan)
        if transform is not None:
            est, lo, hi = transform(est), transform(lo), transform(hi)
        rows.append({"quantity": name, "estimate": float(est), "ci_lower": float(lo),
                     "ci_upper": float(hi), "share_infinite": float(np.mean(np.isinf(v))) if v.size else np.nan,
                     "share_undefined": float(np.mean(~ok))})
    reps = pd.DataFrame({"log_hr": log_hr, "median_0": med0, "median_1": med1})
    return BootstrapResult(pd.DataFrame(rows), reps, int(n_boot), level, stratified)


# ---------------------------------------------------------------------- permutation


@dataclass(frozen=True)
class PermutationResult:
    """Permutation log-rank test.

    Attributes
    ----------
    statistic : float
        Observed log-rank chi-square.
    p_asymptotic : float
        The usual chi-square (1 df) p-value.
    p_value : float
        Permutation p-value: exact share of relabellings with a statistic at least as
        large (``exact``), or the Monte Carlo estimate ``(1 + k) / (1 + B)``.
    exact : bool
    n_permutations : int
        Relabellings evaluated (all of them when exact).
    mc_se : float
        Monte Carlo standard error of ``p_value`` (0 when exact).
    """

    statistic: float
    p_asymptotic: float
    p_value: float
    exact: bool
    n_permutations: int
    mc_se: float


def permutation_logrank(
    time: Any,
    event: Any,
    group: Any,
    n_permutations: int = 10_000,
    max_exact: int = 100_000,
    seed: int = 0,
) -> PermutationResult:
    """Exact or Monte Carlo permutation p-value of the two-group log-rank test.

    Under the null hypothesis that survival does not depend on the group, and with
    censoring unrelated to it, every assignment of the group labels (keeping the group
    sizes) is equally likely. The p-value is the share of assignments whose log-rank
    statistic is at least the observed one.

    Parameters
    ----------
    time, event, group : array-like
        As in :func:`bootstrap`.
    n_permutations : int
        Random relabellings when the exact enumeration is too large.
    max_exact : int
        Enumerate all ``C(n, n1)`` relabellings when there are at most this many.
    seed : int

    Returns
    -------
    PermutationResult

    Notes
    -----
    Ties between the statistics (common with small groups) count as "at least as large"
    (relative tolerance 1e-9). The Monte Carlo p-value ``(1 + k) / (1 + B)`` counts the
    observed labelling among the permutations, so it is never 0 and the test keeps its
    level exactly.

    References
    ----------
    .. [1] Good P. Permutation, Parametric and Bootstrap Tests of Hypotheses, 3rd ed.
       Springer 2005. doi:10.1007/b138696
    .. [2] Phipson B, Smyth GK. Permutation p-values should never be zero: calculating
       exact p-values when permutations are randomly drawn. Stat Appl Genet Mol Biol
       2010;9:39. doi:10.2202/1544-6115.1585
    """
    t, e, g = _data(time, event, group)
    n, k = t.size, int(g.sum())
    obs = logrank_rows(t, e, g)
    stat = float(obs["statistic"][0])
    threshold = stat * (1 - 1e-9)
    total = math.comb(n, k)
    if total <= max_exact:
        count = 0
        combos = itertools.combinations(range(n), k)
        chunk = 20_000
        while True:
            block = list(itertools.islice(combos, chunk))
            if not block:
                break
            labels = np.zeros((len(block), n))
            labels[np.repeat(np.arange(len(block)), k), np.asarray(block).ravel()] = 1.0
            count += int(np.sum(logrank_rows(t, e, labels)["statistic"] >= threshold))
        return PermutationResult(stat, float(obs["p_value"][0]), count / total, True, total, 0.0)
    rng = np.random.default_rng(seed)
    count, done = 0, 0
    while done < n_permutations:
        b = min(20_000, n_permutations - done)
        labels = rng.permuted(np.broadcast_to(g.astype(float), (b, n)), axis=1)
        count += int(np.sum(logrank_rows(t, e, labels)["statistic"] >= threshold))
        done += b
    p = (1 + count) / (1 + n_permutations)
    return PermutationResult(stat, float(obs["p_value"][0]), p, False, int(n_permutations),
                             float(math.sqrt(p * (1 - p) / n_permutations)))


# ---------------------------------------------------------------------- sensitivity


def sensitivity(time: Any, event: Any, group: Any, ids: Any = None) -> pd.DataFrame:
    """Log-rank p-value and Cox hazard ratio with one patient left out, or one outcome changed.

    Parameters
    ----------
    time, event, group : array-like
        As in :func:`bootstrap`.
    ids : array-like, optional
        Patient identifiers (default 0..n-1).

    Returns
    -------
    pandas.DataFrame
        Two rows per patient (``change`` = ``"left out"`` and ``"outcome changed"``:
        an event becomes a censoring at the same time, or a censoring becomes an
        event) with ``patient``, ``group``, ``time``, ``event`` (the original),
        ``p_value``, ``hazard_ratio`` (Cox, Efron; 0 or inf when the likelihood is
        monotone) and ``statistic``; plus one first row ``change = "none"`` with the
        original data.

    References
    ----------
    .. [1] Cook RD. Detection of influential observation in linear regression.
       Technometrics 1977;19:15-18. doi:10.1080/00401706.1977.10489493
    """
    t, e, g = _data(time, event, group)
    n = t.size
    ids = np.arange(n) if ids is None else np.asarray(ids)
    eye = np.eye(n, dtype=bool)
    weights = np.vstack([np.ones((1, n)), 1.0 - eye, np.ones((n, n))])
    events = np.vstack([e[None, :], np.broadcast_to(e, (n, n)), np.where(eye, ~e, e)]).astype(float)
    lr = logrank_rows(t, events, g, weights)
    lhr = cox_binary_rows(t, events, g, weights)
    change = ["none"] + ["left out"] * n + ["outcome changed"] * n
    idx = np.concatenate([[-1], np.arange(n), np.arange(n)])
    out = pd.DataFrame({
        "change": change,
        "patient": [None] + list(ids) + list(ids),
        "group": np.where(idx >= 0, g[idx].astype(int), -1),
        "time": np.where(idx >= 0, t[idx], np.nan),
        "event": np.where(idx >= 0, e[idx].astype(int), -1),
        "statistic": lr["statistic"],
        "p_value": lr["p_value"],
        "hazard_ratio": np.exp(lhr),
    })
    return out


# ------------------------------------------------------------------- per endpoint


@dataclass(frozen=True)
class StabilityResult:
    """Bootstrap, permutation test and sensitivity analysis of one endpoint.

    Attributes
    ----------
    endpoint : str
        Endpoint prefix (``"pfs"``, ``"os"``).
    group : str
        The 0/1 grouping column.
    n : int
        Patients analysed (those with a value of ``group``).
    n_group : int
        Patients in group 1.
    bootstrap : BootstrapResult
    permutation : PermutationResult
    sensitivity : pandas.DataFrame
        As returned by :func:`sensitivity`.
    """

    endpoint: str
    group: str
    n: int
    n_group: int
    bootstrap: BootstrapResult
    permutation: PermutationResult
    sensitivity: pd.DataFrame = field(repr=False)


def stability(
    table: pd.DataFrame,
    endpoint: str,
    group: str = "her2_pos_first_follow_up",
    id_column: str | None = "patient_id",
    n_boot: int = 2000,
    n_permutations: int = 20_000,
    seed: int = 0,
) -> StabilityResult:
    """How stable is a two-group comparison of one endpoint? Bootstrap, permutation, sensitivity.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient with ``<endpoint>_days``, ``<endpoint>_event`` and ``group``;
        patients without a value of ``group`` are left out.
    endpoint : str
        Endpoint prefix, e.g. ``"os"``.
    group : str
        The 0/1 grouping column.
    id_column : str or None
        Patient identifiers for :func:`sensitivity` (ignored when not a column).
    n_boot, n_permutations : int
        Passed to :func:`bootstrap` and :func:`permutation_logrank`.
    seed : int
        Seed of both.

    Returns
    -------
    StabilityResult

    References
    ----------
    .. [1] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993.
       doi:10.1201/9780429246593
    .. [2] Phipson B, Smyth GK. Permutation p-values should never be zero. Stat Appl
       Genet Mol Biol 2010;9:39. doi:10.2202/1544-6115.1585
    """
    dur, ev = f"{endpoint}_days", f"{endpoint}_event"
    d = table.dropna(subset=[group, dur, ev])
    t, e, g = d[dur], d[ev], d[group]
    ids = d[id_column] if id_column is not None and id_column in d else None
    return StabilityResult(
        endpoint=endpoint, group=group, n=len(d), n_group=int((g == 1).sum()),
        bootstrap=bootstrap(t, e, g, n_boot=n_boot, seed=seed),
        permutation=permutation_logrank(t, e, g, n_permutations=n_permutations, seed=seed),
        sensitivity=sensitivity(t, e, g, ids=ids),
    )


def stability_summary(results: Iterable[StabilityResult]) -> pd.DataFrame:
    """One row per endpoint: bootstrap interval, permutation p and sensitivity ranges.

    Parameters
    ----------
    results : iterable of StabilityResult
        From :func:`stability`, e.g. one per endpoint.

    Returns
    -------
    pandas.DataFrame
        ``endpoint``, ``n``, ``n_group``, ``hazard_ratio`` (Cox estimate on the data),
        ``hr_lower``, ``hr_upper`` (bootstrap percentile interval), ``p_logrank`` (the
        chi-square p-value), ``p_permutation``, ``permutation_exact``,
        ``p_left_out_min``, ``p_left_out_max`` (log-rank p with one patient left out)
        and ``p_changed_min``, ``p_changed_max`` (with one outcome changed),
        ``n_boot``, ``n_permutations``.
    """
    rows = []
    for r in results:
        hr = r.bootstrap.summary.set_index("quantity").loc["hazard_ratio"]
        sens = r.sensitivity
        left = sens.loc[sens["change"] == "left out", "p_value"]
        changed = sens.loc[sens["change"] == "outcome changed", "p_value"]
        rows.append({
            "endpoint": r.endpoint, "n": r.n, "n_group": r.n_group,
            "hazard_ratio": float(hr["estimate"]), "hr_lower": float(hr["ci_lower"]),
            "hr_upper": float(hr["ci_upper"]),
            "p_logrank": r.permutation.p_asymptotic, "p_permutation": r.permutation.p_value,
            "permutation_exact": r.permutation.exact,
            "p_left_out_min": float(left.min()), "p_left_out_max": float(left.max()),
            "p_changed_min": float(changed.min()), "p_changed_max": float(changed.max()),
            "n_boot": r.bootstrap.n_boot, "n_permutations": r.permutation.n_permutations,
        })
    return pd.DataFrame(rows)


def plot_stability(boot: BootstrapResult, sens: pd.DataFrame, *, axes: Any = None) -> Any:
    """Bootstrap distribution of the hazard ratio and the leave-one-out / changed-outcome p-values.

    Parameters
    ----------
    boot : BootstrapResult
    sens : pandas.DataFrame
        Output of :func:`sensitivity`.
    axes : sequence of two Axes, optional

    Returns
    -------
    numpy.ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from ctcbook.plotting import PALETTE

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.6))
    lhr = boot.replicates["log_hr"].to_numpy()
    finite = lhr[np.isfinite(lhr)]
    hr = boot.summary.set_index("quantity").loc["hazard_ratio"]
    axes[0].hist(np.exp(finite), bins=np.geomspace(max(np.exp(finite.min()), 0.05),
                                                   np.exp(finite.max()) * 1.01, 40),
                 color=PALETTE[0], alpha=0.8)
    axes[0].set_xscale("log")
    for v, ls in ((hr["estimate"], "-"), (hr["ci_lower"], "--"), (hr["ci_upper"], "--")):
        if np.isfinite(v) and v > 0:
            axes[0].axvline(v, color=PALETTE[1], ls=ls, lw=1.3)
    axes[0].axvline(1.0, color="0.4", ls=":", lw=1)
    axes[0].set_xlabel("Hazard ratio in a bootstrap resample")
    axes[0].set_ylabel("Resamples")
    base = sens.loc[sens["change"] == "none", "p_value"].iloc[0]
    for k, change in enumerate(("left out", "outcome changed")):
        sub = sens[sens["change"] == change]
        jitter = (np.arange(len(sub)) % 7 - 3) * 0.03
        colours = np.where(sub["group"] == 1, PALETTE[1], PALETTE[0])
        axes[1].scatter(k + jitter, sub["p_value"], s=12, c=colours)
    axes[1].axhline(base, color="0.2", lw=1, label="all data")
    axes[1].axhline(0.05, color="0.5", ls=":", lw=1, label="0.05")
    axes[1].set_yscale("log")
    axes[1].set_xticks([0, 1], ["one patient\nleft out", "one outcome\nchanged"])
    axes[1].set_ylabel("Log-rank p-value")
    axes[1].legend(loc="lower right")
    return np.asarray(axes)
