"""Tests of ctcbook.stats.cutpoints against lifelines and R maxstat's published output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifelines import NelsonAalenFitter
from lifelines.statistics import logrank_test

from ctcbook.stats.cutpoints import _p_lausen92, _p_lausen94, logrank_scores, logrank_sweep, maxstat
from ctcbook.stats.survival import logrank

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def dlbcl() -> pd.DataFrame:
    return pd.read_csv(DATA / "maxstat_DLBCL.csv")


@pytest.fixture(scope="module")
def hohnloser() -> pd.DataFrame:
    return pd.read_csv(DATA / "maxstat_hohnloser.csv")


@st.composite
def marker_data(draw, min_n=4, max_n=40):
    n = draw(st.integers(min_n, max_n))
    time = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    marker = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=float)
    return time, event, marker


# ----------------------------------------------------------------- logrank_sweep


@settings(deadline=None, max_examples=40, derandomize=True)
@given(marker_data())
def test_sweep_equals_lifelines_per_cutpoint(data):
    """Ties in time and in marker; every default cutpoint against lifelines' logrank_test."""
    time, event, marker = data
    assume(np.unique(marker).size >= 2 and event.any())
    sweep = logrank_sweep(time, event, marker)
    assert sweep.cutpoint.tolist() == np.unique(marker)[1:].tolist()
    for row in sweep.itertuples():
        high = marker >= row.cutpoint
        ref = logrank_test(time[high], time[~high], event[high], event[~high])
        assert row.statistic == pytest.approx(ref.test_statistic, abs=1e-8, rel=1e-8)
        assert row.p_value == pytest.approx(ref.p_value, abs=1e-8)
        assert (row.n_high, row.n_low) == (high.sum(), (~high).sum())
        assert (row.events_high, row.events_low) == (event[high].sum(), event[~high].sum())


@settings(deadline=None, max_examples=30, derandomize=True)
@given(marker_data(min_n=6))
def test_sweep_sign_and_hazard_ratio(data):
    """z > 0 when the high group has more events than expected; HR = exp((O - E) / V)
    with O, E from the k-group log-rank table and V = (O - E)^2 / chi-square (lifelines)."""
    time, event, marker = data
    assume(np.unique(marker).size >= 2 and event.any())
    cut = np.unique(marker)[1]
    high = marker >= cut
    row = logrank_sweep(time, event, marker, cutpoints=[cut]).iloc[0]
    tab = logrank(time, event, high).table.set_index("group")
    o_e = tab.loc[True, "observed"] - tab.loc[True, "expected"]
    chi2 = logrank_test(time[high], time[~high], event[high], event[~high]).test_statistic
    assume(abs(o_e) > 1e-9 and chi2 > 1e-9)
    assert np.sign(row.z) == np.sign(o_e)
    assert row.hazard_ratio == pytest.approx(np.exp(chi2 / o_e), rel=1e-8)


def test_sweep_user_cutpoints_and_empty_group():
    time = [1, 2, 3, 4, 5, 6]
    event = [1, 0, 1, 1, 0, 1]
    marker = [1, 2, 3, 4, 5, 6]
    sweep = logrank_sweep(time, event, marker, cutpoints=[0.5, 3.5, 10])
    assert sweep.n_high.tolist() == [6, 3, 0]
    assert np.isnan(sweep.statistic.iloc[0]) and np.isnan(sweep.statistic.iloc[2])
    assert np.isfinite(sweep.statistic.iloc[1])


def test_sweep_large_default_is_chunked():
    """n = 3000 with ~3000 default cutpoints (several chunks) matches lifelines at a few."""
    rng = np.random.default_rng(3)
    n = 3000
    time = rng.exponential(size=n).round(2)
    event = rng.random(n) < 0.6
    marker = rng.normal(size=n).round(3)
    sweep = logrank_sweep(time, event, marker)
    for i in (0, 777, len(sweep) - 1):
        high = marker >= sweep.cutpoint.iloc[i]
        ref = logrank_test(time[high], time[~high], event[high], event[~high])
        assert sweep.statistic.iloc[i] == pytest.approx(ref.test_statistic, abs=1e-8, rel=1e-8)


# ------------------------------------------------------------------------ maxstat


def test_logrank_scores_without_ties_are_delta_minus_nelson_aalen():
    rng = np.random.default_rng(0)
    time = rng.permutation(50) + 1.0
    event = rng.random(50) < 0.7
    naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(time, event)
    cumhaz = naf.cumulative_hazard_.iloc[:, 0].loc[time].to_numpy()
    np.testing.assert_allclose(logrank_scores(time, event), event - cumhaz, atol=1e-12)


def test_maxstat_dlbcl_published(dlbcl):
    """R maxstat, ``tests/Examples/maxstat-Ex.Rout.save`` (help page ``?DLBCL``):

    ``maxstat.test(Surv(time, cens) ~ MGE, data = DLBCL, smethod = "LogRank")`` prints
    M = 3.1772, estimated cutpoint 0.1860526; with ``pmethod = "condMC", B = 9999``
    M = 3.1772, p = 0.0102 (Monte Carlo; our 10,000 seeded permutations must agree
    within Monte Carlo error, SE ~ 0.001).
    """
    res = maxstat(dlbcl.time, dlbcl.cens, dlbcl.MGE)
    assert res.statistic == pytest.approx(3.1772, abs=5e-5)
    assert res.cutpoint == pytest.approx(0.1860526, abs=5e-8)
    assert res.p_permutation == pytest.approx(0.0102, abs=0.005)
    assert res.n_permutations == 10_000
    assert res.table.statistic.max() == res.statistic


def test_maxstat_dlbcl_published_p_formulas(dlbcl):
    """Same Rout.save: with integer scores (``iscores = TRUE``, not implemented here) R
    prints M = 3.171 and p = 0.03611 (Lau92) and 0.02435 (Lau94). Both p-values depend
    only on M, the proportions and the candidate low-group sizes m (the same 3.171 vs
    3.1772 data set, same cutpoints), so evaluating our formulas at the published M
    checks them against R."""
    res = maxstat(dlbcl.time, dlbcl.cens, dlbcl.MGE, n_permutations=0)
    assert _p_lausen92(3.171, 0.1, 0.9) == pytest.approx(0.03611, abs=5e-6)
    m = res.table.n_low.to_numpy()
    assert _p_lausen94(3.171, len(dlbcl), m) == pytest.approx(0.02435, abs=5e-6)
    assert np.isnan(res.p_permutation)


def test_maxstat_hohnloser_published(hohnloser):
    """R maxstat, ``tests/Examples/maxstat-Ex.Rout.save`` (help page ``?hohnloser``):

    ``maxstat.test(Surv(month, cens) ~ EF, data = hohnloser, smethod = "LogRank",
    pmethod = ...)``: M = 3.5691, cutpoint 39; Lau92 p = 0.01065; Lau94 p = 0.005453;
    condMC (B = 9999) p = 0.0045 (Monte Carlo, SE ~ 0.0007).
    """
    res = maxstat(hohnloser.month, hohnloser.cens, hohnloser.EF)
    assert res.statistic == pytest.approx(3.5691, abs=5e-5)
    assert res.cutpoint == 39
    assert res.p_lau92 == pytest.approx(0.01065, abs=5e-6)
    assert res.p_lau94 == pytest.approx(0.005453, abs=5e-7)
    assert res.p_permutation == pytest.approx(0.0045, abs=0.003)


def test_p_lausen_documented_examples():
    """R maxstat help pages: ``pLausen94(2.5, 20, 0.25, 0.75)`` rounds to 0.073
    (Lausen et al. 1994, p. 489); ``qLausen92(0.05, 0.1, 0.9)`` = 3.054 (Lausen &
    Schumacher 1992, Table 2), i.e. pLausen92(3.054) is about 0.05."""
    m = np.arange(np.floor(20 * 0.25), np.floor(20 * 0.75) + 1)
    assert round(_p_lausen94(2.5, 20, m), 3) == 0.073
    assert _p_lausen92(3.054, 0.1, 0.9) == pytest.approx(0.05, abs=5e-4)


def test_maxstat_seeded_and_deterministic(dlbcl):
    a = maxstat(dlbcl.time, dlbcl.cens, dlbcl.MGE, n_permutations=2000, seed=7)
    b = maxstat(dlbcl.time, dlbcl.cens, dlbcl.MGE, n_permutations=2000, seed=7)
    assert a.p_permutation == b.p_permutation
    assert 0 <= a.p_permutation <= 1


def test_maxstat_candidates_follow_r_rule():
    # 10 distinct values, N = 10: floor(1) <= m <= floor(9), the largest value excluded
    rng = np.random.default_rng(5)
    time = rng.exponential(size=10)
    event = np.ones(10, dtype=bool)
    marker = np.arange(10.0)
    res = maxstat(time, event, marker, n_permutations=0)
    assert res.table.n_low.tolist() == list(range(1, 10))
    assert res.table.cutpoint.tolist() == list(range(0, 9))
    res = maxstat(time, event, marker, min_prop=0.25, max_prop=0.75, n_permutations=0)
    assert res.table.n_low.tolist() == [2, 3, 4, 5, 6, 7]


def test_maxstat_bad_arguments():
    with pytest.raises(ValueError, match="min_prop"):
        maxstat([1, 2, 3], [1, 1, 1], [1, 2, 3], min_prop=0.9, max_prop=0.1)
    with pytest.raises(ValueError, match="missing"):
        maxstat([1, 2, 3], [1, 1, 1], [1, np.nan, 3])


# ---------------------------------------------------------------- best_cutpoints


def test_best_cutpoints_picks_maxstat_and_reports_lifelines_logrank():
    """best_cutpoints per marker: maxstat's cutpoint (its own R references are above), the
    patients at or above it, and the log-rank p there, against lifelines' ``logrank_test``."""
    from lifelines.statistics import logrank_test
    from scipy import stats

    from ctcbook.stats.cutpoints import best_cutpoints

    rng = np.random.default_rng(3)
    n = 60
    table = pd.DataFrame({
        "t": rng.exponential(100, n).round() + 1,
        "e": (rng.random(n) < 0.7).astype(int),
        "a": rng.poisson(3, n).astype(float),
        "b": rng.integers(0, 12, n).astype(float),
    })
    table.loc[[2, 5, 9], "b"] = np.nan
    out = best_cutpoints(table, {"a": "Marker A", "b": "Marker B"}, "t", "e",
                         n_permutations=500, seed=4)
    assert list(out["marker"]) == ["a", "b"]
    assert list(out["label"]) == ["Marker A", "Marker B"]
    for _, row in out.iterrows():
        d = table.dropna(subset=[row["marker"]])
        ms = maxstat(d["t"], d["e"], d[row["marker"]], n_permutations=500, seed=4)
        values = np.sort(d[row["marker"]].unique())
        threshold = values[values > ms.cutpoint].min()
        high = (d[row["marker"]] >= threshold).to_numpy()
        lr = logrank_test(d["t"][high], d["t"][~high], d["e"][high], d["e"][~high])
        assert row["n"] == len(d)
        assert row["threshold"] == threshold
        assert row["n_high"] == high.sum()
        assert row["p_logrank"] == pytest.approx(lr.p_value, rel=1e-8)
        assert row["statistic"] == ms.statistic
        assert row["p_naive"] == pytest.approx(2 * stats.norm.sf(ms.statistic))
        assert (row["p_lau92"], row["p_lau94"], row["p_permutation"]) == (
            ms.p_lau92, ms.p_lau94, ms.p_permutation)
        assert row["note"] == ""


def test_best_cutpoints_marker_without_candidates_gives_a_note():
    from ctcbook.stats.cutpoints import best_cutpoints

    table = pd.DataFrame({"t": [5.0, 8, 3, 9, 4, 7, 6, 2, 1, 10], "e": [1, 0, 1, 1, 0, 1, 1, 0, 1, 1],
                          "flat": [0.0] * 10, "ok": np.arange(10.0)})
    out = best_cutpoints(table, ["flat", "ok"], "t", "e", n_permutations=0)
    flat = out.set_index("marker").loc["flat"]
    assert np.isnan(flat["p_naive"]) and pd.isna(flat["n_high"])
    assert "no candidate cutpoint" in flat["note"]
    assert out.set_index("marker").loc["ok", "note"] == ""
    assert str(out["n_high"].dtype) == "Int64"


def test_best_cutpoints_one_candidate_says_no_search():
    """A 0/1-like marker with one threshold in the window: nothing to correct for.

    The naive p (permutation variance of the log-rank scores) then equals Lau94, and
    differs from the log-rank p (hypergeometric variance) although the numerator, O - E,
    is the same: checked here from the two variances computed by hand.
    """
    from ctcbook.stats.cutpoints import best_cutpoints, logrank_scores
    from ctcbook.stats.survival import logrank

    rng = np.random.default_rng(8)
    n = 40
    x = np.r_[np.zeros(34), np.ones(6)]
    t = np.r_[rng.exponential(300, 34), rng.exponential(40, 6)] + 1  # no ties
    e = np.ones(n, int)
    table = pd.DataFrame({"t": t, "e": e, "x": x})
    row = best_cutpoints(table, ["x"], "t", "e", n_permutations=0).iloc[0]
    assert row["n_candidates"] == 1 and row["note"] == "one candidate, no search"
    assert row["p_naive"] == pytest.approx(row["p_lau94"], rel=1e-12)
    a = logrank_scores(t, e)
    s_high = a[x == 1].sum()
    lr = logrank(t, e, x)
    o_e = float(lr.table.set_index("group").loc[1.0, "observed"] - lr.table.set_index("group").loc[1.0, "expected"])
    assert s_high == pytest.approx(o_e, rel=1e-10)  # same numerator
    m, big_n = 6, n
    v_perm = m * (big_n - m) / (big_n**2 * (big_n - 1)) * (big_n * (a**2).sum() - a.sum() ** 2)
    assert row["statistic"] == pytest.approx(abs(o_e) / np.sqrt(v_perm), rel=1e-10)
    v_logrank = o_e**2 / lr.statistic  # the hypergeometric variance
    assert v_logrank < v_perm  # early events in the small group: a smaller variance
    assert row["p_logrank"] < row["p_naive"]
