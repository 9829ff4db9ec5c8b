"""Tests of ctcbook.stats.timevarying: landmark data, counting-process data, time-varying Cox."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from scipy import optimize

from ctcbook.stats.survival import ModelError, cox
from ctcbook.stats.timevarying import counting_process, cox_time_varying, landmark, simon_makuch


def patients() -> pd.DataFrame:
    """Five patients in the book's one-row-per-patient layout (hand-made)."""
    return pd.DataFrame(
        {
            "os_days": [100.0, 30.0, 200.0, 60.0, 90.0],
            "os_event": [1, 1, 0, 1, 0],
            "day_first_follow_up": [28.0, np.nan, 35.0, 60.0, 0.0],
            "her2_pos_first_follow_up": [1.0, np.nan, 0.0, 1.0, 1.0],
            "age": [50, 61, 45, 70, 58],
        },
        index=pd.Index(["p1", "p2", "p3", "p4", "p5"], name="patient"),
    )


# -------------------------------------------------------------------------- landmark


def test_landmark_by_hand():
    lm = landmark(patients(), 30, "os_days", "os_event",
                  marker="her2_pos_first_follow_up", marker_day="day_first_follow_up")
    # p2 ends exactly on day 30: not at risk after the landmark
    assert lm.index.tolist() == ["p1", "p3", "p4", "p5"]
    assert lm.os_days.tolist() == [70.0, 170.0, 30.0, 60.0]
    assert lm.os_event.tolist() == [1, 0, 1, 0]
    # p3 measured on day 35 and p4 on day 60: unknown at day 30
    assert lm.her2_pos_first_follow_up.tolist()[0] == 1.0
    assert np.isnan(lm.her2_pos_first_follow_up.tolist()[1])
    assert np.isnan(lm.her2_pos_first_follow_up.tolist()[2])
    assert lm.her2_pos_first_follow_up.tolist()[3] == 1.0
    assert (lm.landmark_day == 30).all()
    # the input is untouched
    assert patients().os_days.tolist() == [100.0, 30.0, 200.0, 60.0, 90.0]


def test_landmark_without_marker_and_errors():
    lm = landmark(patients(), 0, "os_days", "os_event")
    assert len(lm) == 5
    with pytest.raises(ValueError, match="both"):
        landmark(patients(), 10, "os_days", "os_event", marker="her2_pos_first_follow_up")
    with pytest.raises(ModelError, match="not found"):
        landmark(patients(), 10, "pfs_days", "os_event")


def test_default_landmark_day_is_the_last_draw():
    from ctcbook.stats.timevarying import default_landmark_day

    assert default_landmark_day(patients()) == 60.0  # p4's draw; p2 (never drawn) is ignored
    with pytest.raises(ModelError, match="not found"):
        default_landmark_day(patients(), "day_baseline")


# ---------------------------------------------------------------- counting process


def test_counting_process_by_hand():
    long = counting_process(patients(), "os_days", "os_event",
                            "her2_pos_first_follow_up", "day_first_follow_up", ["age"])
    expected = pd.DataFrame(
        {
            "id": ["p1", "p1", "p2", "p3", "p3", "p4", "p5"],
            "start": [0.0, 28.0, 0.0, 0.0, 35.0, 0.0, 0.0],
            "stop": [28.0, 100.0, 30.0, 35.0, 200.0, 60.0, 90.0],
            "event": [0, 1, 1, 0, 0, 1, 0],
            # p2 never measured; p4 measured on its last day (not while at risk);
            # p5 measured on day 0 (applies from time zero)
            "marker": [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            "age": [50, 50, 61, 45, 45, 70, 58],
        }
    )
    pd.testing.assert_frame_equal(long, expected, check_dtype=False)


@st.composite
def cohorts(draw):
    n = draw(st.integers(12, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    os_days = np.ceil(rng.exponential(300, n)) + 1
    if draw(st.booleans()):
        os_days = np.ceil(os_days / 30) * 30  # heavy ties
    day = np.where(rng.random(n) < 0.8, rng.integers(20, 60, n).astype(float), np.nan)
    her2 = np.where(np.isnan(day), np.nan, rng.integers(0, 2, n).astype(float))
    return pd.DataFrame(
        {
            "os_days": os_days,
            "os_event": (rng.random(n) < 0.7).astype(int),
            "day_first_follow_up": day,
            "her2_pos_first_follow_up": her2,
            "age": rng.normal(60, 8, n).round(),
        }
    )


@settings(deadline=None, max_examples=20, derandomize=True)
@given(cohorts(), st.booleans())
def test_cox_time_varying_lifelines_equals_the_counting_process_cox(df, with_age):
    """cox_time_varying fits with lifelines' CoxTimeVaryingFitter (tightened); the book's
    own counting-process Cox (``cox(..., start=...)``) must agree with it to 1e-6, on
    cohorts with and without heavy ties."""
    covs = ["age"] if with_age else []
    try:
        ours = cox_time_varying(df, "os_days", "os_event", "her2_pos_first_follow_up",
                                "day_first_follow_up", covs)
    except ModelError:
        assume(False)
    long = counting_process(df, "os_days", "os_event", "her2_pos_first_follow_up",
                            "day_first_follow_up", covs)
    long = long.rename(columns={"marker": "her2_pos_first_follow_up"})
    names = ["her2_pos_first_follow_up", *covs]
    ref = cox(long, "stop", "event", names, start="start")
    np.testing.assert_allclose(ours.summary.coef, ref.summary.coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours.summary.se, ref.summary.se, rtol=1e-6)
    np.testing.assert_allclose(ours.covariance, ref.covariance, rtol=1e-6, atol=1e-12)
    for name in ("loglik", "loglik_null", "lr_statistic", "wald_statistic", "score_statistic"):
        assert getattr(ours, name) == pytest.approx(getattr(ref, name), rel=1e-6, abs=1e-9), name
    assert ours.events == int(df.os_event.sum()) and ours.n == len(long)


def test_cox_time_varying_refuses_what_it_cannot_fit():
    df = patients()
    df["her2_pos_first_follow_up"] = 0.0  # nobody's marker switches on
    with pytest.raises(ModelError, match="constant"):
        cox_time_varying(df, "os_days", "os_event", "her2_pos_first_follow_up", "day_first_follow_up")
    df = patients()
    df.loc["p3", "age"] = np.nan
    with pytest.raises(ModelError, match="1 row.*'age'"):
        cox_time_varying(df, "os_days", "os_event", "her2_pos_first_follow_up",
                         "day_first_follow_up", ["age"])
    df = patients().assign(sex=["f", "m", "f", "m", "f"], flag=[True, False, True, False, False])
    with pytest.raises(ModelError, match="'sex' is not numeric"):
        cox_time_varying(df, "os_days", "os_event", "her2_pos_first_follow_up",
                         "day_first_follow_up", ["sex"])
    t = _cohort_like().assign(flag=lambda d: d["pfs_days"] > 200)  # a boolean is a 0/1 covariate
    args = ("os_days", "os_event", "her2_pos_first_follow_up", "day_first_follow_up")
    pd.testing.assert_frame_equal(cox_time_varying(t, *args, ["flag"]).summary,
                                  cox_time_varying(t.astype({"flag": float}), *args, ["flag"]).summary)
    with pytest.raises(ValueError, match="ties"):
        cox_time_varying(patients(), "os_days", "os_event", "her2_pos_first_follow_up",
                         "day_first_follow_up", ties="exact")


def test_cox_time_varying_by_hand():
    """Hand-derived partial likelihood (r = exp(b)).

    A: marker on from day 10, dies day 20. B: never measured, censored day 25.
    C: on from day 5, censored day 15. D: never measured, dies day 30.
    Day 20: at risk A (on), B, D (off): e^b / (e^b + 2). Day 30: only D: 1.
    L(b) = r / (r + 2) increases without bound, so the fit must be refused.

    Add E (on from day 1, censored day 40) and F (never measured, dies day 35):
    day 20: A, E on; B, D, F off: r / (2r + 3); day 30: D, F off, E on: 1 / (r + 2);
    day 35: E on, F off: 1 / (r + 1). Score 1 - 2r/(2r+3) - r/(r+2) - r/(r+1) = 0,
    information 6r/(2r+3)^2 + 2r/(r+2)^2 + r/(r+1)^2.
    """
    base = pd.DataFrame(
        {
            "t": [20.0, 25.0, 15.0, 30.0],
            "d": [1, 0, 0, 1],
            "day": [10.0, np.nan, 5.0, np.nan],
            "m": [1.0, np.nan, 1.0, np.nan],
        }
    )
    with pytest.raises(ModelError, match="diverges"):
        cox_time_varying(base, "t", "d", "m", "day")
    more = pd.concat(
        [base, pd.DataFrame({"t": [40.0, 35.0], "d": [0, 1], "day": [1.0, np.nan], "m": [1.0, np.nan]})],
        ignore_index=True,
    )
    res = cox_time_varying(more, "t", "d", "m", "day")

    def score(b):
        r = math.exp(b)
        return 1 - 2 * r / (2 * r + 3) - r / (r + 2) - r / (r + 1)

    b = optimize.brentq(score, -10, 10, xtol=1e-14)
    r = math.exp(b)
    info = 6 * r / (2 * r + 3) ** 2 + 2 * r / (r + 2) ** 2 + r / (r + 1) ** 2
    assert res.summary.loc["m", "coef"] == pytest.approx(b, abs=1e-9)
    assert res.summary.loc["m", "se"] == pytest.approx(1 / math.sqrt(info), rel=1e-9)
    loglik = b - math.log(2 * r + 3) - math.log(r + 2) - math.log(r + 1)
    assert res.loglik == pytest.approx(loglik, rel=1e-12)
    assert res.n == 9 and res.events == 3  # (start, stop] rows: A, C, E split


def test_guarantee_time_bias_shows_up():
    """A marker with no effect that can only be measured among survivors looks
    protective when analysed as fixed from time zero, and not when it switches on.
    With every draw on the same day, the time-varying fit equals the landmark fit at
    that day (before it everyone has marker 0, so those risk sets add nothing to the
    marker's score or information)."""
    rng = np.random.default_rng(0)
    n = 2000
    os_days = rng.exponential(200, n) + 1
    her2 = rng.integers(0, 2, n).astype(float)
    her2[os_days <= 60] = np.nan  # died before the draw
    df = pd.DataFrame({"os_days": os_days, "os_event": 1, "day": 60.0, "her2": her2})
    naive = cox(df.assign(pos=df.her2.fillna(0)), "os_days", "os_event", ["pos"])
    tv = cox_time_varying(df, "os_days", "os_event", "her2", "day")
    assert naive.summary.loc["pos", "hr"] < 0.8
    assert abs(tv.summary.loc["her2", "coef"]) < 3 * tv.summary.loc["her2", "se"]
    lm = cox(landmark(df, 60, "os_days", "os_event", "her2", "day"), "os_days", "os_event", ["her2"])
    np.testing.assert_allclose(tv.summary[["coef", "se"]], lm.summary[["coef", "se"]], rtol=1e-9)


def test_cox_time_varying_missing_outcome():
    df = patients()
    df.loc["p1", "os_days"] = np.nan
    with pytest.raises(ModelError, match="missing"):
        cox_time_varying(df, "os_days", "os_event", "her2_pos_first_follow_up", "day_first_follow_up")


# ------------------------------------------------------- compare_timepoint_analyses


def _cohort_like(n: int = 80, seed: int = 5) -> pd.DataFrame:
    """A simulated one-row-per-patient table with the book's column names."""
    rng = np.random.default_rng(seed)
    day = rng.integers(21, 29, n).astype(float)
    day[rng.random(n) < 0.08] = np.nan
    marker = np.where(np.isnan(day), np.nan, (rng.random(n) < 0.25) * 1.0)
    base = (rng.random(n) < 0.2) * 1.0
    out = pd.DataFrame({
        "day_first_follow_up": day,
        "her2_pos_first_follow_up": marker,
        "her2_pos_any": np.fmax(base, np.nan_to_num(marker)),
        "pfs_days": np.ceil(rng.exponential(250, n)),
        "pfs_event": (rng.random(n) < 0.85).astype(int),
    })
    out["os_days"] = out["pfs_days"] + np.ceil(rng.exponential(200, n))
    out["os_event"] = (rng.random(n) < 0.7).astype(int)
    return out


def _lifelines_row(data, dur, ev, marker, day):
    """HR, its 95% interval and the Wald p of ``marker`` fitted by lifelines (tightened):
    ``CoxTimeVaryingFitter`` on the (start, stop] rows when ``day`` is given, else
    ``CoxPHFitter``."""
    from lifelines import CoxPHFitter, CoxTimeVaryingFitter

    tight = {"precision": 1e-12, "r_precision": 1e-15}
    if day:
        long = counting_process(data, dur, ev, marker, day).rename(columns={"marker": marker})
        fit = CoxTimeVaryingFitter().fit(long, id_col="id", event_col="event", start_col="start",
                                         stop_col="stop", fit_options=tight)
    else:
        fit = CoxPHFitter().fit(data[[dur, ev, marker]], dur, ev, fit_options=tight)
    s = fit.summary.loc[marker]
    return {"hr": s["exp(coef)"], "hr_lower": s["exp(coef) lower 95%"],
            "hr_upper": s["exp(coef) upper 95%"], "p": s["p"]}


# lifelines' low-variance heuristic fires for a mostly-zero 0/1 marker (see above)
@pytest.mark.filterwarnings("ignore:Column .* have very low variance:lifelines.exceptions.ConvergenceWarning")
def test_compare_timepoint_analyses_equals_lifelines():
    from ctcbook.stats.timevarying import TIMEPOINT_ANALYSES, compare_timepoint_analyses

    t = _cohort_like()
    out = compare_timepoint_analyses(t)
    landmark_day = t["day_first_follow_up"].max()
    assert list(out["analysis"]) == list(TIMEPOINT_ANALYSES) * 2
    assert (out["landmark_day"] == landmark_day).all()
    for ep in ("pfs", "os"):
        dur, ev = f"{ep}_days", f"{ep}_event"
        lm = landmark(t, landmark_day, dur, ev, "her2_pos_first_follow_up", "day_first_follow_up")
        expected = {
            "naive_any": (t.dropna(subset=["her2_pos_any"]), "her2_pos_any", None),
            "naive_first_follow_up": (t.dropna(subset=["her2_pos_first_follow_up"]),
                                      "her2_pos_first_follow_up", None),
            "landmark": (lm.dropna(subset=["her2_pos_first_follow_up"]), "her2_pos_first_follow_up", None),
            "time_varying": (t, "her2_pos_first_follow_up", "day_first_follow_up"),
        }
        rows = out[out["endpoint"] == ep].set_index("analysis")
        for key, (data, marker, day) in expected.items():
            reference = _lifelines_row(data, dur, ev, marker, day)
            row = rows.loc[key]
            assert row["patients"] == len(data)
            assert row["events"] == data[ev].sum()
            for col, value in reference.items():  # lifelines stops with a score of ~1e-6
                rel = 1e-5 if col == "p" else 1e-6  # even tightened: p moves a little more
                assert row[col] == pytest.approx(value, rel=rel), (ep, key, col)
            assert row["note"] == ""


def test_compare_timepoint_analyses_reports_a_model_that_cannot_be_fitted():
    from ctcbook.stats.timevarying import compare_timepoint_analyses

    t = _cohort_like()
    # no positive patient is still at risk after the landmark: the landmark model fails
    early = t["her2_pos_first_follow_up"] == 1
    t.loc[early, "pfs_days"] = 10.0
    out = compare_timepoint_analyses(t, landmark_day=30.0, endpoints=["pfs"]).set_index("analysis")
    assert out.loc["landmark", "note"] != ""
    assert np.isnan(out.loc["landmark", "hr"])
    assert out.loc["naive_any", "note"] == ""


# ------------------------------------------------------------------------ Simon-Makuch


def test_simon_makuch_by_hand():
    """Five patients. A: dies day 10 (never positive). B: positive on day 5, dies day
    20. C: positive on day 15, censored day 30. D: measured negative on day 5, dies day
    25. E: positive on day 40 but dies day 35 (never counted positive).
    Group 0 (everyone until switching): B leaves on day 5, so on day 10 A, C, D and E
    are at risk, 1 death -> 3/4; C leaves on day 15; day 25: D and E at risk,
    1 death -> 3/4 * 1/2; day 35: E alone, 1 death -> 0.
    Group 1: B enters day 5, C day 15; day 20: B and C at risk, 1 death -> 1/2."""
    d = pd.DataFrame({
        "days": [10.0, 20.0, 30.0, 25.0, 35.0], "event": [1, 1, 0, 1, 1],
        "pos": [np.nan, 1.0, 1.0, 0.0, 1.0], "day": [np.nan, 5.0, 15.0, 5.0, 40.0]})
    c = simon_makuch(d, "days", "event", "pos", "day")
    g0 = c[c["group"] == 0].set_index("time")
    g1 = c[c["group"] == 1].set_index("time")
    assert g0.loc[10.0, "at_risk"] == 4 and g0.loc[10.0, "survival"] == pytest.approx(0.75)
    assert g0.loc[25.0, "at_risk"] == 2 and g0.loc[25.0, "survival"] == pytest.approx(0.375)
    assert g0.loc[35.0, "survival"] == pytest.approx(0.0)
    assert g1.loc[20.0, "at_risk"] == 2 and g1.loc[20.0, "survival"] == pytest.approx(0.5)
    assert g1.loc[5.0, "entered"] == 1 and g1.loc[30.0, "censored"] == 1


def test_simon_makuch_follows_its_definition():
    """On a random cohort with ties between entry and event days: at every time the
    risk set of a group is its rows with start < t <= stop, and the curve is the
    product of 1 - events / at risk (the extended Kaplan-Meier estimator)."""
    rng = np.random.default_rng(5)
    n = 60
    d = pd.DataFrame({"days": rng.exponential(200, n).round() + 1,
                      "event": (rng.random(n) < 0.7).astype(int),
                      "pos": rng.integers(0, 2, n).astype(float),
                      "day": rng.integers(10, 40, n).astype(float)})
    d.loc[:4, "days"] = d.loc[5:9, "day"].to_numpy()  # events on others' entry days
    c = simon_makuch(d, "days", "event", "pos", "day")
    long = counting_process(d, "days", "event", "pos", "day")
    for grp in (0, 1):
        part, mine = long[long["marker"] == grp], c[c["group"] == grp]
        at_risk = [int(((part.start < t) & (part.stop >= t)).sum()) for t in mine.time]
        assert mine["at_risk"].tolist() == at_risk
        deaths = [int(((part.stop == t) & (part.event == 1)).sum()) for t in mine.time]
        assert mine["events"].tolist() == deaths
        ratio = np.divide(deaths, at_risk, out=np.zeros(len(at_risk)), where=np.array(at_risk) > 0)
        np.testing.assert_allclose(mine["survival"], np.cumprod(1 - ratio), rtol=1e-12)


def test_simon_makuch_with_marker_known_at_zero_is_kaplan_meier():
    rng = np.random.default_rng(9)
    n = 40
    d = pd.DataFrame({"days": rng.exponential(100, n).round() + 1,
                      "event": (rng.random(n) < 0.8).astype(int),
                      "pos": rng.integers(0, 2, n).astype(float), "day": 0.0})
    c = simon_makuch(d, "days", "event", "pos", "day")
    for grp in (0, 1):
        m = d["pos"] == grp
        kmf = KaplanMeierFitter().fit(d.loc[m, "days"], d.loc[m, "event"])
        mine = c[c["group"] == grp].set_index("time")["survival"]
        np.testing.assert_allclose(mine.to_numpy(),
                                   kmf.survival_function_at_times(mine.index.to_numpy()).to_numpy())
