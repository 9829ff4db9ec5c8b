"""The engine's one-patient variations: every patient left out, every outcome changed.

Leaving patient i out lowers the numbers at risk by one up to i's time; changing i's
outcome changes the deaths at i's time only. So a sum over distinct times of a per-time
term (log-rank expected deaths and variance, Efron score and information) is known for
all 2n variations from prefix and suffix sums in O(n log n) (the closed-form jackknife);
:func:`variation_cox` refits or takes one Halley-corrected Newton step per variation.

References
----------
.. [1] Cain KC, Lange NT. Approximate case influence for the proportional hazards
   regression model with censored data. Biometrics 1984;40:493-499. doi:10.2307/2531402
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ctcbook.stats._engine.rows import (
    chunk_rows,
    cox_binary_rows,
    cox_binary_tables,
    efron_at_risk,
    logrank_terms,
    tables,
)


def base_tables(t: np.ndarray, e: np.ndarray, g: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unweighted (J,) tables, and each patient's distinct-time index."""
    _, n, n1, d, d1 = tables(t, e, g, None)
    return np.unique(t, return_inverse=True)[1], n[0], n1[0], d[0], d1[0]


def variation_sums(term: Any, tables: tuple[np.ndarray, ...], k: np.ndarray, g: np.ndarray,
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


def logrank_variation_terms(n, n1, d, d1):
    """Per time: expected deaths of group 1 and the hypergeometric variance."""
    return np.stack(logrank_terms(n, n1, d))


def efron_terms(beta: float, n, n1, d, d1) -> np.ndarray:
    """Per element of the (m,) count arrays: the Efron score, information and the
    information's derivative at ``beta`` (group 1 vs 0), and the score's limits at
    beta -> +inf and -inf."""
    shape = np.shape(n)
    n, n1, d, d1 = (np.broadcast_to(np.asarray(x, float), shape).reshape(1, -1)
                    for x in (n, n1, d, d1))
    flat, _, a0, b0 = efron_at_risk(n, n1, d, d1)
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


def variation_cox(t: np.ndarray, e: np.ndarray, g: np.ndarray, inv: np.ndarray,
                   tables: tuple[np.ndarray, ...], exact: bool) -> np.ndarray:
    """log HR for the full data, each patient left out, each outcome changed (2n + 1)."""
    n_obs = t.size
    beta = float(cox_binary_rows(t, e, g)[0])
    if exact:
        n, n1, d, d1 = tables
        size = n.size
        out = np.empty(2 * n_obs)
        step = chunk_rows(size)
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
            out[r] = cox_binary_tables(n[None, :] - up_to, n1[None, :] - up_to * gg,
                                     d[None, :] + dd, d1[None, :] + dd * gg)
        return np.concatenate(([beta], out))
    # one step from the full-data estimate: the exact score U, information I and its
    # derivative I' of every variation at beta (prefix sums), then the root of the
    # second-order Taylor expansion U - I x - I' x^2 / 2 (a Newton step corrected once,
    # Halley's method); monotone likelihoods are detected exactly from the score's limits
    sums = variation_sums(lambda *c: efron_terms(beta, *c), tables, inv,
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
        # as cox_binary_tables: -inf wins when both limits say monotone (a flat likelihood)
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
