"""Firth-penalised Cox regression and profile-likelihood intervals.

With a handful of patients in one group, a Cox model can meet *monotone likelihood*:
if nobody (or everybody at each event time) in the small group has the event, the partial
likelihood keeps rising as the coefficient runs off to infinity, and the Wald interval
(estimate +/- 1.96 standard errors) is meaningless long before that. Two standard answers:

* the **profile-likelihood interval**: all coefficients whose likelihood-ratio statistic
  against the maximum is below the chi-square quantile (it follows the likelihood's
  asymmetry instead of forcing a symmetric interval on the log scale; one end can be
  infinite, which is the honest answer under monotone likelihood);
* **Firth's penalised likelihood** (Heinze & Schemper 2001, R package ``coxphf``):
  maximise ``l(beta) + 1/2 log det I(beta)``, which removes the first-order bias of the
  estimate and always gives a finite one, with a profile *penalised* likelihood interval.

Pure numpy; ties by Breslow's method, as ``coxphf``. Small models only (a few covariates):
every profile point is a full fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ctcbook.stats._engine.rows import multinomial_weights
from ctcbook.stats.survival import ModelError, _time_event

__all__ = ["FirthCoxResult", "HazardRatioIntervals", "cox_firth", "round_hr",
           "hazard_ratio_intervals", "penalised_loglik"]


def _prepare(time: Any, event: Any, x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e = _time_event(time, event)
    xm = np.asarray(x, dtype=float)
    xm = xm.reshape(-1, 1) if xm.ndim <= 1 else xm
    if xm.shape[0] != t.size:
        raise ValueError(f"x has {xm.shape[0]} rows, time has {t.size}")
    if not np.isfinite(xm).all():
        raise ValueError("x has missing or infinite values")
    if not e.any():
        raise ModelError("no events: a Cox model cannot be fitted")
    order = np.argsort(-t, kind="stable")  # decreasing time: risk sets are prefixes
    return t[order], e[order], xm[order] - xm.mean(axis=0)


def _terms(beta: np.ndarray, t: np.ndarray, e: np.ndarray, x: np.ndarray, third: bool
           ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray | None]:
    """Breslow log partial likelihood, score, information and (optionally) dI/dbeta."""
    eta = x @ beta
    w = np.exp(eta - eta.max())
    s0 = np.cumsum(w)
    s1 = np.cumsum(w[:, None] * x, axis=0)
    s2 = np.cumsum(w[:, None, None] * x[:, :, None] * x[:, None, :], axis=0)
    # the risk set of time t_i: everyone with time >= t_i, i.e. up to the last index of
    # that time in the decreasing order
    last = np.searchsorted(-t, -t, side="right") - 1
    ev = np.flatnonzero(e)
    k = last[ev]
    m = s1[k] / s0[k, None]
    loglik = float(np.sum(eta[ev] - eta.max() - np.log(s0[k])))
    score = np.sum(x[ev] - m, axis=0)
    v = s2[k] / s0[k, None, None] - m[:, :, None] * m[:, None, :]
    info = v.sum(axis=0)
    dinfo = None
    if third:
        s3 = np.cumsum(w[:, None, None, None] * x[:, :, None, None] * x[:, None, :, None]
                       * x[:, None, None, :], axis=0)
        a = s3[k] / s0[k, None, None, None]
        b = (s2[k] / s0[k, None, None])[:, :, :, None] * m[:, None, None, :]
        c = v[:, :, None, :] * m[:, None, :, None]  # d m_a / d beta_r * m_b
        dinfo = (a - b - c - np.swapaxes(c, 1, 2)).sum(axis=0)  # [a, b, r]
    return loglik, score, info, dinfo


def penalised_loglik(beta: Any, time: Any, event: Any, x: Any, firth: bool = True) -> float:
    """Log partial likelihood (Breslow ties), plus Firth's ``1/2 log det I`` if ``firth``.

    Parameters
    ----------
    beta : array-like (p,)
    time, event : array-like (n,)
    x : array-like (n,) or (n, p)
    firth : bool

    Returns
    -------
    float
    """
    t, e, xm = _prepare(time, event, x)
    return _objective(np.atleast_1d(np.asarray(beta, float)), t, e, xm, firth)


def _objective(beta: np.ndarray, t: np.ndarray, e: np.ndarray, x: np.ndarray, firth: bool
               ) -> float:
    ll, _, info, _ = _terms(beta, t, e, x, third=False)
    if firth:
        sign, logdet = np.linalg.slogdet(info)
        ll += 0.5 * logdet if sign > 0 else -np.inf
    return ll


def _fit(t: np.ndarray, e: np.ndarray, x: np.ndarray, firth: bool, fixed: dict[int, float],
         start: np.ndarray | None = None, max_iter: int = 100, tol: float = 1e-10
         ) -> tuple[np.ndarray, float, bool]:
    """Newton-Raphson with step halving on the (penalised) log-likelihood.

    ``fixed`` holds coefficients kept at given values (for profiles). Returns the
    estimate, the maximised objective and whether it converged.
    """
    p = x.shape[1]
    beta = np.zeros(p) if start is None else start.astype(float).copy()
    for j, val in fixed.items():
        beta[j] = val
    free = np.array([j for j in range(p) if j not in fixed], dtype=int)
    obj = _objective(beta, t, e, x, firth)
    if free.size == 0:
        return beta, obj, True
    for _ in range(max_iter):
        _, score, info, dinfo = _terms(beta, t, e, x, third=firth)
        if firth:
            inv = np.linalg.inv(info)
            score = score + 0.5 * np.einsum("ab,bar->r", inv, dinfo)
        u = score[free]
        h = info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(h, u)
        except np.linalg.LinAlgError:
            step = u
        step = np.clip(step, -5.0, 5.0)  # as coxphf's maxstep: no wild first steps
        for _ in range(30):
            new = beta.copy()
            new[free] += step
            new_obj = _objective(new, t, e, x, firth)
            if new_obj >= obj - 1e-12:
                break
            step = step / 2
        converged = abs(new_obj - obj) < tol and np.max(np.abs(new - beta)) < 1e-7
        beta, obj = new, new_obj
        if converged:
            return beta, obj, True
    return beta, obj, False


@dataclass(frozen=True)
class FirthCoxResult:
    """A Cox fit with profile-likelihood intervals.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per covariate: ``covariate``, ``coef``, ``se`` (from the inverse
        information at the estimate), ``hazard_ratio``, ``ci_lower`` and ``ci_upper``
        (profile, penalised if ``firth``, likelihood interval of the hazard ratio; 0 or
        ``inf`` where the profile never drops far enough), ``p_value`` (likelihood-ratio
        test of coefficient 0, penalised if ``firth``).
    loglik : float
        The maximised (penalised) log partial likelihood.
    firth : bool
    converged : bool
        False if a coefficient ran off to infinity (monotone likelihood, possible only
        without ``firth``); its ``coef`` is then +/-``inf``.
    level : float
    """

    summary: pd.DataFrame
    loglik: float
    firth: bool
    converged: bool
    level: float


_LIMIT = 20.0  # |log hazard ratio| beyond which a coefficient counts as infinite


def _profile_bound(t, e, x, firth, j, beta_hat, target, direction) -> float:
    """Where the profile (penalised) log-likelihood of coefficient j falls to ``target``."""

    def prof(b: float) -> float:
        _, obj, _ = _fit(t, e, x, firth, {j: b}, start=beta_hat)
        return obj - target

    lo, step = float(beta_hat[j]), 0.5
    hi = lo + direction * step
    while prof(hi) > 0:
        if direction * hi > _LIMIT:
            return direction * np.inf
        lo, step = hi, step * 2
        hi = hi + direction * step
    return float(optimize.brentq(prof, min(lo, hi), max(lo, hi), xtol=1e-9))


def cox_firth(time: Any, event: Any, x: Any, names: Any = None, firth: bool = True,
              level: float = 0.95) -> FirthCoxResult:
    """Cox regression, Firth-penalised or plain, with profile-likelihood intervals.

    Parameters
    ----------
    time, event : array-like (n,)
        Follow-up times and event indicators.
    x : array-like (n,) or (n, p)
        Covariates (a 0/1 group indicator for a two-group comparison).
    names : sequence of str, optional
        Covariate names (default ``x0``, ``x1``, ...).
    firth : bool
        True: maximise ``l(beta) + 1/2 log det I(beta)`` (Firth's penalty, ``coxphf``'s
        default); the interval is the profile *penalised* likelihood interval and the
        p-value the penalised likelihood-ratio test. False: plain maximum partial
        likelihood with the profile-likelihood interval (an end is infinite under
        monotone likelihood).
    level : float
        Confidence level.

    Returns
    -------
    FirthCoxResult

    Notes
    -----
    Ties are handled by Breslow's method (as ``coxphf``); covariates are centred (this
    changes no estimate). The penalised score is
    ``U_r + 1/2 trace(I^-1 dI/dbeta_r)`` (Heinze & Schemper 2001, eq. 2), maximised by
    Newton-Raphson with step halving. Profile limits solve
    ``2 (l*(beta_hat) - max_{other} l*(b_j, .)) = chi2_1(level)`` by bisection-bracketed
    root finding; a limit beyond a log hazard ratio of 20 is reported as 0 or infinite.
    Standard errors are ``sqrt(diag(I(beta_hat)^-1))``, the *unpenalised* information at
    the penalised estimate, as in ``coxphf`` and SAS PROC PHREG's FIRTH option; the
    p-value is the penalised likelihood-ratio test (``coxphf``'s ``pl = TRUE``), not a
    Wald test. The Newton steps use ``I`` rather than the Hessian of ``l*`` (as
    ``coxphf``), so convergence is linear and estimates are accurate to about 1e-8.

    Checked against printed R ``coxphf`` output (estimates, standard errors, profile
    penalised likelihood limits and penalised LR tests, with tied event times and under
    monotone likelihood) in ``tests/test_firth.py``.

    References
    ----------
    .. [1] Firth D. Bias reduction of maximum likelihood estimates. Biometrika
       1993;80:27-38.
    .. [2] Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox
       regression. Biometrics 2001;57:114-119.
    .. [3] Venzon DJ, Moolgavkar SH. A method for computing profile-likelihood-based
       confidence intervals. Appl Stat 1988;37:87-94.
    """
    t, e, xm = _prepare(time, event, x)
    p = xm.shape[1]
    labels = [f"x{j}" for j in range(p)] if names is None else [str(n) for n in names]
    if len(labels) != p:
        raise ValueError(f"{len(labels)} names for {p} covariates")
    if np.any(xm.std(axis=0) == 0):
        raise ModelError("a covariate is constant: nothing to estimate")
    beta, obj, converged = _fit(t, e, xm, firth, {})
    infinite = np.abs(beta) > _LIMIT
    if infinite.any() or not converged:
        # monotone likelihood: the supremum is approached as these coefficients run off;
        # hold them at +/- 30 (the objective is then within about exp(-30) of it)
        beta = np.where(infinite, np.sign(beta) * 30.0, beta)
        beta, obj, converged = _fit(t, e, xm, firth, {j: beta[j] for j in np.flatnonzero(infinite)},
                                    start=beta)
    _, _, info, _ = _terms(beta, t, e, xm, third=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(np.diag(np.linalg.pinv(info)))
    crit = float(stats.chi2.ppf(level, 1))
    target = obj - crit / 2
    rows = []
    for j in range(p):
        lo = _profile_bound(t, e, xm, firth, j, beta, target, -1.0)
        hi = _profile_bound(t, e, xm, firth, j, beta, target, +1.0)
        if infinite[j]:
            lo, hi = (-np.inf, hi) if beta[j] < 0 else (lo, np.inf)
        _, obj0, _ = _fit(t, e, xm, firth, {j: 0.0}, start=np.where(infinite, 0.0, beta))
        lr = max(2 * (obj - obj0), 0.0)
        coef = np.sign(beta[j]) * np.inf if infinite[j] else beta[j]
        rows.append({"covariate": labels[j], "coef": coef,
                     "se": np.inf if infinite[j] else se[j], "hazard_ratio": np.exp(coef),
                     "ci_lower": np.exp(lo), "ci_upper": np.exp(hi),
                     "p_value": float(stats.chi2.sf(lr, 1))})
    converged = not infinite.any()
    return FirthCoxResult(summary=pd.DataFrame(rows), loglik=obj, firth=firth,
                          converged=converged, level=level)


# ------------------------------------------------------------- intervals side by side


@dataclass(frozen=True)
class HazardRatioIntervals:
    """Four 95% intervals for one two-group hazard ratio, and what drives the bootstrap's.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method (``method``: ``"Wald"``, ``"Profile likelihood"``,
        ``"Firth, profile penalised likelihood"``, ``"Bootstrap percentile"``) with
        ``hazard_ratio`` (the point estimate the interval goes with), ``ci_lower``,
        ``ci_upper`` and ``ratio`` (upper / lower: the width on the ratio scale).
    tails : pandas.DataFrame
        The bootstrap resamples beyond each end of the percentile interval (``tail``:
        ``"below lower"``, ``"above upper"``): ``n_resamples``, ``median_patients``
        (distinct patients of the small group drawn), ``median_events`` (events in the
        small group, counting repeats), ``share_no_censoring`` (share in which every
        drawn patient of the small group had the event) and ``share_le1_event`` (at most
        one event in the small group); plus the same for ``"all"`` resamples.
    n_group : int
        Patients in group 1 (the small group).
    events_group : int
        Events in group 1.
    n_boot : int
    """

    table: pd.DataFrame
    tails: pd.DataFrame = field(repr=False)
    n_group: int = 0
    events_group: int = 0
    n_boot: int = 0


def hazard_ratio_intervals(time: Any, event: Any, group: Any, n_boot: int = 2000,
                           seed: int = 0, level: float = 0.95,
                           bootstrap_result: Any = None) -> HazardRatioIntervals:
    """Wald, profile-likelihood, Firth and bootstrap intervals for a two-group hazard ratio.

    Parameters
    ----------
    time, event : array-like
        Follow-up and event indicator.
    group : array-like of {0, 1}
        1 = the (small) group whose hazard ratio against 0 is estimated.
    n_boot, seed : int
        Stratified bootstrap resamples and seed, as :func:`ctcbook.stats.resampling.bootstrap`
        (the same seed gives the same resamples and the same percentile interval).
    level : float
    bootstrap_result : BootstrapResult, optional
        The result of :func:`ctcbook.stats.resampling.bootstrap` on the same data with the same
        ``n_boot`` and ``seed`` (stratified): its resampled log hazard ratios are reused
        instead of refitted (the costly part). Checked by refitting the first resamples;
        a mismatch raises ``ValueError``.

    Returns
    -------
    HazardRatioIntervals

    Notes
    -----
    The Wald and profile intervals go with the maximum partial likelihood estimate, the
    Firth interval with the penalised estimate (slightly shrunk towards 1), the bootstrap
    one with the estimate on the data. Cox fits here use Breslow's ties (``coxphf``'s
    choice), the bootstrap Efron's: with no tied event times the two are identical.

    References
    ----------
    .. [1] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993,
       chapter 13. doi:10.1201/9780429246593
    """
    from ctcbook.stats.resampling import _data, bootstrap
    from ctcbook.stats.survival import cox

    t, e, g = _data(time, event, group)
    z = float(stats.norm.ppf(0.5 + level / 2))
    plain = cox_firth(t, e, g.astype(float), names=["group"], firth=False, level=level)
    p = plain.summary.loc[0]
    if plain.converged:
        wald = (p["hazard_ratio"], np.exp(p["coef"] - z * p["se"]), np.exp(p["coef"] + z * p["se"]))
    else:  # monotone likelihood: no Wald interval exists
        wald = (p["hazard_ratio"], 0.0, np.inf)
    f = cox_firth(t, e, g.astype(float), names=["group"], firth=True, level=level).summary.loc[0]
    # the case counts of bootstrap(..., stratified=True, seed=seed): one generator, the
    # resamples of group 1, then those of group 0
    rng = np.random.default_rng(seed)
    w = sum(multinomial_weights(rng, m, n_boot) for m in (g, ~g))
    boot = bootstrap_result or bootstrap(t, e, g, n_boot=n_boot, level=level, seed=seed)
    log_hr = boot.replicates["log_hr"].to_numpy(dtype=float)
    if bootstrap_result is not None:  # refit the first resamples (cases repeated by count)
        check = []
        for row in w[:3]:
            rep = pd.DataFrame({"t": t, "e": e, "g": g}).loc[np.repeat(np.arange(t.size), row.astype(int))]
            try:
                check.append(cox(rep, "t", "e", ["g"]).params.iloc[0])
            except ModelError:  # monotone likelihood: the bootstrap has +/- inf
                check.append(np.inf)
        same = np.where(np.isfinite(log_hr[:3]), np.isclose(check, log_hr[:3], rtol=1e-6),
                        ~np.isfinite(check))
        if not bootstrap_result.stratified or log_hr.size != n_boot or not same.all():
            raise ValueError("bootstrap_result was not computed on these data with this n_boot and "
                             "seed (stratified): leave it out to resample here")
    est = float(boot.summary.set_index("quantity").loc["hazard_ratio", "estimate"])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(log_hr, [alpha, 1 - alpha], method="inverted_cdf")
    rows = [("Wald", *wald), ("Profile likelihood", p["hazard_ratio"], p["ci_lower"], p["ci_upper"]),
            ("Firth, profile penalised likelihood", f["hazard_ratio"], f["ci_lower"], f["ci_upper"]),
            ("Bootstrap percentile", est, np.exp(lo), np.exp(hi))]
    table = pd.DataFrame(rows, columns=["method", "hazard_ratio", "ci_lower", "ci_upper"])
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = table["ci_upper"] / table["ci_lower"]
    wg = w * g
    patients = (wg > 0).sum(axis=1)
    events = (wg * e).sum(axis=1)
    tails = []
    for name, sel in (("below lower", log_hr < lo), ("above upper", log_hr > hi),
                      ("all", np.ones(n_boot, bool))):
        k = int(sel.sum())
        tails.append({"tail": name, "n_resamples": k,
                      "median_patients": float(np.median(patients[sel])) if k else np.nan,
                      "median_events": float(np.median(events[sel])) if k else np.nan,
                      "share_no_censoring": float(np.mean(events[sel] == wg[sel].sum(axis=1))) if k else np.nan,
                      "share_le1_event": float(np.mean(events[sel] <= 1)) if k else np.nan})
    return HazardRatioIntervals(table, pd.DataFrame(tails), int(g.sum()), int(e[g].sum()), int(n_boot))


def round_hr(x: float) -> str:
    """A hazard ratio rounded to what its precision supports.

    Two significant digits below 10 ("0.82", "4.5"), whole numbers from 10 to 100 ("12"),
    two significant digits above ("1,500"); "0" and "∞" for the limits of monotone
    likelihood.
    """
    if not np.isfinite(x):
        return "∞"
    if x == 0:
        return "0"
    r = float(f"{float(x):.2g}")  # two significant digits
    if r >= 10:
        return f"{r:,.0f}"
    digits = 1 - int(np.floor(np.log10(r)))
    return f"{r:.{digits}f}"
