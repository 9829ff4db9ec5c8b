"""Do the hazards stay proportional? The Grambsch-Therneau test for the book's Cox models.

* :func:`ph_test`: the test on scaled Schoenfeld residuals, for ordinary and
  counting-process (time-varying) Cox models, with R >= 3.0's score test beside the
  classic one; :func:`schoenfeld_residuals` gives the residuals to plot.
* :func:`book_cox_models` lists every Cox model the book reports and :func:`ph_table`
  tests them all.

Why not lifelines' ``proportional_hazard_test``: it computes the classic test for
``CoxPHFitter`` only (no counting-process data, no R 3.x score test), and its
``time_transform="km"`` (R's default, and the book's) evaluates the Kaplan-Meier
transform differently from R: on R's ``ovarian`` example it gives 0.715 where R
prints 0.744 (``tests/test_ph.py`` checks R's values here, and agreement with
lifelines for the rank, identity and log transforms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.cohort.paper import ENDPOINTS, MULTIVARIATE_COVARIATES
from ctcbook.stats.compare import with_derived
from ctcbook.stats.survival import ModelError, cox
from ctcbook.stats.timevarying import counting_process, default_landmark_day, landmark

__all__ = ["ph_test", "schoenfeld_residuals", "CoxModelSpec", "book_cox_models", "ph_table"]


def _km_left(stop: np.ndarray, event: np.ndarray, start: np.ndarray | None,
             dtimes: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival just before each of ``dtimes`` (risk sets start < t <= stop)."""
    from lifelines import KaplanMeierFitter

    sf = KaplanMeierFitter().fit(stop, event, entry=start).survival_function_.iloc[:, 0]
    return sf.shift(1, fill_value=1.0).loc[dtimes].to_numpy()


def _schoenfeld(data: pd.DataFrame, duration: str, event: str, covariates: list[str],
                start: str | None, ties: str) -> tuple:
    """The Cox fit (:func:`ctcbook.stats.survival.cox`), the Schoenfeld residuals (one row per
    event, sorted by time), the event times, the weighted covariance matrix of the
    covariates in each event's risk set, and the (stop, event, start) arrays.

    With tied deaths and Efron's method the expected covariate is averaged over the
    d Efron-weighted risk sets, as R's ``residuals(fit, "schoenfeld")`` does; each tied
    death keeps its own Efron-weighted covariance (its share of the information).
    """
    fit = cox(data, duration, event, covariates, ties=ties, start=start)
    beta = fit.params.to_numpy()
    x = data[covariates].to_numpy(dtype=float)
    stop = data[duration].to_numpy(dtype=float)
    event = data[event].to_numpy(dtype=float).astype(bool)
    start = data[start].to_numpy(dtype=float) if start is not None else None
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
    return (fit, np.vstack(rows), np.asarray(times, dtype=float), np.asarray(covs),
            (stop, event, start))


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
    beta(t) = 0; they differ most in small samples. The module docstring says where
    lifelines' test differs.

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
    fit, resid, times, vk, (stop, ev, st) = _schoenfeld(data, duration, event, covariates,
                                                        start, ties)
    var = fit.covariance.to_numpy()
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
    quantity whose smoothed trend estimates a time-varying coefficient; Grambsch and
    Therneau 1994, see :func:`ph_test`).
    """
    covariates = list(covariates)
    fit, resid, times, _, _ = _schoenfeld(data, duration, event, covariates, start, ties)
    scaled = resid.shape[0] * resid @ fit.covariance.to_numpy() + fit.params.to_numpy()
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
        Landmark of notebook 14 (default: :func:`ctcbook.stats.timevarying.default_landmark_day`).

    Returns
    -------
    list of CoxModelSpec
        For each endpoint: the univariate models of notebook 06, its multivariate model,
        the naive, landmark and time-varying models of notebook 14 (the naive model on
        HER2+ CTCs at first follow-up is also the model of notebooks 05 and 15).
    """
    t = with_derived(table)
    univariate = list(univariate) or list(MULTIVARIATE_COVARIATES)
    marker, marker_day = "her2_pos_first_follow_up", "day_first_follow_up"
    if landmark_day is None:
        landmark_day = default_landmark_day(t, marker_day)
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
