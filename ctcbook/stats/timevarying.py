"""Landmark analyses and Cox models with a marker that switches on during follow-up.

A marker measured at a follow-up visit (e.g. HER2-positive CTCs at the first follow-up
draw) is not known at time zero. Comparing patients by it as if it were ("positive at
follow-up" vs not, from time zero) credits the positive group with the time they had
to survive to be measured: guarantee-time (immortal-time) bias. Two remedies:

* :func:`landmark`: keep the patients still at risk at a landmark day, classify them by
  what was known by then, and measure time from the landmark;
* :func:`cox_time_varying`: a Cox model in which the marker switches on at the day it
  was measured (counting-process (start, stop] data, :func:`counting_process`, fitted by
  lifelines' ``CoxTimeVaryingFitter``; the rows of :func:`counting_process` can be passed
  to it as they are, with ``id_col="id"``).

:func:`simon_makuch` draws the matching Kaplan-Meier curves (patients enter the positive
group on the day they become positive).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ctcbook.stats.survival import CoxResult, ModelError, cox, cox_result

__all__ = ["landmark", "default_landmark_day", "counting_process", "cox_time_varying", "TIMEPOINT_ANALYSES",
           "compare_timepoint_analyses", "simon_makuch"]


def _require(data: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame (one row per patient)")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ModelError(f"column(s) {', '.join(map(repr, missing))} not found in the data")


def landmark(
    data: pd.DataFrame,
    landmark_day: float,
    duration: str,
    event: str,
    marker: str | None = None,
    marker_day: str | None = None,
) -> pd.DataFrame:
    """The landmark data set: patients still at risk at ``landmark_day``, timed from it.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    landmark_day : float
        The landmark, in the units of ``duration`` (days from time zero).
    duration, event : str
        Columns of follow-up time from time zero and event indicator.
    marker, marker_day : str, optional
        A marker column and the column of the day it was measured. If given, the
        returned ``marker`` is set to NaN for patients whose marker was measured after
        the landmark (or never): at the landmark its value was not yet known.

    Returns
    -------
    pandas.DataFrame
        A copy of the rows with ``duration > landmark_day`` (the patients alive and
        event-free, and still followed, just after the landmark), with ``duration``
        replaced by ``duration - landmark_day``. A column ``landmark_day`` records the
        landmark. The original index is kept.

    Notes
    -----
    Convention: a patient whose event or censoring falls exactly on the landmark day
    is not at risk after it and is excluded (the same (start, stop] convention as the
    Cox risk sets). Event indicators are unchanged: events after the landmark stay
    events.

    References
    ----------
    .. [1] Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response.
       J Clin Oncol 1983;1:710-719.
    .. [2] Dafni U. Landmark analysis at the 25-year landmark point. Circ Cardiovasc
       Qual Outcomes 2011;4:363-371.
    """
    cols = [duration, event] + [c for c in (marker, marker_day) if c is not None]
    _require(data, cols)
    if (marker is None) != (marker_day is None):
        raise ValueError("give both marker and marker_day, or neither")
    dur = pd.to_numeric(data[duration], errors="raise")
    if dur.isna().any():
        raise ModelError(f"{int(dur.isna().sum())} row(s) have a missing {duration!r}")
    out = data.loc[dur > landmark_day].copy()
    out[duration] = out[duration] - landmark_day
    if marker is not None:
        known = out[marker_day] <= landmark_day  # NaN day compares False: not known
        out[marker] = out[marker].where(known)
    out["landmark_day"] = landmark_day
    return out


def default_landmark_day(table: pd.DataFrame, marker_day: str = "day_first_follow_up") -> float:
    """The book's landmark: the last day a marker was measured (every draw known by then).

    Chapter 14, the proportional-hazards checks and the explorers' "landmark" all use
    this day with :func:`landmark` (28 on the shipped cohort).
    """
    _require(table, [marker_day])
    return float(table[marker_day].max())


def counting_process(
    data: pd.DataFrame,
    duration: str,
    event: str,
    marker: str,
    marker_day: str,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Split one-row-per-patient data into (start, stop] rows at the marker day.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    duration, event : str
        Follow-up time from time zero and event indicator.
    marker : str
        The marker value (e.g. 0/1), NaN where it was never measured.
    marker_day : str
        Day the marker was measured (NaN where never measured).
    covariates : sequence of str
        Fixed covariates copied to every row.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (the original index), ``start``, ``stop``, ``event`` (1 only on a
        patient's last row if the patient had the event), ``marker`` (the time-varying
        value) and the fixed covariates. The marker is 0 on (0, marker_day] and equals
        its measured value on (marker_day, duration]. A patient never measured, or
        measured on or after the end of follow-up, has one row with marker 0
        (the marker never became known while at risk). A marker measured on day <= 0
        applies from time zero.

    References
    ----------
    .. [1] Andersen PK, Gill RD. Cox's regression model for counting processes: a large
       sample study. Ann Stat 1982;10:1100-1120.
    .. [2] Therneau TM, Crowson C, Atkinson E. Using time dependent covariates and time
       dependent coefficients in the Cox model. R survival package vignette.
    """
    covariates = list(covariates)
    _require(data, [duration, event, marker, marker_day, *covariates])
    dur = data[duration].to_numpy(dtype=float)
    if np.isnan(dur).any() or data[event].isna().any():
        raise ModelError(f"{int((np.isnan(dur) | data[event].isna().to_numpy()).sum())} row(s) have a missing duration or event")
    if np.any(dur <= 0):
        raise ModelError(f"{int(np.sum(dur <= 0))} row(s) have a duration <= 0; (start, stop] intervals need stop > 0")
    val = data[marker].to_numpy(dtype=float)
    day = data[marker_day].to_numpy(dtype=float)
    ev = data[event].to_numpy(dtype=float)
    measured = ~np.isnan(val) & ~np.isnan(day)
    late = measured & (day >= dur)
    split = measured & ~late & (day > 0)
    from_zero = measured & ~late & (day <= 0)
    ids = data.index.to_numpy()
    # first segment for every patient
    stop1 = np.where(split, day, dur)
    first = pd.DataFrame(
        {
            "id": ids,
            "start": 0.0,
            "stop": stop1,
            "event": np.where(split, 0.0, ev).astype(int),
            "marker": np.where(from_zero, val, 0.0),
        }
    )
    second = pd.DataFrame(
        {
            "id": ids[split],
            "start": day[split],
            "stop": dur[split],
            "event": ev[split].astype(int),
            "marker": val[split],
        }
    )
    for c in covariates:
        first[c] = data[c].to_numpy()
        second[c] = data[c].to_numpy()[split]
    long = pd.concat([first, second], ignore_index=True)
    return long.sort_values(["id", "start"], kind="stable").reset_index(drop=True)


def cox_time_varying(
    data: pd.DataFrame,
    duration: str,
    event: str,
    marker: str,
    marker_day: str,
    covariates: Sequence[str] = (),
    ties: str = "efron",
) -> CoxResult:
    """Cox model with a marker that switches on at the day it was measured.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient, e.g. columns ``os_days``, ``os_event``,
        ``her2_pos_first_follow_up`` (0/1, NaN where no draw) and
        ``day_first_follow_up``.
    duration, event : str
        Follow-up from time zero and event indicator.
    marker : str
        Marker value (NaN = never measured: treated as 0, "not known positive").
    marker_day : str
        Day of the measurement.
    covariates : sequence of str
        Additional fixed covariates.
    ties : {"efron", "breslow"}

    Returns
    -------
    CoxResult
        As :func:`ctcbook.stats.survival.cox`; the marker's row in ``summary`` is named after
        ``marker``. ``n`` counts (start, stop] rows, not patients. With Efron's ties the fit
        is lifelines', which does not report its iterations: ``iterations`` is then 0.

    Raises
    ------
    ModelError
        Missing covariate values, no events, a constant covariate (e.g. nobody's marker
        switches on), collinear covariates, or monotone likelihood (a coefficient diverging,
        e.g. no events while the marker is on).

    Notes
    -----
    The data are split with :func:`counting_process` and fitted with the counting-process
    partial likelihood (a row is at risk at t when start < t <= stop), i.e. R's
    ``coxph(Surv(start, stop, event) ~ marker + ..., data = tmerge(...))``. With Efron's
    ties (the default) this is lifelines' ``CoxTimeVaryingFitter`` with tightened
    tolerances (``precision`` 1e-12, ``r_precision`` 1e-15); the score test at beta = 0
    uses its gradient and Hessian at zero. lifelines knows Efron's method only, so
    ``ties="breslow"`` is fitted by :func:`ctcbook.stats.survival.cox` with ``start``.

    References
    ----------
    .. [1] Mantel N, Byar DP. Evaluation of response-time data involving transient
       states: an illustration using heart-transplant data. J Am Stat Assoc
       1974;69:81-86.
    """
    covariates = list(covariates)
    if marker in covariates:
        raise ValueError("the marker must not also be listed among the fixed covariates")
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    long = counting_process(data, duration, event, marker, marker_day, covariates)
    na = data[covariates].isna()
    if na.to_numpy().any():
        raise ModelError(f"{int(na.any(axis=1).sum())} row(s) have missing values in column(s) "
                         f"{', '.join(repr(c) for c in covariates if na[c].any())}; "
                         "drop or impute them before fitting")
    long = long.rename(columns={"marker": marker})
    names = [marker, *covariates]
    if ties == "breslow":
        return cox(long, "stop", "event", names, ties="breslow", start="start")
    return _fit_time_varying(long, names)


#: lifelines' Newton-Raphson run to convergence (its defaults stop up to 1e-4 early).
TIGHT = {"precision": 1e-12, "r_precision": 1e-15}


def _fit_time_varying(long: pd.DataFrame, names: list[str]) -> CoxResult:
    """lifelines' CoxTimeVaryingFitter on counting-process rows, as a :class:`CoxResult`."""
    from lifelines import CoxTimeVaryingFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    bad = [c for c in names if not pd.api.types.is_numeric_dtype(long[c])]
    if bad:
        raise ModelError(f"covariate column {bad[0]!r} is not numeric (dtype {long[bad[0]].dtype}); "
                         "code it as numbers (e.g. 0/1 indicators) first")
    long = long.astype({c: float for c in names})
    x = long[names]
    if not long["event"].any():
        raise ModelError("there are no events, so no Cox model can be fitted")
    for c in names:
        if x[c].nunique() < 2:
            raise ModelError(f"covariate {c!r} is constant ({x[c].iloc[0]:g} for every row); "
                             "it has no effect to estimate")
    cols = ["id", "start", "stop", "event", *names]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ctv = CoxTimeVaryingFitter().fit(long[cols], id_col="id", event_col="event",
                                             start_col="start", stop_col="stop", fit_options=TIGHT)
        except ConvergenceError as err:
            raise ModelError("the information matrix is singular: a covariate is collinear with "
                             f"others or carries no information ({', '.join(map(repr, names))})"
                             ) from err
    failed = False
    for w in caught:  # lifelines' convergence heuristics are replaced by the check below
        if issubclass(w.category, ConvergenceWarning):
            failed |= any(k in str(w.message) for k in ("failed to converge", "suspiciously",
                                                        "still high"))
        else:
            warnings.warn(w.message, w.category, stacklevel=3)
    beta = ctv.params_.loc[names].to_numpy()
    runaway = np.abs(beta) * (x.max() - x.min()).to_numpy()
    if failed or not np.isfinite(beta).all() or np.any(runaway > 25.0):
        j = int(np.nanargmax(np.where(np.isfinite(runaway), runaway, np.inf)))
        raise ModelError(f"the coefficient of {names[j]!r} diverges (monotone likelihood: the "
                         f"events are completely separated by {names[j]!r}), so its hazard ratio "
                         "is infinite and the Cox model cannot be fitted")
    cov = ctv.variance_matrix_.to_numpy(dtype=float)  # rows and columns in the order of names
    lr = ctv.log_likelihood_ratio_test().test_statistic
    h0, g0, _ = CoxTimeVaryingFitter._get_gradients(
        x.to_numpy(dtype=float), long["event"].to_numpy(dtype=bool), long["start"].to_numpy(float),
        long["stop"].to_numpy(float), np.ones(len(long)), np.zeros(len(names)))
    score = float(g0 @ np.linalg.solve(-h0, g0))
    wald = float(beta @ np.linalg.solve(cov, beta))
    summary = ctv.summary.loc[names, ["coef", "se(coef)", "exp(coef)", "exp(coef) lower 95%",
                                      "exp(coef) upper 95%", "p"]]
    summary.columns = ["coef", "se", "hr", "hr_lower", "hr_upper", "p"]
    return cox_result(summary, cov, float(lr), wald, score, loglik=float(ctv.log_likelihood_),
                      loglik_null=float(ctv.log_likelihood_ - lr / 2), n=len(long),
                      events=int(long["event"].sum()), converged=True, iterations=0, ties="efron")


#: The analyses of :func:`compare_timepoint_analyses`: key -> display label.
TIMEPOINT_ANALYSES: dict[str, str] = {
    "naive_any": "Naive: any draw, from baseline",
    "naive_first_follow_up": "Naive: first follow-up, from baseline",
    "landmark": "Landmark",
    "time_varying": "Time-varying Cox",
}


def compare_timepoint_analyses(
    table: pd.DataFrame,
    landmark_day: float | None = None,
    endpoints: Sequence[str] = ("pfs", "os"),
    marker: str = "her2_pos_first_follow_up",
    marker_day: str = "day_first_follow_up",
    any_marker: str = "her2_pos_any",
) -> pd.DataFrame:
    """Four hazard ratios of a marker measured after time zero, naive and honest.

    For each endpoint: (1) ``any_marker`` ("positive at any draw") and (2) ``marker``
    compared from time zero, as if known at baseline (both naive); (3) a landmark
    analysis (:func:`landmark`) from ``landmark_day``; (4) a Cox model in which
    ``marker`` switches on at ``marker_day`` (:func:`cox_time_varying`).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient (:func:`ctcbook.cohort.rules.patient_table`), with columns
        ``<endpoint>_days`` and ``<endpoint>_event`` for every endpoint.
    landmark_day : float, optional
        Default: :func:`default_landmark_day` (the last ``marker_day`` of the table).
    endpoints : sequence of str
        Endpoint prefixes, e.g. ``("pfs", "os")``.
    marker, marker_day, any_marker : str
        The 0/1 marker (NaN = not measured), the day it was measured, and the
        "positive at any draw" marker.

    Returns
    -------
    pandas.DataFrame
        One row per endpoint and analysis (:data:`TIMEPOINT_ANALYSES`, in that order):
        ``endpoint``, ``analysis`` (key), ``label``, ``patients`` (in the analysis;
        the time-varying model uses every patient, an unmeasured marker counting as
        negative), ``events``, ``hr``, ``hr_lower``, ``hr_upper`` (95% Wald), ``p``
        (Wald), ``landmark_day`` and ``note`` (why a model could not be fitted, its
        numbers then NaN).

    References
    ----------
    .. [1] Suissa S. Immortal time bias in pharmaco-epidemiology. Am J Epidemiol
       2008;167:492-499. doi:10.1093/aje/kwm324
    """
    if landmark_day is None:
        landmark_day = default_landmark_day(table, marker_day)
    rows = []
    for ep in endpoints:
        dur, ev = f"{ep}_days", f"{ep}_event"
        lm = landmark(table, landmark_day, dur, ev, marker, marker_day)
        fits: dict[str, tuple[pd.DataFrame, str, bool]] = {
            "naive_any": (table.dropna(subset=[any_marker]), any_marker, False),
            "naive_first_follow_up": (table.dropna(subset=[marker]), marker, False),
            "landmark": (lm.dropna(subset=[marker]), marker, False),
            "time_varying": (table, marker, True),
        }
        for key, (data, covariate, varying) in fits.items():
            row = {"endpoint": ep, "analysis": key, "label": TIMEPOINT_ANALYSES[key],
                   "patients": len(data), "events": int(data[ev].sum()),
                   "landmark_day": float(landmark_day)}
            try:
                fit = (cox_time_varying(data, dur, ev, covariate, marker_day) if varying
                       else cox(data, dur, ev, [covariate]))
                s = fit.summary.iloc[0]
                row.update(hr=float(s["hr"]), hr_lower=float(s["hr_lower"]),
                           hr_upper=float(s["hr_upper"]), p=float(s["p"]), note="")
            except ModelError as err:
                row.update(hr=np.nan, hr_lower=np.nan, hr_upper=np.nan, p=np.nan, note=str(err))
            rows.append(row)
    cols = ["endpoint", "analysis", "label", "patients", "events", "hr", "hr_lower", "hr_upper",
            "p", "landmark_day", "note"]
    return pd.DataFrame(rows)[cols]


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
    patients. The curves are lifelines' ``KaplanMeierFitter().fit(stop, event,
    entry=start)`` on the rows of each group.

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
    from lifelines import KaplanMeierFitter

    long = counting_process(data, duration, event, marker, marker_day)
    out = []
    for grp in (0, 1):
        part = long[long["marker"] == grp]
        if part.empty:
            continue
        kmf = KaplanMeierFitter().fit(part["stop"], part["event"], entry=part["start"])
        t = kmf.event_table.join(kmf.survival_function_.set_axis(["survival"], axis=1))
        t = t[t.index > 0]
        out.append(pd.DataFrame({
            "group": grp, "time": t.index.to_numpy(float),
            # lifelines counts patients entering at t as at risk at t; here (start, stop]
            "at_risk": (t["at_risk"] - t["entrance"]).to_numpy(int),
            "entered": t["entrance"].to_numpy(int), "events": t["observed"].to_numpy(int),
            "censored": t["censored"].to_numpy(int), "survival": t["survival"].to_numpy()}))
    return pd.concat(out, ignore_index=True)
