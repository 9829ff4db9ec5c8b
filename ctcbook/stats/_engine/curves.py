"""The engine's curves and single-data-set tests: Kaplan-Meier, its quantiles, the k-group
log-rank test, the cutpoint sweep and the simulation studies' score test."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

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
    """Kaplan-Meier curve at each distinct time: counts, S(t), Greenwood SE, log-log CI
    (the conventions of :func:`ctcbook.stats.survival.kaplan_meier`)."""
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


def logrank_terms(n: Any, n1: Any, d: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per time: expected deaths of group 1 and the hypergeometric variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(n > 0, n1 / n, 0.0)
        return frac * d, np.where(n > 1, d * (n - d) / (n - 1) * frac * (1 - frac), 0.0)


def logrank_groups(t: np.ndarray, e: np.ndarray, gi: np.ndarray, k: int
                   ) -> tuple[float, np.ndarray, np.ndarray]:
    """k-group log-rank chi-square with observed and expected events per group code 0..k-1
    (the statistic of :func:`ctcbook.stats.survival.logrank`)."""
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

    Returns (k,) arrays ``o_minus_e``, ``variance``, ``n_high``, ``events_high``; the
    method is described in :func:`ctcbook.stats.cutpoints.logrank_sweep`.
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
