"""Do the models hold? Checks an expert reviewer expects beside the book's Cox models.

* :func:`ph_test`: the Grambsch-Therneau test of proportional hazards on scaled
  Schoenfeld residuals, for ordinary and counting-process (time-varying) Cox models
  (lifelines' ``proportional_hazard_test`` covers the first kind only);
  :func:`book_cox_models` lists every Cox model the book reports and :func:`ph_table`
  tests them all (:func:`ctcbook.report.figures.plot_schoenfeld` draws the residuals).
* :func:`rmst_difference`: restricted mean survival time per group, its difference and
  confidence interval (the estimate from lifelines, the variance as in R ``survRM2``).
* :func:`adjust_pvalues` (Holm, Benjamini-Hochberg) and :func:`results_tests` (every
  p-value the Results chapters print).
* :func:`events_per_variable`, :func:`collinearity` and :func:`added_value`
  (likelihood-ratio test and c-index of adding a marker to a model).
* :func:`simon_makuch`: Kaplan-Meier curves for a group that patients enter during
  follow-up (drawn by :func:`ctcbook.report.figures.plot_simon_makuch`).

Every function returns a tidy DataFrame; the figures are in :mod:`ctcbook.report.figures`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.cohort.paper import ENDPOINTS, MULTIVARIATE_COVARIATES
from ctcbook.stats.survival import ModelError, cox
from ctcbook.stats.timevarying import counting_process, landmark

__all__ = [
    "ph_test", "CoxModelSpec", "book_cox_models", "ph_table",
    "rmst_difference", "adjust_pvalues", "results_tests",
    "events_per_variable", "collinearity", "added_value", "simon_makuch",
]

_Z975 = float(stats.norm.ppf(0.975))


# ------------------------------------------------------------------ proportional hazards


def _km_left(stop: np.ndarray, event: np.ndarray, start: np.ndarray | None,
             dtimes: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival just before each of ``dtimes`` (risk sets start < t <= stop)."""
    surv = np.ones(dtimes.size)
    s = 1.0
    for k, t in enumerate(dtimes):
        surv[k] = s
        at_risk = (stop >= t) if start is None else ((stop >= t) & (start < t))
        d = np.sum((stop == t) & event)
        s *= 1.0 - d / at_risk.sum()
    return surv


def _schoenfeld(x: np.ndarray, stop: np.ndarray, event: np.ndarray,
                start: np.ndarray | None, beta: np.ndarray, ties: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Schoenfeld residuals (one row per event, sorted by time), the event times, and the
    weighted covariance matrix of the covariates in each event's risk set.

    With tied deaths and Efron's method the expected covariate is averaged over the
    d Efron-weighted risk sets, as R's ``residuals(fit, "schoenfeld")`` does; each tied
    death keeps its own Efron-weighted covariance (its share of the information).
    """
    risk = np.exp(x @ beta - np.max(x @ beta))
    rows, times, covs = [], [], []
    for t in np.unique(stop[event]):
        at_risk = (stop >= t) if start is None else ((stop >= t) & (start < t))
        dead = (stop == t) & event
        d = int(dead.sum())
        fracs = np.arange(d) / d if ties == "efron" else np.zeros(d)
        means = []
        for f in fracs:
            w = risk * at_risk - f * risk * dead
            s0 = w.sum()
            m = w @ x / s0
            means.append(m)
            covs.append((x * w[:, None]).T @ x / s0 - np.outer(m, m))
        rows.append(x[dead] - np.mean(means, axis=0))
        times.extend([t] * d)
    return np.vstack(rows), np.asarray(times, dtype=float), np.asarray(covs)


def ph_test(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    start: str | None = None,
    transform: str = "km",
    ties: str = "efron",
) -> pd.DataFrame:
    """Test proportional hazards with scaled Schoenfeld residuals (Grambsch-Therneau).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient, or per (start, stop] interval if ``start`` is given.
    duration, event : str
        Follow-up time (interval end) and event indicator columns.
    covariates : sequence of str
        The covariates of the Cox model (fitted here with :func:`ctcbook.stats.survival.cox`).
    start : str, optional
        Interval starts, for counting-process data (time-varying covariates).
    transform : {"km", "rank", "identity", "log"}
        The function of time the residuals are correlated with: ``"km"`` is one minus
        the left-continuous Kaplan-Meier estimate at each event time (R's default).
    ties : {"efron", "breslow"}

    Returns
    -------
    pandas.DataFrame
        One row per covariate and a last row ``"GLOBAL"``: ``covariate``, ``rho``
        (correlation of the scaled residuals with transformed time; NaN for GLOBAL),
        ``statistic`` (chi-square) and ``p`` of the classic test, ``df``,
        ``statistic_score`` and ``p_score`` of R >= 3.0's score test, ``events``,
        ``transform``.

    Notes
    -----
    This is the test of R ``survival`` before version 3.0 (``cox.zph``), and the one
    lifelines' ``proportional_hazard_test`` computes: with g the centred transformed
    event times, r the Schoenfeld residuals, V the model's variance matrix and d the
    number of events, the statistic for covariate j is
    ``d * (V U)_j**2 / (V_jj * sum(g**2))`` with ``U = sum_k g_k r_k``, and the global
    statistic ``d * U' V U / sum(g**2)``. It approximates the variance of the
    residuals by ``V`` (assumed constant over time). R ``survival`` >= 3.0 computes a
    score test instead, for adding ``g(t) * x_j`` to the fitted model, with the full
    information matrix of the extended model (built from the weighted covariance of the
    covariates in each event's risk set); it is returned as ``statistic_score`` and
    ``p_score`` and reproduces R 3.x ``cox.zph``. Both test the same hypothesis, slope of
    beta(t) = 0; they differ most in small samples. With
    ``transform="rank"``, ``"identity"`` or ``"log"`` the statistics equal lifelines'; its
    ``time_transform="km"`` evaluates the Kaplan-Meier transform differently from R, so
    for ``"km"`` this function follows R (``tests/test_modelcheck.py`` checks both).

    References
    ----------
    .. [1] Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on
       weighted residuals. Biometrika 1994;81:515-526. doi:10.1093/biomet/81.3.515
    .. [2] Schoenfeld D. Partial residuals for the proportional hazards regression
       model. Biometrika 1982;69:239-241. doi:10.1093/biomet/69.1.239
    .. [3] Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model.
       Springer 2000, chapter 6.
    """
    if transform not in ("km", "rank", "identity", "log"):
        raise ValueError(f"transform must be 'km', 'rank', 'identity' or 'log', not {transform!r}")
    covariates = list(covariates)
    fit = cox(data, duration, event, covariates, ties=ties, start=start)
    beta = fit.params.to_numpy()
    var = fit.covariance.to_numpy()
    x = data[covariates].to_numpy(dtype=float)
    stop = data[duration].to_numpy(dtype=float)
    ev = data[event].to_numpy(dtype=float).astype(bool)
    st = data[start].to_numpy(dtype=float) if start is not None else None
    resid, times, vk = _schoenfeld(x, stop, ev, st, beta, ties)
    d = resid.shape[0]
    if transform == "km":
        uniq = np.unique(times)
        km = _km_left(stop, ev, st, uniq)
        g = 1.0 - km[np.searchsorted(uniq, times)]
    elif transform == "rank":
        g = stats.rankdata(times)
    elif transform == "log":
        g = np.log(times)
    else:
        g = times.copy()
    g = g - g.mean()
    scaled = d * resid @ var
    u = g @ resid
    vu = var @ u
    sg2 = float(g @ g)
    stat = d * vu**2 / (np.diag(var) * sg2)
    rho = [float(np.corrcoef(g, scaled[:, j])[0, 1]) for j in range(len(covariates))]
    glob = float(d * u @ var @ u / sg2)
    # R >= 3.0: score test of adding g(t) * x_j to the model, full information matrix
    p = len(covariates)
    info = np.zeros((2 * p, 2 * p))
    info[:p, :p] = vk.sum(axis=0)
    info[:p, p:] = np.einsum("k,kij->ij", g, vk)
    info[p:, :p] = info[:p, p:].T
    info[p:, p:] = np.einsum("k,kij->ij", g**2, vk)
    score = np.r_[np.zeros(p), u]
    score_stat = []
    for j in range(p):
        idx = list(range(p)) + [p + j]
        score_stat.append(float(score[idx] @ np.linalg.solve(info[np.ix_(idx, idx)], score[idx])))
    score_stat.append(float(score @ np.linalg.solve(info, score)))
    out = pd.DataFrame({
        "covariate": covariates + ["GLOBAL"],
        "rho": rho + [np.nan],
        "statistic": list(stat) + [glob],
        "df": [1] * p + [p],
    })
    out["p"] = stats.chi2.sf(out["statistic"], out["df"])
    out["statistic_score"] = score_stat
    out["p_score"] = stats.chi2.sf(out["statistic_score"], out["df"])
    out["events"] = d
    out["transform"] = transform
    return out


def schoenfeld_residuals(
    data: pd.DataFrame, duration: str, event: str, covariates: Sequence[str], *,
    start: str | None = None, ties: str = "efron",
) -> pd.DataFrame:
    """Scaled Schoenfeld residuals plus the coefficient: beta(t) at each event time.

    Returns one row per event: ``time`` and, per covariate, ``beta + d V r_k`` (the
    quantity whose smoothed trend estimates a time-varying coefficient).

    References
    ----------
    .. [1] Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on
       weighted residuals. Biometrika 1994;81:515-526. doi:10.1093/biomet/81.3.515
    """
    covariates = list(covariates)
    fit = cox(data, duration, event, covariates, ties=ties, start=start)
    beta = fit.params.to_numpy()
    x = data[covariates].to_numpy(dtype=float)
    stop = data[duration].to_numpy(dtype=float)
    ev = data[event].to_numpy(dtype=float).astype(bool)
    st = data[start].to_numpy(dtype=float) if start is not None else None
    resid, times, _ = _schoenfeld(x, stop, ev, st, beta, ties)
    scaled = resid.shape[0] * resid @ fit.covariance.to_numpy() + beta
    out = pd.DataFrame(scaled, columns=covariates)
    out.insert(0, "time", times)
    return out


@dataclass(frozen=True)
class CoxModelSpec:
    """One Cox model the book reports: where, on which data, with which covariates."""

    name: str
    chapter: str
    endpoint: str
    data: pd.DataFrame
    duration: str
    event: str
    covariates: tuple[str, ...]
    start: str | None = None


def book_cox_models(table: pd.DataFrame, univariate: Sequence[str] = (),
                    landmark_day: float | None = None) -> list[CoxModelSpec]:
    """Every Cox model the book reports, as data ready to refit and check.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table (:func:`ctcbook.cohort.rules.patient_table`), with the
        derived columns of :func:`ctcbook.report.tables.cox_table` where the univariate list
        asks for them.
    univariate : sequence of str
        The univariate covariates of notebook 06 to include (default: the three of the
        multivariate model).
    landmark_day : float, optional
        Landmark of notebook 14 (default: the last first-follow-up day).

    Returns
    -------
    list of CoxModelSpec
        For each endpoint: the univariate models of notebook 06, its multivariate model,
        the naive, landmark and time-varying models of notebook 14 (the naive model on
        HER2+ CTCs at first follow-up is also the model of notebooks 05 and 15).
    """
    from ctcbook.stats.compare import _with_derived

    t = _with_derived(table)
    univariate = list(univariate) or list(MULTIVARIATE_COVARIATES)
    marker, marker_day = "her2_pos_first_follow_up", "day_first_follow_up"
    if landmark_day is None:
        landmark_day = float(t[marker_day].max())
    specs: list[CoxModelSpec] = []
    for ep, (dur, ev, _) in ENDPOINTS.items():
        for c in univariate:
            specs.append(CoxModelSpec("Univariate", "06", ep,
                                      t[[dur, ev, c]].dropna().astype(float), dur, ev, (c,)))
        multi = list(MULTIVARIATE_COVARIATES)
        specs.append(CoxModelSpec("Multivariate", "06", ep,
                                  t[[dur, ev, *multi]].dropna().astype(float), dur, ev, tuple(multi)))
        lm = landmark(t, landmark_day, dur, ev, marker, marker_day).dropna(subset=[marker])
        specs.append(CoxModelSpec(f"Landmark (day {landmark_day:g})", "14", ep,
                                  lm[[dur, ev, marker]].astype(float), dur, ev, (marker,)))
        long = counting_process(t, dur, ev, marker, marker_day).rename(columns={"marker": marker})
        specs.append(CoxModelSpec("Time-varying", "14", ep, long, "stop", "event", (marker,),
                                  start="start"))
    return specs


def ph_table(specs: Sequence[CoxModelSpec], transform: str = "km") -> pd.DataFrame:
    """:func:`ph_test` for every model of :func:`book_cox_models`, one row per covariate.

    Returns
    -------
    pandas.DataFrame
        ``chapter``, ``endpoint``, ``model``, ``covariate`` (``GLOBAL`` rows only for
        models with several covariates), ``rho``, ``statistic``, ``df``, ``p`` (classic
        test), ``p_score`` (R >= 3.0 score test), ``events``, ``note`` (why a model could not be tested; its numbers then NaN).
    """
    rows = []
    for s in specs:
        head = {"chapter": s.chapter, "endpoint": s.endpoint, "model": s.name}
        try:
            r = ph_test(s.data, s.duration, s.event, s.covariates, start=s.start,
                        transform=transform)
        except ModelError as err:
            rows.append({**head, "covariate": ", ".join(s.covariates), "rho": np.nan,
                         "statistic": np.nan, "df": np.nan, "p": np.nan, "p_score": np.nan,
                         "events": int(s.data[s.event].sum()), "note": str(err)})
            continue
        if len(s.covariates) == 1:
            r = r[r["covariate"] != "GLOBAL"]
        for rec in r.to_dict("records"):
            rows.append({**head, **{k: rec[k] for k in ("covariate", "rho", "statistic",
                                                          "df", "p", "p_score", "events")},
                         "note": ""})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------- RMST


def _km_rmst_var(time: np.ndarray, event: np.ndarray, tau: float) -> tuple[float, float]:
    """RMST up to tau and its Greenwood plug-in variance (survRM2's ``rmst1``)."""
    ut = np.unique(time[(event == 1) & (time <= tau)])
    surv, n_risk, n_event = [], [], []
    s = 1.0
    for u in ut:
        n = int(np.sum(time >= u))
        d = int(np.sum((time == u) & (event == 1)))
        s *= 1.0 - d / n
        surv.append(s)
        n_risk.append(n)
        n_event.append(d)
    grid = np.r_[ut, tau]
    areas = np.diff(np.r_[0.0, grid]) * np.r_[1.0, surv]
    n_risk, n_event = np.asarray(n_risk, float), np.asarray(n_event, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))
    var = float(np.sum(np.cumsum(areas[1:][::-1]) ** 2 * w[::-1]))
    return float(areas.sum()), var


def rmst_difference(time, event, group, tau: float | None = None,
                    alpha: float = 0.05) -> pd.DataFrame:
    """Restricted mean survival time by group, and the difference (group 1 - group 0).

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators (1 = event).
    group : array-like
        0/1 group indicator (1 = the group of interest, as R ``survRM2``'s ``arm``).
    tau : float, optional
        Truncation time; default (as ``survRM2``): the smaller of the two groups' largest
        follow-up times. It must not exceed that.
    alpha : float
        The intervals are (1 - alpha) Wald intervals.

    Returns
    -------
    pandas.DataFrame
        Rows ``"group 1"``, ``"group 0"``, ``"difference"`` (1 - 0): ``quantity``,
        ``estimate``, ``se``, ``lower``, ``upper``, ``p`` (difference only), ``tau``,
        ``n``, ``events``.

    Notes
    -----
    The RMST is the area under the Kaplan-Meier curve up to tau, the mean time alive
    (or event-free) in the first tau units; it needs neither proportional hazards nor
    a median to be reached. The estimate is lifelines'
    ``restricted_mean_survival_time`` of a fitted ``KaplanMeierFitter``; the variance
    is the Greenwood plug-in of ``survRM2::rmst2`` (groups independent, so the
    variance of the difference is the sum).

    References
    ----------
    .. [1] Royston P, Parmar MKB. Restricted mean survival time: an alternative to the
       hazard ratio for the design and analysis of randomized trials with a
       time-to-event outcome. BMC Med Res Methodol 2013;13:152.
       doi:10.1186/1471-2288-13-152
    .. [2] Uno H, Claggett B, Tian L, et al. Moving beyond the hazard ratio in
       quantifying the between-group difference in survival analysis. J Clin Oncol
       2014;32:2380-2385. doi:10.1200/JCO.2014.55.2208
    """
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=float)
    if not (t.shape == e.shape == g.shape):
        raise ValueError("time, event and group must have the same length")
    if np.isnan(t).any() or np.isnan(e).any() or np.isnan(g).any():
        raise ValueError("time, event and group must not contain missing values")
    if not np.isin(g, (0.0, 1.0)).all() or not ((g == 0).any() and (g == 1).any()):
        raise ValueError("group must be 0/1 with both groups present")
    max_tau = float(min(t[g == 1].max(), t[g == 0].max()))
    if tau is None:
        tau = max_tau
    if tau > max_tau:
        raise ValueError(f"tau = {tau:g} exceeds the smaller group's largest follow-up time "
                         f"({max_tau:g}); the Kaplan-Meier curve is not defined that far")
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    est = {}
    for value in (1.0, 0.0):
        m = g == value
        kmf = KaplanMeierFitter().fit(t[m], e[m])
        rmst = float(restricted_mean_survival_time(kmf, t=tau))
        area, var = _km_rmst_var(t[m], e[m], tau)
        if not np.isclose(rmst, area, rtol=1e-9, atol=1e-9):  # pragma: no cover - guard
            raise RuntimeError("lifelines' RMST and the Kaplan-Meier area disagree")
        est[value] = (rmst, var)
        se = var**0.5
        rows.append({"quantity": f"group {int(value)}", "estimate": rmst, "se": se,
                     "lower": rmst - z * se, "upper": rmst + z * se, "p": np.nan,
                     "n": int(m.sum()), "events": int(e[m].sum())})
    diff = est[1.0][0] - est[0.0][0]
    se = (est[1.0][1] + est[0.0][1]) ** 0.5
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
    rows.append({"quantity": "difference", "estimate": diff, "se": se, "lower": diff - z * se,
                 "upper": diff + z * se, "p": p, "n": len(t), "events": int(e.sum())})
    out = pd.DataFrame(rows)
    out["tau"] = float(tau)
    return out[["quantity", "estimate", "se", "lower", "upper", "p", "tau", "n", "events"]]


# ------------------------------------------------------------------------- multiplicity


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing (R's ``p.adjust``).

    Parameters
    ----------
    p : array-like
        p-values (NaN allowed: they stay NaN and do not count as tests).
    method : {"holm", "bh", "bonferroni"}
        Holm's step-down family-wise error control, Benjamini-Hochberg false discovery
        rate (via ``scipy.stats.false_discovery_control``), or Bonferroni.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order, capped at 1.

    References
    ----------
    .. [1] Holm S. A simple sequentially rejective multiple test procedure. Scand J
       Stat 1979;6:65-70. (JSTOR 4615733)
    .. [2] Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical
       and powerful approach to multiple testing. J R Stat Soc B 1995;57:289-300.
       doi:10.1111/j.2517-6161.1995.tb02031.x
    """
    p = np.asarray(p, dtype=float)
    if np.any((p[~np.isnan(p)] < 0) | (p[~np.isnan(p)] > 1)):
        raise ValueError("p-values must lie between 0 and 1")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "bonferroni":
        adj = np.minimum(q * m, 1.0)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        stepped = np.maximum.accumulate(q[order] * (m - np.arange(m)))
        adj = np.empty(m)
        adj[order] = np.minimum(stepped, 1.0)
    elif method == "bh":
        adj = stats.false_discovery_control(q, method="bh")
    else:
        raise ValueError(f"method must be 'holm', 'bh' or 'bonferroni', not {method!r}")
    out[ok] = adj
    return out


def results_tests(table: pd.DataFrame) -> pd.DataFrame:
    """Every p-value the Results chapters (notebooks 04-06) print, with Holm and BH.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table.

    Returns
    -------
    pandas.DataFrame
        One row per test: ``chapter``, ``test`` (log-rank or Cox Wald, univariate or
        multivariate), ``factor``, ``endpoint``, ``p``, ``p_holm``, ``p_bh`` (adjusted
        over all rows), ``hypothesis`` (factor and endpoint: several rows can test the
        same one, e.g. a log-rank test and a univariate Cox model of the same factor).

    Notes
    -----
    Notebooks 01-03 print no p-values (notebook 03's kappa comes with a confidence
    interval only). A model that could not be fitted contributes no test.
    """
    from ctcbook.cohort.paper import COVARIATE_LABELS
    from ctcbook.stats.compare import compare_survival, cox_table

    rows = []
    for ep in ENDPOINTS:
        for col, chapter in (("ctc_pos_baseline", "04"), ("ctc_pos_first_follow_up", "04"),
                             ("her2_pos_first_follow_up", "05")):
            r = compare_survival(table, col, ep)
            rows.append({"chapter": chapter, "test": "log-rank", "factor": col, "endpoint": ep,
                         "p": r.logrank_p})
    univariate = ["her2_pos_first_follow_up", "her2_pos_baseline", "her2_pos_any",
                  "ctc_pos_baseline", "ctc_pos_first_follow_up", "prior_therapies",
                  "age_per_10_years", "primary_her2_negative", "hormone_receptor_positive",
                  "visceral_metastasis"]
    for ep in ENDPOINTS:
        uni = cox_table(table, [c for c in univariate if c in table.columns
                                or c in ("age_per_10_years", "hormone_receptor_positive")], ep)
        multi = cox_table(table, list(MULTIVARIATE_COVARIATES), ep, multivariate=True)
        for frame, kind in ((uni, "Cox, univariate"), (multi, "Cox, multivariate")):
            for rec in frame.to_dict("records"):
                rows.append({"chapter": "06", "test": kind, "factor": rec["covariate"],
                             "endpoint": ep, "p": rec["p"]})
    out = pd.DataFrame(rows).dropna(subset=["p"]).reset_index(drop=True)
    out["label"] = out["factor"].map(lambda c: COVARIATE_LABELS.get(c, c))
    out["hypothesis"] = out["factor"] + " / " + out["endpoint"]
    out["p_holm"] = adjust_pvalues(out["p"], "holm")
    out["p_bh"] = adjust_pvalues(out["p"], "bh")
    return out[["chapter", "test", "factor", "label", "endpoint", "p", "p_holm", "p_bh",
                "hypothesis"]]


# ------------------------------------------------------------- EPV, collinearity, value


def events_per_variable(table: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Events per candidate variable of a Cox model, per endpoint.

    Returns
    -------
    pandas.DataFrame
        ``endpoint``, ``patients`` (complete cases), ``events``, ``variables``,
        ``events_per_variable``, ``smallest_group_events`` (events in the rarer level
        of each binary covariate, minimum over covariates: what limits a binary
        factor's estimate) and ``smallest_group`` (its covariate).

    References
    ----------
    .. [1] Peduzzi P, Concato J, Feinstein AR, Holford TR. Importance of events per
       independent variable in proportional hazards regression analysis. II.
       Accuracy and precision of regression estimates. J Clin Epidemiol
       1995;48:1503-1510. doi:10.1016/0895-4356(95)00048-8
    .. [2] Vittinghoff E, McCulloch CE. Relaxing the rule of ten events per variable
       in logistic and Cox regression. Am J Epidemiol 2007;165:710-718.
       doi:10.1093/aje/kwk052
    """
    from ctcbook.stats.compare import _with_derived

    t = _with_derived(table)
    covariates = list(covariates)
    rows = []
    for ep, (dur, ev, _) in ENDPOINTS.items():
        d = t[[dur, ev, *covariates]].dropna()
        small, which = np.inf, ""
        for c in covariates:
            vals = np.unique(d[c])
            if vals.size == 2:
                k = min(int(d.loc[d[c] == v, ev].sum()) for v in vals)
                if k < small:
                    small, which = k, c
        rows.append({"endpoint": ep, "patients": len(d), "events": int(d[ev].sum()),
                     "variables": len(covariates),
                     "events_per_variable": float(d[ev].sum()) / len(covariates),
                     "smallest_group_events": small if np.isfinite(small) else np.nan,
                     "smallest_group": which})
    return pd.DataFrame(rows)


def collinearity(table: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Pairwise correlations and variance inflation factors of the covariates.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``covariate``, ``vif`` (variance inflation factor, the
        diagonal of the inverse correlation matrix; 1 = uncorrelated), ``max_abs_r``
        (largest absolute correlation with another covariate) and ``with`` (that
        covariate), on the complete cases.

    References
    ----------
    .. [1] Belsley DA, Kuh E, Welsch RE. Regression Diagnostics. Wiley 1980.
       doi:10.1002/0471725153
    """
    from ctcbook.stats.compare import _with_derived

    covariates = list(covariates)
    d = _with_derived(table)[covariates].dropna().astype(float)
    r = np.corrcoef(d.to_numpy(), rowvar=False)
    vif = np.diag(np.linalg.inv(r))
    rows = []
    for i, c in enumerate(covariates):
        others = np.abs(np.delete(r[i], i))
        j = int(np.argmax(others))
        rows.append({"covariate": c, "vif": float(vif[i]), "max_abs_r": float(others[j]),
                     "with": [x for k, x in enumerate(covariates) if k != i][j]})
    return pd.DataFrame(rows)


def added_value(table: pd.DataFrame, base: Sequence[str], added: Sequence[str],
                endpoint: str) -> pd.DataFrame:
    """What adding covariates to a Cox model buys: likelihood-ratio test and c-index.

    Both models are fitted on the same patients (complete cases for all covariates).

    Returns
    -------
    pandas.DataFrame
        Rows ``"base"`` and ``"base + added"``: ``model``, ``covariates``, ``n``,
        ``events``, ``loglik``, ``c_index`` (Harrell's, lifelines'
        ``concordance_index`` of minus the linear predictor), and on the second row
        ``lr_statistic``, ``lr_df``, ``lr_p`` (the nested-model likelihood-ratio test).

    References
    ----------
    .. [1] Harrell FE, Lee KL, Mark DB. Multivariable prognostic models: issues in
       developing models, evaluating assumptions and adequacy, and measuring and
       reducing errors. Stat Med 1996;15:361-387.
       doi:10.1002/(SICI)1097-0258(19960229)15:4<361::AID-SIM168>3.0.CO;2-4
    .. [2] Pencina MJ, D'Agostino RB. Overall C as a measure of discrimination in
       survival analysis. Stat Med 2004;23:2109-2123. doi:10.1002/sim.1802
    """
    from lifelines.utils import concordance_index

    from ctcbook.stats.compare import _endpoint, _with_derived

    dur, ev, _ = _endpoint(endpoint)
    base, added = list(base), list(added)
    d = _with_derived(table)[[dur, ev, *base, *added]].dropna().astype(float)
    rows = []
    fits = []
    for name, covs in (("base", base), ("base + added", base + added)):
        fit = cox(d, dur, ev, covs)
        lp = d[covs].to_numpy() @ fit.params.to_numpy()
        c = float(concordance_index(d[dur], -lp, d[ev]))
        fits.append(fit)
        rows.append({"model": name, "covariates": " + ".join(covs), "n": len(d),
                     "events": int(d[ev].sum()), "loglik": fit.loglik, "c_index": c})
    lr = 2 * (fits[1].loglik - fits[0].loglik)
    rows[0].update(lr_statistic=np.nan, lr_df=np.nan, lr_p=np.nan)
    rows[1].update(lr_statistic=lr, lr_df=len(added), lr_p=float(stats.chi2.sf(lr, len(added))))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------- Simon-Makuch


def simon_makuch(data: pd.DataFrame, duration: str, event: str, marker: str,
                 marker_day: str) -> pd.DataFrame:
    """Kaplan-Meier curves by a marker that patients acquire during follow-up.

    Every patient starts in group 0 ("not known positive"); a patient whose marker is
    1 moves to group 1 on ``marker_day`` (if still at risk then). At each time the risk
    set of a group is the patients in it then, so nobody is credited with time before
    entering the group: the extended Kaplan-Meier estimator of Simon and Makuch, i.e.
    a Kaplan-Meier estimate with delayed entry on the counting-process data of
    :func:`ctcbook.stats.timevarying.counting_process`.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    duration, event : str
        Follow-up from time zero and event indicator.
    marker : str
        0/1 marker (NaN: never measured, stays in group 0).
    marker_day : str
        Day the marker was measured.

    Returns
    -------
    pandas.DataFrame
        One row per group and time at which something happens in it: ``group`` (0/1),
        ``time``, ``at_risk``, ``entered`` (patients entering the group at this time),
        ``events``, ``censored`` (including those leaving group 0 by switching),
        ``survival`` (the estimate just after ``time``).

    Notes
    -----
    The curve of group 1 estimates the survival of patients from the day they became
    positive onward, under the assumption that the hazard depends on the current
    marker only (the same assumption as the time-varying Cox model); it is not the
    survival of a cohort defined at time zero. Its first steps rest on very few
    patients. lifelines: ``KaplanMeierFitter().fit(stop, event, entry=start)`` on the
    rows of one group gives the same curve.

    References
    ----------
    .. [1] Simon R, Makuch RW. A non-parametric graphical representation of the
       relationship between survival and the occurrence of an event: application to
       responder versus non-responder bias. Stat Med 1984;3:35-44.
       doi:10.1002/sim.4780030106
    .. [2] Snapinn SM, Jiang Q, Iglewicz B. Illustrating the impact of a time-varying
       covariate with an extended Kaplan-Meier estimator. Am Stat 2005;59:301-307.
       doi:10.1198/000313005X70371
    """
    long = counting_process(data, duration, event, marker, marker_day)
    rows = []
    for grp in (0.0, 1.0):
        part = long[long["marker"] == grp]
        start = part["start"].to_numpy(float)
        stop = part["stop"].to_numpy(float)
        ev = part["event"].to_numpy(int)
        times = np.unique(np.r_[start[start > 0], stop])
        s = 1.0
        for t in times:
            at_risk = int(np.sum((start < t) & (stop >= t)))
            d = int(np.sum((stop == t) & (ev == 1)))
            c = int(np.sum((stop == t) & (ev == 0)))
            entered = int(np.sum(start == t))
            if at_risk > 0:
                s *= 1.0 - d / at_risk
            rows.append({"group": int(grp), "time": float(t), "at_risk": at_risk,
                         "entered": entered, "events": d, "censored": c, "survival": s})
    return pd.DataFrame(rows)
