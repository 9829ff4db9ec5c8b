"""Kaplan-Meier estimates, risk tables, log-rank tests and Cox models.

Pure functions: they take arrays or DataFrames and return tidy DataFrames or small
frozen dataclasses, never figures. They check their inputs and call the package's
vectorised engine (:mod:`ctcbook.stats._engine`), not lifelines: the explorers call them
on every slider move, where lifelines' overhead per call (``benchmarks/bench_stats.py``)
would exceed the 40 ms budget; lifelines has no Breslow ties and reads the median
differently. ``tests/test_engine.py`` checks every result against lifelines.

Conventions (each function's docstring says more):

* Kaplan-Meier confidence intervals are 95% log-log ("exponential Greenwood"), as in
  lifelines and Stata; R's ``survfit`` default is the log scale.
* The median follows R's ``survfit``: the first time the curve is at or below 0.5 within
  a tolerance of ``sqrt(machine epsilon)``, and the midpoint of the interval where the
  curve sits exactly at 0.5 (see :func:`km_quantile`).
* Cox models use Efron's tie correction by default, as R's ``coxph``; Breslow's is
  available. Fits are tight (Newton-Raphson to machine precision), so coefficients agree
  with R to at least 6 significant digits.
* Anything that cannot be fitted raises :class:`ModelError` (a ``ValueError``) with a
  plain-language message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.stats import _engine
from ctcbook.stats._engine import Z975 as _Z975
from ctcbook.stats._engine import km_quantile
from ctcbook.stats._engine import time_event as _time_event

__all__ = [
    "ModelError",
    "KMMedian",
    "LogrankResult",
    "CoxResult",
    "kaplan_meier",
    "median_survival",
    "km_quantile",
    "risk_table",
    "logrank",
    "cox",
]


class ModelError(ValueError):
    """A survival model cannot be fitted to these data (the message says why)."""


# ------------------------------------------------------------------------ Kaplan-Meier


def kaplan_meier(time: Any, event: Any) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival function.

    Parameters
    ----------
    time : array-like of float
        Follow-up times (any unit), non-missing.
    event : array-like of {0, 1} or bool
        1 (True) if the event was observed at ``time``, 0 if censored.

    Returns
    -------
    pandas.DataFrame
        One row per distinct observed time (events or censorings), sorted, with columns
        ``time``, ``at_risk`` (number with follow-up >= time), ``events``, ``censored``,
        ``survival`` (S(t), right-continuous), ``std_err`` (Greenwood standard error of
        S(t)), ``ci_lower`` and ``ci_upper`` (95% pointwise log-log interval).

    Notes
    -----
    ``std_err`` is ``S(t) * sqrt(sum d / (n (n - d)))`` (Greenwood). At a time where every
    subject at risk has the event the term is infinite; like lifelines we drop it (S is 0
    there, so ``std_err`` is 0). The interval is
    ``exp(-exp(log(-log S) -/+ z sqrt(sum d/(n(n-d))) / log S))``, lifelines' and Stata's
    convention; where S = 1 it is (1, 1). R's ``survfit`` uses ``conf.type="log"`` by
    default, so its intervals differ (its estimates and standard errors do not).

    References
    ----------
    .. [1] Kaplan EL, Meier P. Nonparametric estimation from incomplete observations.
       J Am Stat Assoc 1958;53:457-481.
    .. [2] Greenwood M. The natural duration of cancer. Reports on Public Health and
       Medical Subjects 1926;33:1-26.
    .. [3] Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data,
       2nd ed. Wiley 2002, section 1.3 (log-log intervals).
    """
    t, e = _time_event(time, event)
    km = _engine.km_curve(t, e)
    counts = {c: km[c].astype(np.int64) for c in ("at_risk", "events", "censored")}
    return pd.DataFrame({**km, **counts})


@dataclass(frozen=True)
class KMMedian:
    """Median survival time with its 95% confidence interval (``inf`` = not reached)."""

    median: float
    ci_lower: float
    ci_upper: float


def median_survival(time: Any, event: Any) -> KMMedian:
    """Kaplan-Meier median survival time and its 95% confidence interval.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.

    Returns
    -------
    KMMedian
        ``median``: the first time at which S(t) <= 0.5 (the midpoint of the interval
        where S(t) is exactly 0.5, if it sits there); ``ci_lower`` and ``ci_upper``: the
        same for the lower and the upper 95% log-log confidence curves. ``inf`` when a
        curve never reaches 0.5.

    Notes
    -----
    This is R ``survfit``'s convention, the one clinical papers report, with its
    tolerance (:func:`km_quantile` says why, and where lifelines' ``median_survival_time_``
    differs). The confidence limits here are read from the log-log curves (lifelines'
    default); R's ``survfit`` default is the log scale, so its limits can differ even
    where the rule is the same.

    References
    ----------
    .. [1] Brookmeyer R, Crowley J. A confidence interval for the median survival time.
       Biometrics 1982;38:29-41.
    """
    km = kaplan_meier(time, event)
    times = np.concatenate(([0.0], km["time"].to_numpy()))

    def curve(col: str) -> float:
        return float(km_quantile(times, np.concatenate(([1.0], km[col].to_numpy())), 0.5))

    return KMMedian(median=curve("survival"), ci_lower=curve("ci_lower"),
                    ci_upper=curve("ci_upper"))


def risk_table(time: Any, event: Any, group: Any, times: Sequence[float]) -> pd.DataFrame:
    """Numbers at risk, censored and with events: the KMunicate extended risk table.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.
    group : array-like
        Group label of each subject (any sortable values); groups appear sorted.
    times : sequence of float
        Times at which to count.

    Returns
    -------
    pandas.DataFrame
        One row per group and requested time with columns ``group``, ``time``,
        ``at_risk`` (number with follow-up time >= t, still at risk at t), ``censored``
        (cumulative number censored at or before t) and ``events`` (cumulative number of
        events at or before t).

    Notes
    -----
    lifelines' ``add_at_risk_counts`` (default ``at_risk_count_from_start_of_period=False``)
    reports, as "At risk" at tick t, the number with follow-up > s where s is the last
    observed time <= t. That equals ``at_risk`` here unless t is itself an observed time,
    in which case lifelines excludes the subjects whose follow-up ends exactly at t (it
    counts "after t"); this table counts them (they are at risk at t, as in R's
    ``summary(survfit, times=)`` and the KMunicate tables). Censored and event counts are
    identical.

    References
    ----------
    .. [1] Morris TP, Jarvis CI, Cragg W, et al. Proposals on Kaplan-Meier plots in
       medical research and a survey of stakeholder views: KMunicate. BMJ Open
       2019;9:e030215.
    """
    t, e = _time_event(time, event)
    g = np.asarray(group).ravel()
    if g.shape != t.shape:
        raise ValueError("group has a different length from time")
    q = np.asarray(times, dtype=float).ravel()
    labels, gi = np.unique(g, return_inverse=True)
    rows = []
    for k, label in enumerate(labels):
        tk = np.sort(t[gi == k])
        tev = np.sort(t[(gi == k) & e])
        tcen = np.sort(t[(gi == k) & ~e])
        rows.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": q,
                    "at_risk": tk.size - np.searchsorted(tk, q, side="left"),
                    "censored": np.searchsorted(tcen, q, side="right"),
                    "events": np.searchsorted(tev, q, side="right"),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


# -------------------------------------------------------------------------- log-rank


@dataclass(frozen=True)
class LogrankResult:
    """Result of a k-group log-rank test.

    Attributes
    ----------
    statistic : float
        Chi-square statistic.
    df : int
        Degrees of freedom (number of groups - 1).
    p_value : float
    table : pandas.DataFrame
        Per group: ``group``, ``n``, ``observed``, ``expected`` events.
    """

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame = field(repr=False)


def logrank(time: Any, event: Any, group: Any) -> LogrankResult:
    """Log-rank test of equal survival in two or more groups.

    Parameters
    ----------
    time, event : array-like
        As in :func:`kaplan_meier`.
    group : array-like
        Group label of each subject; at least two distinct labels.

    Returns
    -------
    LogrankResult
        Chi-square ``statistic`` with ``df = k - 1`` and its p-value, and a per-group
        ``table`` of observed and expected events.

    Notes
    -----
    At each distinct event time j with n_j at risk and d_j events, group g contributes
    expected events n_gj d_j / n_j and the hypergeometric covariance
    ``d_j (n_j - d_j) / (n_j - 1) * n_gj / n_j * (delta_gh - n_hj / n_j)``. The statistic
    is ``(O - E)' V^- (O - E)`` over the first k - 1 groups (as R's ``survdiff`` and
    lifelines' ``multivariate_logrank_test``; a pseudo-inverse guards against groups with
    nobody at risk at any event time).

    References
    ----------
    .. [1] Mantel N. Evaluation of survival data and two new rank order statistics
       arising in its consideration. Cancer Chemother Rep 1966;50:163-170.
    .. [2] Peto R, Peto J. Asymptotically efficient rank invariant test procedures.
       J R Stat Soc A 1972;135:185-207.
    """
    t, e = _time_event(time, event)
    g = np.asarray(group).ravel()
    if g.shape != t.shape:
        raise ValueError("group has a different length from time")
    labels, gi = np.unique(g, return_inverse=True)
    k = labels.size
    if k < 2:
        raise ValueError("the log-rank test needs at least two groups")
    stat, observed, expected = _engine.logrank_groups(t, e, gi, k)
    df = k - 1
    table = pd.DataFrame(
        {
            "group": labels,
            "n": np.bincount(gi, minlength=k).astype(np.int64),
            "observed": observed,
            "expected": expected,
        }
    )
    return LogrankResult(statistic=stat, df=df, p_value=float(stats.chi2.sf(stat, df)), table=table)


# ------------------------------------------------------------------------------- Cox


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox proportional-hazards model.

    Attributes
    ----------
    summary : pandas.DataFrame
        Indexed by covariate: ``coef`` (log hazard ratio), ``se``, ``hr``, ``hr_lower``,
        ``hr_upper`` (95% Wald interval), ``p`` (Wald).
    loglik, loglik_null : float
        Log partial likelihood at the estimate and at beta = 0.
    lr_statistic, lr_df, lr_p : likelihood-ratio test of all coefficients = 0.
    wald_statistic, wald_df, wald_p : Wald test of all coefficients = 0.
    score_statistic, score_df, score_p : score (log-rank) test at beta = 0.
    n : int
        Number of rows used (subjects; intervals for counting-process data).
    events : int
    converged : bool
    iterations : int
    ties : str
    covariance : pandas.DataFrame
        Inverse information matrix at the estimate.
    """

    summary: pd.DataFrame = field(repr=False)
    loglik: float
    loglik_null: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    wald_statistic: float
    wald_df: int
    wald_p: float
    score_statistic: float
    score_df: int
    score_p: float
    n: int
    events: int
    converged: bool
    iterations: int
    ties: str
    covariance: pd.DataFrame = field(repr=False)

    @property
    def params(self) -> pd.Series:
        """The coefficients (log hazard ratios)."""
        return self.summary["coef"]


def _design(data: pd.DataFrame, columns: Sequence[str], what: str) -> np.ndarray:
    """Numeric float matrix of ``columns`` (present) or a ModelError naming the bad column."""
    out = []
    for c in columns:
        col = data[c]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            raise ModelError(
                f"{what} column {c!r} is not numeric (dtype {col.dtype}); "
                "code it as numbers (e.g. 0/1 indicators) first"
            )
        out.append(col.to_numpy(dtype=float))
    return np.column_stack(out) if out else np.empty((len(data), 0))


def cox(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    ties: str = "efron",
    *,
    start: str | None = None,
) -> CoxResult:
    """Cox proportional-hazards regression by Newton-Raphson.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject (or per (start, stop] interval if ``start`` is given).
    duration : str
        Column of follow-up times (the interval ends, for counting-process data).
    event : str
        Column of event indicators (1/True = event at ``duration``).
    covariates : sequence of str
        Numeric covariate columns (code factors as 0/1 indicators).
    ties : {"efron", "breslow"}
        Handling of tied event times. Efron is R ``coxph``'s default; Breslow is Stata's.
    start : str, optional
        Column of interval starts for counting-process (start, stop] data (time-varying
        covariates, late entry): a row is at risk at t when start < t <= stop.

    Returns
    -------
    CoxResult
        ``summary`` (coef, se, hr, hr_lower, hr_upper, Wald p per covariate), the
        likelihood-ratio, Wald and score tests of the whole model, ``loglik``, ``n``,
        ``events``, ``converged``.

    Raises
    ------
    ModelError
        No events; missing values in the used columns (says how many rows); a
        non-numeric or constant covariate; a binary covariate with no events in one of
        its levels; monotone likelihood (a coefficient diverging to +/- infinity,
        e.g. complete separation); a singular information matrix (collinear covariates).

    Notes
    -----
    Vectorised numpy Newton-Raphson from beta = 0 with step-halving whenever the log
    partial likelihood would decrease; iterations stop when the largest step is below
    1e-10 (then one polishing step is taken), far tighter than R's default
    (``eps = 1e-9`` on the relative log-likelihood change), so estimates agree with R's
    printed output to all printed digits. Risk-set sums at every event time come from
    one sort and reverse cumulative sums; Efron's correction is applied to each tied
    death with weight l / d_j. Covariates are centred internally (this does not change
    the coefficients). Standard errors come from the inverse observed information.
    The score test is evaluated at beta = 0 (R's "Score (logrank) test").

    References
    ----------
    .. [1] Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    .. [2] Efron B. The efficiency of Cox's likelihood function for censored data.
       J Am Stat Assoc 1977;72:557-565.
    .. [3] Breslow N. Covariance analysis of censored survival data. Biometrics
       1974;30:89-99.
    .. [4] Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model.
       Springer 2000, chapter 3 and appendix E.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame")
    covariates = list(covariates)
    if not covariates:
        raise ModelError("no covariates given")
    if len(set(covariates)) != len(covariates):
        raise ModelError("a covariate is listed twice")
    used = [duration, event] + ([start] if start is not None else []) + covariates
    missing_cols = [c for c in used if c not in data.columns]
    if missing_cols:
        raise ModelError(f"column(s) {', '.join(map(repr, missing_cols))} not found in the data")
    na = data[used].isna()
    if na.to_numpy().any():
        n_rows = int(na.any(axis=1).sum())
        cols = [c for c in used if na[c].any()]
        raise ModelError(
            f"{n_rows} row(s) have missing values in column(s) {', '.join(map(repr, cols))}; "
            "drop or impute them before fitting"
        )
    x = _design(data, covariates, "covariate")
    stop_ = _design(data, [duration], "duration")[:, 0]
    ev_raw = _design(data, [event], "event")[:, 0]
    if not np.isin(ev_raw, (0.0, 1.0)).all():
        raise ModelError(f"event column {event!r} must contain only 0/1 (or True/False)")
    ev = ev_raw.astype(bool)
    st = _design(data, [start], "start")[:, 0] if start is not None else None
    if not (np.isfinite(x).all() and np.isfinite(stop_).all()):
        raise ModelError("covariates and durations must be finite numbers")
    if st is not None and np.any(st >= stop_):
        bad = int(np.sum(st >= stop_))
        raise ModelError(f"{bad} row(s) have start >= stop; each interval must have positive length")
    n_events = int(ev.sum())
    if n_events == 0:
        raise ModelError("there are no events, so no Cox model can be fitted")
    for j, name in enumerate(covariates):
        values = np.unique(x[:, j])
        if values.size == 1:
            raise ModelError(f"covariate {name!r} is constant ({values[0]:g} for every row); it has no effect to estimate")
        if values.size == 2:
            for v in values:
                if not np.any(ev & (x[:, j] == v)):
                    raise ModelError(
                        f"no events among rows with {name} = {v:g}: the hazard ratio for "
                        f"{name!r} is infinite (monotone likelihood); the Cox model cannot estimate it"
                    )
    cd = _engine.CoxData(x, stop_, ev, st, ties)
    ll0, u0, i0 = cd.evaluate(np.zeros(cd.p))
    beta, ll, score, info, converged, iters = _engine.newton(cd)
    problem = _engine.fit_problem(beta, info, x, covariates, converged)
    if problem:
        raise ModelError(problem)
    cov = np.linalg.inv(info)
    se = np.sqrt(np.diag(cov))
    z = beta / se
    summary = pd.DataFrame(
        {
            "coef": beta,
            "se": se,
            "hr": np.exp(beta),
            "hr_lower": np.exp(beta - _Z975 * se),
            "hr_upper": np.exp(beta + _Z975 * se),
            "p": 2.0 * stats.norm.sf(np.abs(z)),
        },
        index=pd.Index(covariates, name="covariate"),
    )
    try:
        sc = float(u0 @ np.linalg.solve(i0, u0))
    except np.linalg.LinAlgError:
        sc = float("nan")
    return cox_result(summary, cov, 2.0 * (ll - ll0), float(beta @ info @ beta), sc, loglik=ll,
                      loglik_null=ll0, n=int(len(stop_)), events=n_events, converged=converged,
                      iterations=iters, ties=ties)


def cox_result(summary: pd.DataFrame, covariance: np.ndarray, lr: float, wald: float,
               score: float, **fit: Any) -> CoxResult:
    """A :class:`CoxResult` from its statistics: adds the three tests' df and p-values."""
    p = len(summary)
    names = list(summary.index)
    return CoxResult(
        summary=summary, lr_statistic=lr, lr_df=p, lr_p=float(stats.chi2.sf(lr, p)),
        wald_statistic=wald, wald_df=p, wald_p=float(stats.chi2.sf(wald, p)),
        score_statistic=score, score_df=p, score_p=float(stats.chi2.sf(score, p)),
        covariance=pd.DataFrame(covariance, index=names, columns=names), **fit)
