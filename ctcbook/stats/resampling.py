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

from ctcbook.stats.survival import _time_event, km_quantile

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


#: Matrix cells per chunk of rows (bounds memory at ~32 MB of float64 per array): the
#: functions below take many versions of a data set at once and process them in chunks
#: of ``_CELLS // n`` rows, so memory stays flat and time grows linearly with the rows.
_CELLS = 4_000_000


def _chunk_rows(n: int) -> int:
    """Rows of an (rows, n) matrix per chunk."""
    return max(1, _CELLS // max(n, 1))


def _rows(x: Any, n: int) -> np.ndarray:
    """(1, n) or (R, n) float array."""
    return np.atleast_2d(np.asarray(x, dtype=float))


def _tables(time: np.ndarray, event: Any, group: Any, weights: Any
            ) -> tuple[np.ndarray, ...]:
    """Weighted counts per distinct time for every row.

    Returns ``times`` (J,), and (R, J) arrays: ``n`` and ``n1`` at risk, ``d`` and ``d1``
    deaths (``1`` = group 1).

    Each count is a sum over the patients sharing a distinct time (one ``np.bincount``
    over row x time keys): O(R n) work. Inputs given as one row are summed once and
    shared by every row; with shared events and groups, the four counts of a row come
    from one pass over its weights (one key per row, group, event and time).
    """
    times, inv = np.unique(time, return_inverse=True)
    size, n_obs = times.size, time.size
    e, g = _rows(event, n_obs), _rows(group, n_obs)
    w = None if weights is None else _rows(weights, n_obs)
    rows = max(e.shape[0], g.shape[0], 1 if w is None else w.shape[0])

    def keys(r: int, extra: Any = 0, width: int = size) -> np.ndarray:
        k = inv + extra
        return k if r == 1 else (np.arange(r)[:, None] * width + k).ravel()

    def seg(x: np.ndarray) -> np.ndarray:
        r = x.shape[0]
        out = np.bincount(keys(r), weights=x.ravel(), minlength=r * size).reshape(r, size)
        return np.broadcast_to(out, (rows, size))

    if w is None:
        removed = np.broadcast_to(np.bincount(inv, minlength=size).astype(float), (rows, size))
        removed1, d, d1 = seg(g), seg(e), seg(e * g)
    elif e.shape[0] == 1 and g.shape[0] == 1 and w.shape[0] > 1:
        cls = (2 * g[0] + e[0]).astype(np.int64) * size  # 0: g0 e0, 1: g0 e1, 2: g1 e0, 3: g1 e1
        by = np.bincount(keys(rows, cls, 4 * size), weights=w.ravel(),
                         minlength=rows * 4 * size).reshape(rows, 4, size)
        removed = by.sum(axis=1)
        removed1, d, d1 = by[:, 2] + by[:, 3], by[:, 1] + by[:, 3], by[:, 3]
    else:
        removed, removed1, d, d1 = seg(w), seg(w * g), seg(w * e), seg(w * e * g)

    def at_risk(x: np.ndarray) -> np.ndarray:
        return np.cumsum(x[:, ::-1], axis=1)[:, ::-1]

    return times, at_risk(removed), at_risk(removed1), d, d1


def _in_chunks(fn: Any, time: np.ndarray, *row_inputs: Any) -> Any:
    """Apply ``fn(time, *inputs)`` to chunks of rows of the (R, n) inputs; concatenate.

    Inputs with one row (or None) are passed whole to every chunk. ``fn`` returns an
    array (R,) or a dict of them.
    """
    n_obs = time.size
    arrays = [None if x is None else _rows(x, n_obs) for x in row_inputs]
    rows = max([1] + [a.shape[0] for a in arrays if a is not None])
    step = _chunk_rows(n_obs)
    if rows <= step:
        return fn(time, *arrays)
    parts = []
    for lo in range(0, rows, step):
        parts.append(fn(time, *[a if a is None or a.shape[0] == 1 else a[lo:lo + step]
                                for a in arrays]))
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)


def _logrank_tables(n: np.ndarray, n1: np.ndarray, d: np.ndarray, d1: np.ndarray
                    ) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n > 0, n1 / n, 0.0)
        exp1 = (frac * d).sum(axis=1)
        var = np.where(n > 1, d * (n - d) / (n - 1) * frac * (1 - frac), 0.0).sum(axis=1)
        obs = d1.sum(axis=1)
    return _logrank_result(obs, exp1, var)


def _logrank_result(obs: np.ndarray, exp1: np.ndarray, var: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(var > 0, (obs - exp1) ** 2 / var, np.nan)
        log_hr = np.where(var > 0, (obs - exp1) / var, np.nan)
    return {"statistic": stat, "p_value": stats.chi2.sf(stat, 1), "observed": obs,
            "expected": exp1, "variance": var, "log_hr": log_hr}


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
    Ties are handled as in :func:`ctcbook.stats.survival.logrank` (hypergeometric variance),
    with which it agrees to rounding for every row. Cost O(R n): the rows are processed
    in chunks that bound memory.
    """
    t = np.asarray(time, dtype=float).ravel()

    def one(t: np.ndarray, e: Any, g: Any, w: Any) -> dict[str, np.ndarray]:
        return _logrank_tables(*_tables(t, e, g, w)[1:])

    return _in_chunks(one, t, event, group, weights)


def _efron_entries(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One entry per Efron term: for each (row, time) with d > 0, l = 0..ceil(d) - 1.

    Returns the flat (row * J + time) index of each entry, its row, and ``l / d``.
    """
    flat_d = d.ravel()
    count = np.where(flat_d > 0, np.ceil(flat_d), 0).astype(np.int64)
    flat = np.repeat(np.arange(flat_d.size), count)
    first = np.repeat(np.cumsum(count) - count, count)
    ell = np.arange(flat.size) - first
    return flat, flat // max(d.shape[1], 1), ell / flat_d[flat]


def _cox_tables(n: np.ndarray, n1: np.ndarray, d: np.ndarray, d1: np.ndarray,
                max_iter: int = 100) -> np.ndarray:
    """Efron Cox log hazard ratio of group 1 per row of (R, J) risk-set tables."""
    rows = n.shape[0]
    has_both = (n1[:, 0] > 0) & (n1[:, 0] < n[:, 0])
    has_events = d.sum(axis=1) > 0
    flat, row, f = _efron_entries(d)
    n1f, d1f = n1.ravel()[flat], d1.ravel()[flat]
    a0 = n1f - f * d1f  # group 1 at risk in Efron's l-th term (times exp(beta))
    b0 = (n.ravel()[flat] - n1f) - f * (d.ravel()[flat] - d1f)  # group 0
    d1_sum = d1.sum(axis=1)
    # limits of the score at beta -> +inf and -inf
    pos = a0 > 1e-12
    u_pos = d1_sum - np.bincount(row, weights=pos, minlength=rows)
    u_neg = d1_sum - np.bincount(row, weights=pos & (b0 <= 1e-12), minlength=rows)
    out = np.full(rows, np.nan)
    ok = has_both & has_events
    plus_inf = ok & (u_pos >= -1e-9)
    minus_inf = ok & (u_neg <= 1e-9)
    out[plus_inf] = np.inf
    out[minus_inf] = -np.inf
    fit = ok & ~plus_inf & ~minus_inf
    if not fit.any():
        return out
    idx = np.flatnonzero(fit)
    pos_in_fit = np.full(rows, -1)
    pos_in_fit[idx] = np.arange(idx.size)
    keep = fit[row]
    r_fit, a0, b0 = pos_in_fit[row[keep]], a0[keep], b0[keep]
    lo = np.full(idx.size, -50.0)
    hi = np.full(idx.size, 50.0)
    beta = np.zeros(idx.size)
    for _ in range(max_iter):
        a = a0 * np.exp(beta)[r_fit]
        c = b0 + a
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(c > 0, a / c, 0.0)
        u = d1_sum[idx] - np.bincount(r_fit, weights=share, minlength=idx.size)
        i = np.bincount(r_fit, weights=share * (1 - share), minlength=idx.size)
        lo = np.where(u > 0, beta, lo)
        hi = np.where(u <= 0, beta, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = beta + u / i
        # inclusive: a score of exactly 0 is the root (the step is 0), not a reason to bisect
        inside = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
        new = np.where(inside, newton, 0.5 * (lo + hi))
        if np.max(np.abs(new - beta)) < 1e-12:
            beta = new
            break
        beta = new
    out[idx] = beta
    return out


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
    :func:`ctcbook.stats.survival.cox` (Efron) to about 1e-9 on the log scale. Each Newton step
    costs one pass over the Efron terms (one per death, counting replicated deaths),
    so a row costs O(n) per step; rows are processed in chunks that bound memory.

    References
    ----------
    .. [1] Efron B. The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 1977;72:557-565.
    """
    t = np.asarray(time, dtype=float).ravel()

    def one(t: np.ndarray, e: Any, g: Any, w: Any) -> np.ndarray:
        _, n, n1, d, d1 = _tables(t, e, g, w)
        return _cox_tables(n, n1, d, d1, max_iter)

    return _in_chunks(one, t, event, group, weights)


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
        The median by :func:`ctcbook.stats.survival.median_survival`'s (R ``survfit``'s)
        rule: the first time at which S(t) <= 0.5 within a tolerance, the midpoint where
        S(t) sits at 0.5; ``inf`` if never; NaN for a row with no subjects.
    """
    t = np.asarray(time, dtype=float).ravel()

    def one(t: np.ndarray, e: Any, w: Any) -> np.ndarray:
        times, n, _, d, _ = _tables(t, e, np.zeros(t.size), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n > 0, 1.0 - d / n, 1.0)
        surv = np.cumprod(factor, axis=1)
        # R survfit's rule, as median_survival (tolerance; midpoint of a flat at 0.5); a
        # row's curve ends at its last time with positive weight
        present = n > np.concatenate((n[:, 1:], np.zeros((n.shape[0], 1))), axis=1)
        last = times[n.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)]
        med = km_quantile(np.concatenate(([0.0], times)),
                          np.concatenate((np.ones((surv.shape[0], 1)), surv), axis=1), 0.5,
                          last_time=last)
        return np.where(n[:, 0] > 0, med, np.nan)

    return _in_chunks(one, t, event, weights)


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


def _weight_chunks(seed: int, masks: list[np.ndarray], n_boot: int, step: int):
    """Bootstrap case counts in chunks of ``step`` resamples, the same numbers as
    ``sum(_multinomial_weights(rng, m, n_boot) for m in masks)`` with one generator.

    One generator draws every resample of the first mask, then every resample of the
    next: to hand out chunks of all masks together, each mask gets its own generator
    advanced to where that mask's draws begin (the skipped draws are redrawn, not
    stored, so memory stays at one chunk).
    """
    if n_boot <= step:
        rng = np.random.default_rng(seed)
        yield 0, sum(_multinomial_weights(rng, m, n_boot) for m in masks)
        return
    gens = []
    skip = np.random.default_rng(seed)
    for i, m in enumerate(masks):
        gens.append(np.random.default_rng(seed))
        gens[-1].bit_generator.state = skip.bit_generator.state
        if i < len(masks) - 1:
            k = int(m.sum())
            for lo in range(0, n_boot, step):
                skip.multinomial(k, np.full(k, 1.0 / k), size=min(step, n_boot - lo))
    for lo in range(0, n_boot, step):
        b = min(step, n_boot - lo)
        yield lo, sum(_multinomial_weights(gen, m, b) for gen, m in zip(gens, masks, strict=True))


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
    unstratified) are dropped from the hazard-ratio interval. Each resample costs
    O(n) per Newton step; resamples are drawn and evaluated in chunks that bound memory
    (the same numbers as drawing them all at once).

    References
    ----------
    .. [1] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993,
       chapter 13 (percentile intervals). doi:10.1201/9780429246593
    .. [2] Davison AC, Hinkley DV. Bootstrap Methods and their Application. Cambridge
       University Press 1997, section 7.3 (censored data). doi:10.1017/CBO9780511802843
    """
    t, e, g = _data(time, event, group)
    masks = [g, ~g] if stratified else [np.ones(t.size, bool)]
    log_hr, med0, med1 = (np.empty(n_boot) for _ in range(3))
    for lo, w in _weight_chunks(seed, masks, n_boot, _chunk_rows(t.size)):
        part = slice(lo, lo + w.shape[0])
        log_hr[part] = cox_binary_rows(t, e, g, w)
        med0[part] = km_median_rows(t, e, w * ~g)
        med1[part] = km_median_rows(t, e, w * g)
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
    level exactly. A relabelling costs O(n): the numbers at risk and deaths per time are
    shared, and only the group-1 counts per time are recounted.

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
    # the numbers at risk and deaths per distinct time do not depend on the labels; a
    # relabelling needs only its group-1 counts per time, from the k group-1 positions
    _, n_all, _, d_all, _ = _tables(t, e, np.zeros(n), None)
    inv = np.unique(t, return_inverse=True)[1]
    size = n_all.shape[1]
    ef = e.astype(float)

    def relabelled(b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Log-rank statistics of b relabellings given the (row, patient) of each 1."""
        key = rows * size + inv[cols]
        removed1 = np.bincount(key, minlength=b * size).reshape(b, size).astype(float)
        d1 = np.bincount(key, weights=ef[cols], minlength=b * size).reshape(b, size)
        n1 = np.cumsum(removed1[:, ::-1], axis=1)[:, ::-1]
        shape = (b, size)
        return _logrank_tables(np.broadcast_to(n_all, shape), n1,
                               np.broadcast_to(d_all, shape), d1)["statistic"]

    total = math.comb(n, k)
    if total <= max_exact:
        count = 0
        combos = itertools.combinations(range(n), k)
        chunk = min(20_000, _chunk_rows(n))
        while True:
            block = list(itertools.islice(combos, chunk))
            if not block:
                break
            rows = np.repeat(np.arange(len(block)), k)
            count += int(np.sum(relabelled(len(block), rows, np.asarray(block).ravel())
                                >= threshold))
        return PermutationResult(stat, float(obs["p_value"][0]), count / total, True, total, 0.0)
    rng = np.random.default_rng(seed)
    count, done = 0, 0
    while done < n_permutations:
        b = min(20_000, _chunk_rows(n), n_permutations - done)
        labels = rng.permuted(np.broadcast_to(g.astype(np.int8), (b, n)), axis=1)
        count += int(np.sum(relabelled(b, *np.nonzero(labels)) >= threshold))
        done += b
    p = (1 + count) / (1 + n_permutations)
    return PermutationResult(stat, float(obs["p_value"][0]), p, False, int(n_permutations),
                             float(math.sqrt(p * (1 - p) / n_permutations)))


# ---------------------------------------------------------------------- sensitivity


#: Up to this many patients, :func:`sensitivity` refits the Cox model for every variation;
#: above it, the hazard ratios are one Newton step from the full-data estimate.
SENSITIVITY_EXACT_COX_MAX = 1000


def _base_tables(t: np.ndarray, e: np.ndarray, g: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unweighted (J,) tables, and each patient's distinct-time index."""
    times, inv = np.unique(t, return_inverse=True)
    size = times.size
    removed = np.bincount(inv, minlength=size).astype(float)
    removed1 = np.bincount(inv, weights=g, minlength=size)
    d = np.bincount(inv, weights=e, minlength=size)
    d1 = np.bincount(inv, weights=e * g, minlength=size)
    n = np.cumsum(removed[::-1])[::-1]
    n1 = np.cumsum(removed1[::-1])[::-1]
    return inv, n, n1, d, d1


def _variation_sums(term: Any, tables: tuple[np.ndarray, ...], k: np.ndarray, g: np.ndarray,
                    e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum over distinct times of ``term(n, n1, d, d1)`` for every one-patient variation.

    ``term`` maps (m,) arrays of risk-set counts to a (q, m) array: q values per time.
    Returns two (q, n) arrays: for each patient i (time index ``k[i]``, group ``g[i]``,
    event ``e[i]``), the sums with i left out and with i's event indicator changed,
    each in O(1) after O(J) preparation. Leaving i out lowers the numbers at risk
    (``n`` and, in group 1, ``n1``) by one at every time up to i's own, so the sum is a
    prefix sum of the lowered terms, i's own time, and a suffix sum of the unchanged
    terms; changing i's outcome changes only the deaths at i's own time.
    """
    n, n1, d, d1 = tables
    with np.errstate(divide="ignore", invalid="ignore"):
        base = term(n, n1, d, d1)
        suffix = np.concatenate([np.cumsum(base[:, ::-1], axis=1)[:, ::-1],
                                 np.zeros((base.shape[0], 1))], axis=1)
        left = np.empty((base.shape[0], k.size))
        for gv in (0, 1):
            sel = g == gv
            if not sel.any():
                continue
            lowered = np.concatenate([np.zeros((base.shape[0], 1)),
                                      np.cumsum(term(n - 1, n1 - gv, d, d1), axis=1)], axis=1)
            kk, ee = k[sel], e[sel]
            own = term(n[kk] - 1, n1[kk] - gv, d[kk] - ee, d1[kk] - ee * gv)
            left[:, sel] = lowered[:, kk] + own + suffix[:, kk + 1]
        s = 1 - 2 * e  # +1: censoring becomes a death; -1: a death becomes a censoring
        changed = (suffix[:, :1] - base[:, k]) + term(n[k], n1[k], d[k] + s, d1[k] + s * g)
    return left, changed


def _logrank_terms(n, n1, d, d1):
    """Per time: expected deaths of group 1 and the hypergeometric variance."""
    frac = np.where(n > 0, n1 / n, 0.0)
    return np.stack([frac * d, np.where(n > 1, d * (n - d) / (n - 1) * frac * (1 - frac), 0.0)])


def _efron_terms(beta: float, n, n1, d, d1) -> np.ndarray:
    """Per element of the (m,) count arrays: the Efron score, information and the
    information's derivative at ``beta`` (group 1 vs 0), and the score's limits at
    beta -> +inf and -inf."""
    shape = np.shape(n)
    n, n1, d, d1 = (np.broadcast_to(np.asarray(x, float), shape).reshape(1, -1)
                    for x in (n, n1, d, d1))
    flat, _, f = _efron_entries(d)
    n1f, d1f = n1[0, flat], d1[0, flat]
    a0 = n1f - f * d1f
    b0 = (n[0, flat] - n1f) - f * (d[0, flat] - d1f)
    size = d.shape[1]
    pos = a0 > 1e-12
    u_pos = d1[0] - np.bincount(flat, weights=pos, minlength=size)
    u_neg = d1[0] - np.bincount(flat, weights=pos & (b0 <= 1e-12), minlength=size)
    if not np.isfinite(beta):
        return np.stack([np.zeros(size), np.zeros(size), np.zeros(size), u_pos, u_neg])
    a = a0 * math.exp(beta)
    c = b0 + a
    share = np.where(c > 0, a / c, 0.0)
    score = d1[0] - np.bincount(flat, weights=share, minlength=size)
    spread = share * (1 - share)
    info = np.bincount(flat, weights=spread, minlength=size)
    slope = np.bincount(flat, weights=spread * (1 - 2 * share), minlength=size)  # d info / d beta
    return np.stack([score, info, slope, u_pos, u_neg])


def _variation_cox(t: np.ndarray, e: np.ndarray, g: np.ndarray, inv: np.ndarray,
                   tables: tuple[np.ndarray, ...], exact: bool) -> np.ndarray:
    """log HR for the full data, each patient left out, each outcome changed (2n + 1)."""
    n_obs = t.size
    beta = float(cox_binary_rows(t, e, g)[0])
    if exact:
        n, n1, d, d1 = tables
        size = n.size
        out = np.empty(2 * n_obs)
        step = _chunk_rows(size)
        cols = np.arange(size)
        for lo in range(0, 2 * n_obs, step):
            r = np.arange(lo, min(lo + step, 2 * n_obs))
            i = r % n_obs
            is_left = r < n_obs
            kk = inv[i][:, None]
            gg, ee = g[i][:, None].astype(float), e[i][:, None].astype(float)
            up_to = (cols[None, :] <= kk) & is_left[:, None]
            at = cols[None, :] == kk
            dd = np.where(at, np.where(is_left[:, None], -ee, 1 - 2 * ee), 0.0)
            out[r] = _cox_tables(n[None, :] - up_to, n1[None, :] - up_to * gg,
                                     d[None, :] + dd, d1[None, :] + dd * gg)
        return np.concatenate(([beta], out))
    # one step from the full-data estimate: the exact score U, information I and its
    # derivative I' of every variation at beta (prefix sums), then the root of the
    # second-order Taylor expansion U - I x - I' x^2 / 2 (a Newton step corrected once,
    # Halley's method); monotone likelihoods are detected exactly from the score's limits
    sums = _variation_sums(lambda *c: _efron_terms(beta, *c), tables, inv,
                           g.astype(float), e.astype(float))
    n_all, n1_all, d_all = tables[0][0], tables[1][0], tables[2].sum()
    out = [np.array([beta])]
    for (score, info, slope, u_pos, u_neg), removes in zip(sums, (True, False), strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = score / info
            step = beta + score / (info + 0.5 * slope * newton)
        if removes:
            size1, total, deaths = n1_all - g, n_all - 1, d_all - e
        else:
            size1, total, deaths = n1_all + 0 * e, n_all + 0 * e, d_all + 1 - 2 * e.astype(float)
        ok = (size1 > 0) & (size1 < total) & (deaths > 0)
        # as _cox_tables: -inf wins when both limits say monotone (a flat likelihood)
        value = np.where(u_neg <= 1e-9, -np.inf, np.where(u_pos >= -1e-9, np.inf, step))
        value = np.where(ok, value, np.nan)
        # not monotone, but no finite step (an infinite full-data estimate): refit
        refit = np.flatnonzero(ok & (u_pos < -1e-9) & (u_neg > 1e-9) & ~np.isfinite(step))
        if refit.size:
            rows = np.arange(refit.size)
            w = np.ones((refit.size, n_obs))
            ev = np.tile(e.astype(float), (refit.size, 1))
            if removes:
                w[rows, refit] = 0.0
            else:
                ev[rows, refit] = 1.0 - ev[rows, refit]
            value[refit] = cox_binary_rows(t, ev, g, w)
        out.append(value)
    return np.concatenate(out)


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

    Notes
    -----
    The log-rank statistic of every variation is exact and all 2n of them cost
    O(n log n) together: a variation changes the numbers at risk only up to one
    patient's time, by one, so each sum over the distinct times is a prefix sum of
    the lowered terms plus a suffix sum of the unchanged ones (the closed-form
    jackknife of a sum of per-time terms). The hazard ratios are refitted for every
    variation (Newton, as :func:`cox_binary_rows`) up to ``SENSITIVITY_EXACT_COX_MAX``
    patients; above that they are one step from the full-data estimate, with the
    variation's exact score, information and information derivative at that estimate
    (Cain & Lange's one-step case influence, with Halley's second-order correction:
    the error is of the order of the cube of the change in the log hazard ratio), and a
    variation whose likelihood becomes monotone is still reported as 0 or infinity.

    References
    ----------
    .. [1] Cook RD. Detection of influential observation in linear regression.
       Technometrics 1977;19:15-18. doi:10.1080/00401706.1977.10489493
    .. [2] Cain KC, Lange NT. Approximate case influence for the proportional hazards
       regression model with censored data. Biometrics 1984;40:493-499.
       doi:10.2307/2531402
    """
    t, e, g = _data(time, event, group)
    n = t.size
    ids = np.arange(n) if ids is None else np.asarray(ids)
    ef, gf = e.astype(float), g.astype(float)
    inv, *tables = _base_tables(t, ef, gf)
    (exp_left, var_left), (exp_changed, var_changed) = _variation_sums(
        _logrank_terms, tuple(tables), inv, gf, ef)
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_all, var_all = _logrank_terms(*tables).sum(axis=1)
    observed = tables[3].sum()
    lr = _logrank_result(
        np.concatenate(([observed], observed - ef * gf, observed + (1 - 2 * ef) * gf)),
        np.concatenate(([exp_all], exp_left, exp_changed)),
        np.concatenate(([var_all], var_left, var_changed)))
    lhr = _variation_cox(t, e, g, inv, tuple(tables), exact=n <= SENSITIVITY_EXACT_COX_MAX)
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
