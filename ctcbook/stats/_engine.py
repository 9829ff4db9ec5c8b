"""The one private vectorised engine: risk sets, log-rank, Cox, Kaplan-Meier quantiles.

Every hand-written survival computation of the package is here, and only here; the public
functions (:mod:`ctcbook.stats.survival`, :mod:`~ctcbook.stats.cutpoints`,
:mod:`~ctcbook.stats.resampling`, the simulation studies, the explorers) validate their
inputs and call it. It exists where speed is measured to matter (``benchmarks/``): a
slider move of an explorer, thousands of bootstrap resamples, permutations, cutpoints and
simulated studies evaluated at once. ``tests/test_engine.py`` checks every analysis the
book shows against lifelines.

The building blocks are numpy arrays in, arrays out:

* :func:`km_curve` and :func:`km_quantile` (R ``survfit``'s quantile rule);
* :func:`logrank_groups` (k groups) and, for many versions of one data set at once,
  :func:`tables` (weighted risk-set counts per row), :func:`logrank_tables`,
  :func:`cox_binary_tables` (Efron, binary covariate) and :func:`km_median_rows`;
* :func:`sweep` (the two-group log-rank at every cutpoint of a marker) and
  :func:`logrank_scores`;
* :func:`score_test_batch` (Cox score test of a covariate that may switch on, for many
  simulated studies);
* :class:`CoxData` and :func:`newton` (Cox regression with Efron or Breslow ties and
  counting-process data).

References
----------
.. [1] Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model.
   Springer 2000, chapter 3 and appendix E.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

#: Matrix cells per chunk (bounds memory at ~32 MB of float64 per array): functions that
#: take many versions of a data set process them in chunks of ``CELLS // n`` rows.
CELLS = 4_000_000
#: 97.5% quantile of the standard normal distribution.
Z975 = float(stats.norm.ppf(0.975))
#: R's ``quantile.survfit`` tolerance, ``sqrt(.Machine$double.eps)``.
QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def time_event(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``time`` and ``event`` to float and bool arrays."""
    t = np.asarray(time, dtype=float).ravel()
    e_raw = np.asarray(event).ravel()
    if t.shape != e_raw.shape:
        raise ValueError(f"time and event have different lengths ({t.size} and {e_raw.size})")
    if t.size == 0:
        raise ValueError("no observations")
    if np.isnan(t).any():
        raise ValueError(f"{int(np.isnan(t).sum())} missing value(s) in time")
    if not np.isfinite(t).all():
        raise ValueError("time must be finite")
    try:
        e_num = e_raw.astype(float)
    except (TypeError, ValueError) as err:
        raise ValueError("event must be 0/1 or boolean") from err
    if np.isnan(e_num).any():
        raise ValueError(f"{int(np.isnan(e_num).sum())} missing value(s) in event")
    if not ((e_num == 0.0) | (e_num == 1.0)).all():
        raise ValueError("event must be 0/1 or boolean")
    return t, e_num.astype(bool)


# ------------------------------------------------------------------------ Kaplan-Meier


def km_curve(t: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    """Kaplan-Meier curve at each distinct time: counts, S(t), Greenwood SE, log-log CI.

    Greenwood terms that are infinite (everyone at risk has the event) are dropped, as
    lifelines does; the interval is ``exp(-exp(log(-log S) -/+ z se / log S))`` and (1, 1)
    where S = 1 (see :func:`ctcbook.stats.survival.kaplan_meier`).
    """
    times, inverse, removed = np.unique(t, return_inverse=True, return_counts=True)
    d = np.bincount(inverse, weights=e, minlength=times.size)
    n = (t.size - np.concatenate(([0], np.cumsum(removed)[:-1]))).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        term = d / (n * (n - d))
    term[~np.isfinite(term)] = 0.0
    cum_sq = np.cumsum(term)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(surv)
        half = Z975 * np.sqrt(cum_sq) / v
        lower = np.exp(-np.exp(np.log(-v) - half))
        upper = np.exp(-np.exp(np.log(-v) + half))
    return {"time": times, "at_risk": n, "events": d, "censored": removed - d, "survival": surv,
            "std_err": surv * np.sqrt(cum_sq), "ci_lower": np.where(np.isnan(lower), 1.0, lower),
            "ci_upper": np.where(np.isnan(upper), 1.0, upper)}


def km_quantile(times: Any, curve: Any, q: float = 0.5, last_time: Any = None,
                tol: float = QUANTILE_TOLERANCE) -> np.ndarray:
    """Time at which a step survival curve crosses ``q``, by R ``survfit``'s rule.

    Parameters
    ----------
    times : array-like (m,)
        Increasing times of the steps, starting with the origin (0), where the curve is 1.
    curve : array-like (m,) or (R, m)
        Non-increasing curve values (right-continuous) at ``times``; one curve per row.
        A survival curve or one of its confidence curves.
    q : float
        The level (0.5 for the median).
    last_time : float or array-like (R,), optional
        The last observed time of each curve (default ``times[-1]``); used when the
        curve ends exactly at ``q``.
    tol : float
        Tolerance of the comparisons with ``q``.

    Returns
    -------
    numpy.ndarray
        One time per curve (a 0-d array for a single curve): the first time with
        ``curve <= q + tol``; where the curve sits at ``q`` (within ``tol``) over an
        interval, the midpoint of that interval, that is of the first time at ``q`` and
        the first time below ``q - tol`` (or ``last_time`` if the curve ends at ``q``).
        ``inf`` if the curve never reaches ``q``.

    Notes
    -----
    This is R's ``quantile.survfit`` (survival package, also used by ``print.survfit``
    for the median and its confidence limits): ``findq`` with
    ``tolerance = sqrt(.Machine$double.eps)``. The tolerance matters because a
    Kaplan-Meier product computed in floating point can land at ``0.5000000000000001``
    where the exact curve is 1/2: a plain ``S(t) <= 0.5`` then jumps to the next event.
    lifelines' ``median_survival_time_`` uses that plain rule (no tolerance, no
    midpoint): with event times 1, 2, 3, 4 it reports 2, R (and this function) 2.5.

    References
    ----------
    .. [1] Therneau TM. A Package for Survival Analysis in R, ``quantile.survfit``
       (survival package, R/quantile.survfit.R).
    .. [2] Miller RG. Survival Analysis. Wiley 1981, p. 71 (the median from the curve).
    """
    x = np.asarray(times, dtype=float).ravel()
    y = np.asarray(curve, dtype=float)
    single = y.ndim == 1
    y = np.atleast_2d(y)
    if y.shape[1] != x.size:
        raise ValueError(f"curve has {y.shape[1]} values per row, times has {x.size}")
    last = np.broadcast_to(np.asarray(x[-1] if last_time is None else last_time, dtype=float),
                           (y.shape[0],))
    with np.errstate(invalid="ignore"):
        at = y <= q + tol
        below = y <= q - tol
    reached = at.any(axis=1)
    i1 = np.argmax(at, axis=1)
    i2 = np.argmax(below, axis=1)
    # the curve's last (finite) value: a flat at q to the end takes the midpoint with last_time
    end = y[np.arange(y.shape[0]), y.shape[1] - 1 - np.argmax(np.isfinite(y[:, ::-1]), axis=1)]
    ends_at_q = np.abs(end - q) < tol
    upper = np.where(below.any(axis=1) & ~ends_at_q, x[i2], last)
    out = np.where(reached, 0.5 * (x[i1] + upper), np.inf)
    return out[0] if single else out


# ---------------------------------------------------------------- log-rank, k groups


def logrank_groups(t: np.ndarray, e: np.ndarray, gi: np.ndarray, k: int
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """k-group log-rank chi-square with observed and expected events per group code 0..k-1.

    ``(O - E)' V^- (O - E)`` over the first k - 1 groups, V the hypergeometric covariance
    (R ``survdiff``, lifelines ``multivariate_logrank_test``); a pseudo-inverse guards
    against a group with nobody at risk at any event time.
    """
    times, ti = np.unique(t, return_inverse=True)
    nt = times.size
    removed = np.bincount(ti * k + gi, minlength=nt * k).reshape(nt, k).astype(float)
    deaths = np.bincount(ti[e] * k + gi[e], minlength=nt * k).reshape(nt, k).astype(float)
    at_risk = np.cumsum(removed[::-1], axis=0)[::-1]  # n_gj: follow-up >= t_j
    keep = deaths.sum(axis=1) > 0
    n_gj, d_gj = at_risk[keep], deaths[keep]
    n_j, d_j = n_gj.sum(axis=1), d_gj.sum(axis=1)
    frac = n_gj / n_j[:, None]
    observed = d_gj.sum(axis=0)
    expected = (frac * d_j[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_j > 1, d_j * (n_j - d_j) / (n_j - 1), 0.0)
    cov = np.diag((w[:, None] * frac).sum(axis=0)) - (w[:, None, None] * frac[:, :, None] * frac[:, None, :]).sum(axis=0)
    diff = (observed - expected)[:-1]
    return float(diff @ np.linalg.pinv(cov[:-1, :-1]) @ diff), observed, expected


# ------------------------------------------------- many versions of one data set: rows


def chunk_rows(n: int) -> int:
    """Rows of an (rows, n) matrix per chunk."""
    return max(1, CELLS // max(n, 1))


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


def logrank_terms(n: Any, n1: Any, d: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per time: expected deaths of group 1 and the hypergeometric variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n > 0, n1 / n, 0.0)
        return frac * d, np.where(n > 1, d * (n - d) / (n - 1) * frac * (1 - frac), 0.0)


def logrank_result(obs: Any, exp1: Any, var: Any) -> dict[str, np.ndarray]:
    """Two-group log-rank statistic, p-value and Peto's one-step log hazard ratio (O - E) / V."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(var > 0, (obs - exp1) ** 2 / var, np.nan)
        log_hr = np.where(var > 0, (obs - exp1) / var, np.nan)
    return {"statistic": stat, "p_value": stats.chi2.sf(stat, 1), "observed": obs,
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
    kept inside a shrinking bracket (bisection when a step leaves it).

    References
    ----------
    .. [1] Efron B. The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 1977;72:557-565.
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


# ------------------------------------------------------------- cutpoints of a marker


def logrank_scores(t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Log-rank scores of R ``maxstat`` (``exactRankTests::cscores.Surv``), see
    :func:`ctcbook.stats.cutpoints.logrank_scores`."""
    n = t.size
    ot = np.argsort(t, kind="stable")
    rt = np.searchsorted(np.sort(t), t, side="right")  # ties.method = "max"
    fact = e / (n - rt + 1.0)
    return e - np.cumsum(fact[ot])[rt - 1]


def sweep(t: np.ndarray, e: np.ndarray, m: np.ndarray, cuts: np.ndarray) -> dict[str, np.ndarray]:
    """Two-group log-rank test of ``m >= c`` vs ``m < c`` for every cutpoint ``c`` at once.

    Returns (k,) arrays ``o_minus_e``, ``variance``, ``n_high``, ``events_high`` (see
    :func:`ctcbook.stats.cutpoints.logrank_sweep`). One sort by time; ``O - E`` of the
    high group is a suffix sum of log-rank scores over marker buckets, and its numbers at
    risk at every event time a 2-D suffix sum of an (event time x bucket) count table,
    in chunks of cutpoints that bound the table to ``CELLS`` cells.
    """
    order = np.argsort(t, kind="stable")
    t, e, m = t[order], e[order], m[order]
    n = t.size
    ev_times, d = np.unique(t[e], return_counts=True)
    first = np.searchsorted(t, ev_times, side="left")
    n_risk = (n - first).astype(float)
    cumhaz = np.cumsum(d / n_risk)
    idx = np.searchsorted(ev_times, t, side="right") - 1
    score = e - np.where(idx >= 0, cumhaz[np.maximum(idx, 0)], 0.0)
    ef = e.astype(float)
    k = cuts.size
    last_ev = np.searchsorted(ev_times, t, side="right")  # at risk at event times 0..J_i
    n_ev = ev_times.size
    sort_c = np.argsort(cuts, kind="stable")
    sorted_cuts = cuts[sort_c]
    out = {key: np.empty(k) for key in ("o_minus_e", "variance", "n_high", "events_high")}
    step = max(1, CELLS // max(n_ev + 1, 1) - 1)
    for lo in range(0, k, step):
        c = sorted_cuts[lo : lo + step]
        kc = c.size
        b = np.searchsorted(c, m, side="right")  # high group for the chunk's cutpoints 0..b-1

        def suffix(v: np.ndarray, kc: int = kc, b: np.ndarray = b) -> np.ndarray:
            per_bucket = np.bincount(b, weights=v, minlength=kc + 1)
            return np.cumsum(per_bucket[::-1])[::-1][1:]

        sel = sort_c[lo : lo + step]
        out["o_minus_e"][sel] = suffix(score)
        out["n_high"][sel] = suffix(np.ones(n))
        out["events_high"][sel] = suffix(ef)
        counts = np.bincount(last_ev * (kc + 1) + b, minlength=(n_ev + 1) * (kc + 1))
        counts = counts.reshape(n_ev + 1, kc + 1)[::-1, ::-1]
        tail = np.cumsum(np.cumsum(counts, axis=0), axis=1)[::-1, ::-1]
        # tail[r, q] = #(last_ev >= r, b >= q); at risk at event time j: last_ev >= j + 1
        _, var = logrank_terms(n_risk[:, None], tail[1:, 1:].astype(float), d[:, None])
        out["variance"][sel] = var.sum(axis=0)
    return out


def chi2_1_sf(stat: Any) -> np.ndarray:
    """Chi-square (1 df) survival function."""
    return special.chdtrc(1, stat)


# ------------------------------------------------------- simulated studies: score test


def score_test_batch(
    time: np.ndarray,
    event: np.ndarray,
    switch: np.ndarray,
    entry: np.ndarray | None = None,
    include: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cox score (log-rank) test for a 0/1 covariate that may switch on, many data sets at once.

    Row r of each (R, n) array is one data set. Subject i of row r is at risk on
    ``(entry, time]`` and its covariate is 1 at times ``t > switch`` (0 before): use
    ``switch = -inf`` for a fixed "positive" and ``+inf`` for a fixed "negative".

    Parameters
    ----------
    time : ndarray (R, n)
        Follow-up end (event or censoring). Times are assumed distinct within a row
        (continuous simulated times); with ties the statistic is Breslow's.
    event : ndarray (R, n) of bool
    switch : ndarray (R, n)
        Time after which the covariate is 1.
    entry : ndarray (R, n), optional
        Start of the at-risk period (late entry, e.g. a landmark); default 0.
    include : ndarray (R, n) of bool, optional
        Subjects in the analysis; default all.

    Returns
    -------
    dict of ndarray (R,)
        ``score`` U (observed minus expected events of covariate = 1), ``information``
        I (the log-rank variance), ``z = U / sqrt(I)``, ``p_value`` (two-sided normal),
        ``log_hr`` (the one-step estimate U / I, Peto's O-E over V), ``n`` (subjects)
        and ``events``. NaN where I = 0.

    Notes
    -----
    At each event time t_j with n_j subjects at risk, of whom n1_j have covariate 1,
    ``U = sum_j (z_j - n1_j / n_j)`` and ``I = sum_j n1_j / n_j (1 - n1_j / n_j)``: the
    score and information of Cox's partial likelihood at beta = 0 (for a fixed
    covariate, the log-rank test; for a time-varying one, the score test of
    ``coxph(Surv(start, stop, event) ~ z)``). The risk-set counts come from sorted
    cumulative counts: all rows are offset and flattened, so one ``searchsorted`` does
    every row at once (O(R n log(R n))).

    References
    ----------
    .. [1] Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    .. [2] Andersen PK, Gill RD. Cox's regression model for counting processes: a large
       sample study. Ann Stat 1982;10:1100-1120.
    """
    t = np.atleast_2d(np.asarray(time, dtype=float))
    ev = np.atleast_2d(np.asarray(event, dtype=bool))
    sw = np.broadcast_to(np.asarray(switch, dtype=float), t.shape)
    en = np.zeros_like(t) if entry is None else np.broadcast_to(np.asarray(entry, dtype=float), t.shape)
    inc = np.ones(t.shape, bool) if include is None else np.broadcast_to(np.asarray(include, bool), t.shape)
    inc = inc & (t > en)
    r, n = t.shape
    span = float(np.nanmax(np.where(inc, t, 0.0))) + 1.0
    off = (np.arange(r, dtype=float) * 4.0 * span)[:, None]
    away = 3.0 * span  # excluded subjects sit beyond every real time of their row
    pos_start = np.maximum(en, sw)
    has_pos = inc & (pos_start < t)
    t_in = np.where(inc, t, away) + off
    en_in = np.where(inc, en, away) + off
    ps_in = np.where(has_pos, pos_start, away) + off
    tp_in = np.where(has_pos, t, away) + off
    s_t, s_en, s_ps, s_tp = (np.sort(a.ravel()) for a in (t_in, en_in, ps_in, tp_in))
    is_ev = (ev & inc).ravel()
    q = t_in.ravel()[is_ev]
    # at risk at q: entry < q <= time; offsets make rows disjoint, and the counts of
    # earlier rows cancel between the two searchsorted terms
    n_j = np.searchsorted(s_en, q, "left") - np.searchsorted(s_t, q, "left")
    n1_j = np.searchsorted(s_ps, q, "left") - np.searchsorted(s_tp, q, "left")
    z_j = has_pos.ravel()[is_ev].astype(float)
    frac = n1_j / n_j
    row = np.repeat(np.arange(r), n)[is_ev]
    score = np.bincount(row, weights=z_j - frac, minlength=r)
    info = np.bincount(row, weights=frac * (1 - frac), minlength=r)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(info > 0, score / np.sqrt(info), np.nan)
        log_hr = np.where(info > 0, score / info, np.nan)
    return {"score": score, "information": info, "z": z, "p_value": 2.0 * stats.norm.sf(np.abs(z)),
            "log_hr": log_hr, "n": inc.sum(axis=1), "events": np.bincount(row, minlength=r)}


# ------------------------------------------------------------------ Cox regression


class CoxData:
    """Sorted arrays and risk-set bookkeeping for one Cox model (no beta yet).

    ``x`` (n, p) covariates, ``stop`` and ``event`` (n,), optional ``start`` for
    counting-process (start, stop] rows; ``ties`` "efron" or "breslow". Covariates are
    centred (same coefficients, better conditioning).
    """

    def __init__(self, x: np.ndarray, stop: np.ndarray, event: np.ndarray,
                 start: np.ndarray | None, ties: str) -> None:
        self.x = x - x.mean(axis=0)
        self.p = x.shape[1]
        order = np.argsort(stop, kind="stable")
        self.order_stop = order
        self.dtimes, self.d_j = np.unique(stop[event], return_counts=True)
        # rows with stop >= t_j are order_stop[first_stop[j]:]
        self.first_stop = np.searchsorted(stop[order], self.dtimes, side="left")
        self.order_start = None
        if start is not None:
            self.order_start = np.argsort(start, kind="stable")
            # rows with start >= t_j are not at risk at t_j (interval is (start, stop])
            self.first_start = np.searchsorted(start[self.order_start], self.dtimes, side="left")
        # events grouped by time: j index and Efron fraction l / d_j for each death
        ev_idx = np.flatnonzero(event)
        self.ev_idx = ev_idx[np.argsort(stop[ev_idx], kind="stable")]
        self.ev_j = np.repeat(np.arange(self.dtimes.size), self.d_j)
        if ties == "efron":
            within = np.arange(self.ev_idx.size) - np.repeat(np.cumsum(self.d_j) - self.d_j, self.d_j)
            self.frac = within / np.repeat(self.d_j, self.d_j)
        else:
            self.frac = np.zeros(self.ev_idx.size)
        self.x_ev_sum = self.x[self.ev_idx].sum(axis=0)

    def _tail_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (rows = observations) over each event time's risk set."""
        def tails(order: np.ndarray, first: np.ndarray) -> np.ndarray:
            cs = np.cumsum(values[order][::-1], axis=0)[::-1]
            return np.concatenate([cs, np.zeros((1,) + cs.shape[1:])], axis=0)[first]

        out = tails(self.order_stop, self.first_stop)
        if self.order_start is not None:
            out = out - tails(self.order_start, self.first_start)
        return out

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, score vector and information matrix at ``beta``."""
        eta = self.x @ beta
        shift = eta.max()
        r = np.exp(eta - shift)
        xr = self.x * r[:, None]
        xxr = self.x[:, :, None] * xr[:, None, :]
        blocks = np.concatenate([r[:, None], xr, xxr.reshape(len(r), -1)], axis=1)
        risk = self._tail_sums(blocks)  # (n_times, 1 + p + p*p)
        width = blocks.shape[1]
        # per event time, the sum of its deaths' blocks (np.add.at's order, much faster)
        keys = (self.ev_j[:, None] * width + np.arange(width)).ravel()
        tied = np.bincount(keys, weights=blocks[self.ev_idx].ravel(),
                           minlength=self.dtimes.size * width).reshape(-1, width)
        per_death = risk[self.ev_j] - self.frac[:, None] * tied[self.ev_j]
        s0 = per_death[:, 0]
        if np.any(s0 <= 0):
            raise FloatingPointError("empty risk set")
        s1 = per_death[:, 1 : 1 + self.p] / s0[:, None]
        s2 = per_death[:, 1 + self.p :].reshape(-1, self.p, self.p) / s0[:, None, None]
        loglik = float(eta[self.ev_idx].sum() - (np.log(s0) + shift).sum())
        return loglik, self.x_ev_sum - s1.sum(axis=0), s2.sum(axis=0) - s1.T @ s1


def newton(cd: CoxData, max_iter: int = 60, tol: float = 1e-10
           ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, bool, int]:
    """Newton-Raphson from beta = 0 with step-halving whenever the log partial likelihood
    would decrease; stops when the largest step is below ``tol`` and takes one polishing
    step. Returns beta, loglik, score, information, converged, iterations."""
    beta = np.zeros(cd.p)
    loglik, score, info = cd.evaluate(beta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        halvings = 0
        while True:
            cand = beta + step
            try:
                new = cd.evaluate(cand)
            except FloatingPointError:
                new = None
            if new is not None and np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * max(1.0, abs(loglik)):
                break
            step = step / 2.0
            halvings += 1
            if halvings > 30:
                return beta, loglik, score, info, False, it
        delta_ll = new[0] - loglik
        beta = cand
        loglik, score, info = new
        if np.max(np.abs(step)) < tol or (abs(delta_ll) < 1e-13 * max(1.0, abs(loglik))
                                          and np.max(np.abs(step)) < 1e-6):
            converged = True
            # one more exact Newton step polishes the last digits at no risk
            try:
                cand = beta + np.linalg.solve(info, score)
                new = cd.evaluate(cand)
                if new[0] >= loglik - 1e-12 * max(1.0, abs(loglik)):
                    beta = cand
                    loglik, score, info = new
            except (np.linalg.LinAlgError, FloatingPointError):
                pass
            break
    return beta, loglik, score, info, converged, it
