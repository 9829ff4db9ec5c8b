"""The engine's rows: one statistic on many versions of one data set at once (bootstrap
weights, permutations, left-out patients), from weighted risk-set tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from ctcbook.stats._engine import curves
from ctcbook.stats._engine.curves import chi2_1_sf, km_quantile, logrank_terms

# ------------------------------------------------- many versions of one data set: rows


def chunk_rows(n: int) -> int:
    """Rows of an (rows, n) matrix per chunk."""
    return max(1, curves.CELLS // max(n, 1))


def _rows(x: Any) -> np.ndarray:
    """(1, n) or (R, n) float array."""
    return np.atleast_2d(np.asarray(x, dtype=float))


def tables(time: np.ndarray, event: Any, group: Any, weights: Any) -> tuple[np.ndarray, ...]:
    """Weighted counts per distinct time for every row.

    Returns ``times`` (J,), and (R, J) arrays: ``n`` and ``n1`` at risk, ``d`` and ``d1``
    deaths (``1`` = group 1). ``event``, ``group`` and ``weights`` are (n,) or (R, n)
    (broadcast; ``weights=None`` is 1).

    Each count is a sum over the patients sharing a distinct time (one ``np.bincount``
    over row x time keys): O(R n) work. Inputs given as one row are summed once and
    shared by every row; with shared events and groups, the four counts of a row come
    from one pass over its weights (one key per row, group, event and time).
    """
    times, inv = np.unique(time, return_inverse=True)
    size = times.size
    e, g = _rows(event), _rows(group)
    w = None if weights is None else _rows(weights)
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


def in_chunks(fn: Any, time: np.ndarray, *row_inputs: Any) -> Any:
    """Apply ``fn(time, *inputs)`` to chunks of rows of the (R, n) inputs; concatenate.

    Inputs with one row (or None) are passed whole to every chunk. ``fn`` returns an
    array (R,) or a dict of them.
    """
    arrays = [None if x is None else _rows(x) for x in row_inputs]
    rows = max([1] + [a.shape[0] for a in arrays if a is not None])
    step = chunk_rows(time.size)
    if rows <= step:
        return fn(time, *arrays)
    parts = [fn(time, *[a if a is None or a.shape[0] == 1 else a[lo:lo + step] for a in arrays])
             for lo in range(0, rows, step)]
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)


def logrank_result(obs: Any, exp1: Any, var: Any) -> dict[str, np.ndarray]:
    """Two-group log-rank statistic, p-value and Peto's one-step log hazard ratio (O - E) / V."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(var > 0, (obs - exp1) ** 2 / var, np.nan)
        log_hr = np.where(var > 0, (obs - exp1) / var, np.nan)
    return {"statistic": stat, "p_value": chi2_1_sf(stat), "observed": obs,
            "expected": exp1, "variance": var, "log_hr": log_hr}


def logrank_tables(n: np.ndarray, n1: np.ndarray, d: np.ndarray, d1: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Two-group log-rank test of each row of (R, J) risk-set tables."""
    exp1, var = logrank_terms(n, n1, d)
    return logrank_result(d1.sum(axis=1), exp1.sum(axis=1), var.sum(axis=1))


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
    Ties are handled as in :func:`ctcbook.stats.survival.logrank` (hypergeometric
    variance). Cost O(R n): the rows are processed in chunks that bound memory.

    References
    ----------
    .. [1] Mantel N. Evaluation of survival data and two new rank order statistics
       arising in its consideration. Cancer Chemother Rep 1966;50:163-170.
    """
    return in_chunks(lambda t, e, g, w: logrank_tables(*tables(t, e, g, w)[1:]),
                     np.asarray(time, dtype=float).ravel(), event, group, weights)


def efron_entries(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One entry per Efron term: for each (row, time) with d > 0, l = 0..ceil(d) - 1.

    Returns the flat (row * J + time) index of each entry, its row, and ``l / d``.
    """
    flat_d = d.ravel()
    count = np.where(flat_d > 0, np.ceil(flat_d), 0).astype(np.int64)
    flat = np.repeat(np.arange(flat_d.size), count)
    first = np.repeat(np.cumsum(count) - count, count)
    ell = np.arange(flat.size) - first
    return flat, flat // max(d.shape[1], 1), ell / flat_d[flat]


def efron_at_risk(n: np.ndarray, n1: np.ndarray, d: np.ndarray, d1: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Efron's risk-set weights of group 1 (``a0``, times exp(beta)) and group 0 (``b0``).

    One entry per Efron term (:func:`efron_entries`); returns (flat index, row, a0, b0).
    """
    flat, row, f = efron_entries(d)
    n1f, d1f = n1.ravel()[flat], d1.ravel()[flat]
    return flat, row, n1f - f * d1f, (n.ravel()[flat] - n1f) - f * (d.ravel()[flat] - d1f)


def cox_binary_tables(n: np.ndarray, n1: np.ndarray, d: np.ndarray, d1: np.ndarray,
                      max_iter: int = 100) -> np.ndarray:
    """Efron Cox log hazard ratio of group 1 per row of (R, J) risk-set tables.

    ``+inf``/``-inf`` when the likelihood is monotone, NaN when a group is empty or there
    are no events. The score is decreasing in beta, so the root is found by Newton steps
    kept inside a shrinking bracket (bisection when a step leaves it). Efron (1977): see
    :func:`cox_binary_rows`.
    """
    rows = n.shape[0]
    has_both = (n1[:, 0] > 0) & (n1[:, 0] < n[:, 0])
    has_events = d.sum(axis=1) > 0
    _, row, a0, b0 = efron_at_risk(n, n1, d, d1)
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
            newton_step = beta + u / i
        # inclusive: a score of exactly 0 is the root (the step is 0), not a reason to bisect
        inside = np.isfinite(newton_step) & (newton_step >= lo) & (newton_step <= hi)
        new = np.where(inside, newton_step, 0.5 * (lo + hi))
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
        monotone (no events in group 0 / 1 while group 1 / 0 is at risk: the estimate
        diverges), NaN when a group is empty or there are no events.

    Notes
    -----
    Agrees with lifelines' ``CoxPHFitter`` (tightened) and
    :func:`ctcbook.stats.survival.cox` to about 1e-9 on the log scale
    (``tests/test_engine.py``). Each Newton step costs one pass over the Efron terms
    (one per death, counting replicated deaths), so a row costs O(n) per step.

    References
    ----------
    .. [1] Efron B. The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 1977;72:557-565.
    """
    return in_chunks(lambda t, e, g, w: cox_binary_tables(*tables(t, e, g, w)[1:], max_iter),
                     np.asarray(time, dtype=float).ravel(), event, group, weights)


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
        The median by R ``survfit``'s rule (:func:`km_quantile`); ``inf`` if never
        reached; NaN for a row with no subjects.
    """
    def one(t: np.ndarray, e: Any, w: Any) -> np.ndarray:
        times, n, _, d, _ = tables(t, e, np.zeros(t.size), w)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n > 0, 1.0 - d / n, 1.0)
        surv = np.cumprod(factor, axis=1)
        # a row's curve ends at its last time with positive weight
        present = n > np.concatenate((n[:, 1:], np.zeros((n.shape[0], 1))), axis=1)
        last = times[n.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)]
        med = km_quantile(np.concatenate(([0.0], times)),
                          np.concatenate((np.ones((surv.shape[0], 1)), surv), axis=1), 0.5,
                          last_time=last)
        return np.where(n[:, 0] > 0, med, np.nan)

    return in_chunks(one, np.asarray(time, dtype=float).ravel(), event, weights)


# ------------------------------------------------------------- bootstrap case weights


def multinomial_weights(rng: np.random.Generator, mask: np.ndarray, n_boot: int) -> np.ndarray:
    """(n_boot, n) bootstrap case counts: resamples of the patients in ``mask``."""
    k = int(mask.sum())
    w = np.zeros((n_boot, mask.size))
    w[:, mask] = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)
    return w


def weight_chunks(seed: int, masks: list[np.ndarray], n_boot: int, step: int):
    """Bootstrap case counts in chunks of ``step`` resamples, the same numbers as
    ``sum(multinomial_weights(rng, m, n_boot) for m in masks)`` with one generator
    (``masks``: the strata, e.g. the two groups of a stratified bootstrap).

    One generator draws every resample of the first mask, then every resample of the
    next: to hand out chunks of all masks together, each mask gets its own generator
    advanced to where that mask's draws begin (the skipped draws are redrawn, not
    stored, so memory stays at one chunk).
    """
    if n_boot <= step:
        rng = np.random.default_rng(seed)
        yield 0, sum(multinomial_weights(rng, m, n_boot) for m in masks)
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
        yield lo, sum(multinomial_weights(gen, m, b) for gen, m in zip(gens, masks, strict=True))
