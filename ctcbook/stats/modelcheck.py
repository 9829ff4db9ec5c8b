"""Do the models hold? Checks an expert reviewer expects beside the book's Cox models.

* Proportional hazards: :mod:`ctcbook.stats.ph` (:func:`ph_test`, :func:`ph_table`,
  :func:`book_cox_models`, :func:`schoenfeld_residuals`, re-exported here;
  :func:`ctcbook.report.figures.plot_schoenfeld` draws the residuals).
* :func:`rmst_difference`: restricted mean survival time per group, its difference and
  confidence interval (the estimate from lifelines, the variance as in R ``survRM2``).
* :func:`adjust_pvalues` (Holm, Benjamini-Hochberg) and :func:`results_tests` (every
  p-value the Results chapters print).
* :func:`events_per_variable`, :func:`collinearity` and :func:`added_value`
  (likelihood-ratio test and c-index of adding a marker to a model).
* Simon-Makuch curves: :func:`ctcbook.stats.timevarying.simon_makuch` (re-exported here;
  drawn by :func:`ctcbook.report.figures.plot_simon_makuch`).

Every function returns a tidy DataFrame; the figures are in :mod:`ctcbook.report.figures`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.cohort.paper import COVARIATE_LABELS, ENDPOINTS, MULTIVARIATE_COVARIATES
from ctcbook.stats.compare import compare_survival, cox_table, endpoint_columns, with_derived
from ctcbook.stats.ph import CoxModelSpec, book_cox_models, ph_table, ph_test, schoenfeld_residuals
from ctcbook.stats.survival import cox
from ctcbook.stats.timevarying import simon_makuch

__all__ = [
    "ph_test", "CoxModelSpec", "book_cox_models", "ph_table", "schoenfeld_residuals",
    "rmst_difference", "adjust_pvalues", "results_tests",
    "events_per_variable", "collinearity", "added_value", "simon_makuch",
]


# --------------------------------------------------------------------------------- RMST


def _rmst_variance(kmf, tau: float) -> float:
    """Greenwood plug-in variance of the RMST up to tau of a fitted KaplanMeierFitter
    (``survRM2``'s ``rmst1``): the areas under the curve after each event time, squared,
    weighted by d / (n (n - d))."""
    et = kmf.event_table
    et = et[(et["observed"] > 0) & (et.index <= tau)]
    times = et.index.to_numpy(float)
    areas = np.diff(np.r_[times, tau]) * kmf.survival_function_.iloc[:, 0].loc[times].to_numpy()
    n, d = et["at_risk"].to_numpy(float), et["observed"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    return float(np.sum(np.cumsum(areas[::-1]) ** 2 * w[::-1]))


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
    variance of the difference is the sum). lifelines' ``return_variance=True`` gives
    another quantity, the variance of min(T, tau) among patients (standard deviation
    3.28 years where ``survRM2`` prints a standard error of 0.283 on its PBC example),
    not the variance of the estimate.

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
        var = _rmst_variance(kmf, tau)
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
    rows = []
    for ep in ENDPOINTS:
        for col, chapter in (("ctc_pos_baseline", "04"), ("ctc_pos_first_follow_up", "04"),
                             ("her2_pos_first_follow_up", "05")):
            r = compare_survival(table, col, ep)
            rows.append({"chapter": chapter, "test": "log-rank", "factor": col, "endpoint": ep,
                         "p": r.logrank_p})
    univariate = list(COVARIATE_LABELS)  # notebook 06: one model per labelled covariate
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
    t = with_derived(table)
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
    covariates = list(covariates)
    d = with_derived(table)[covariates].dropna().astype(float)
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

    dur, ev, _ = endpoint_columns(endpoint)
    base, added = list(base), list(added)
    d = with_derived(table)[[dur, ev, *base, *added]].dropna().astype(float)
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
