"""Landmark analyses and Cox models with a marker that switches on during follow-up.

A marker measured at a follow-up visit (e.g. HER2-positive CTCs at the first follow-up
draw) is not known at time zero. Comparing patients by it as if it were ("positive at
follow-up" vs not, from time zero) credits the positive group with the time they had
to survive to be measured: guarantee-time (immortal-time) bias. Two remedies:

* :func:`landmark`: keep the patients still at risk at a landmark day, classify them by
  what was known by then, and measure time from the landmark;
* :func:`cox_time_varying`: a Cox model in which the marker switches on at the day it
  was measured (counting-process (start, stop] data, :func:`counting_process`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ctcbook.stats.survival import CoxResult, ModelError, cox

__all__ = ["landmark", "counting_process", "cox_time_varying", "TIMEPOINT_ANALYSES",
           "compare_timepoint_analyses"]


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
        ``marker``. ``n`` counts (start, stop] rows, not patients.

    Raises
    ------
    ModelError
        As :func:`ctcbook.stats.survival.cox` (e.g. no events while the marker is on).

    Notes
    -----
    The data are split with :func:`counting_process` and fitted with the counting-process
    partial likelihood (a row is at risk at t when start < t <= stop), i.e. R's
    ``coxph(Surv(start, stop, event) ~ marker + ..., data = tmerge(...))`` and lifelines'
    ``CoxTimeVaryingFitter``.

    References
    ----------
    .. [1] Andersen PK, Gill RD. Cox's regression model for counting processes: a large
       sample study. Ann Stat 1982;10:1100-1120.
    .. [2] Mantel N, Byar DP. Evaluation of response-time data involving transient
       states: an illustration using heart-transplant data. J Am Stat Assoc
       1974;69:81-86.
    """
    covariates = list(covariates)
    if marker in covariates:
        raise ValueError("the marker must not also be listed among the fixed covariates")
    long = counting_process(data, duration, event, marker, marker_day, covariates)
    long = long.rename(columns={"marker": marker})
    return cox(long, "stop", "event", [marker, *covariates], ties=ties, start="start")


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
        Default: the last ``marker_day`` of the table (every draw known by then).
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
    .. [1] Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response.
       J Clin Oncol 1983;1:710-719.
    .. [2] Suissa S. Immortal time bias in pharmaco-epidemiology. Am J Epidemiol
       2008;167:492-499. doi:10.1093/aje/kwm324
    """
    if landmark_day is None:
        landmark_day = float(table[marker_day].max())
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
