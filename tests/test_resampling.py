"""Bootstrap, permutation and leave-one-out functions checked on known cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from ctcbook.stats.resampling import (
    bootstrap,
    cox_binary_rows,
    km_median_rows,
    logrank_rows,
    permutation_logrank,
    sensitivity,
)
from ctcbook.stats.survival import cox, logrank, median_survival


@pytest.fixture(scope="module")
def data():
    """Integer days (many ties), a small group of 7 among 40."""
    rng = np.random.default_rng(11)
    n = 40
    g = np.zeros(n, int)
    g[:7] = 1
    t = np.ceil(rng.exponential(np.where(g == 1, 60, 150)) / 10).astype(float)
    e = (rng.random(n) < 0.75).astype(int)
    return t, e, g


def test_logrank_rows_matches_survival(data):
    t, e, g = data
    rng = np.random.default_rng(0)
    labels = np.array([rng.permutation(g) for _ in range(20)])
    rows = logrank_rows(t, e, labels)["statistic"]
    ref = [logrank(t, e, lab).statistic for lab in labels]
    assert rows == pytest.approx(ref, rel=1e-10)


def test_cox_rows_matches_survival_with_ties_and_weights(data):
    t, e, g = data
    w = np.random.default_rng(1).integers(0, 3, t.size)
    df = pd.DataFrame({"t": t, "e": e, "g": g})
    rep = df.loc[df.index.repeat(w)]
    got = cox_binary_rows(t, e, g, np.vstack([np.ones(t.size), w]))
    assert got[0] == pytest.approx(cox(df, "t", "e", ["g"]).params.iloc[0], abs=1e-8)
    assert got[1] == pytest.approx(cox(rep, "t", "e", ["g"]).params.iloc[0], abs=1e-8)


def test_cox_rows_monotone_likelihood():
    t = np.arange(1.0, 9.0)
    g = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    e_none_in_1 = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    e_all_early_1 = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    got = cox_binary_rows(t, np.vstack([e_none_in_1, e_all_early_1]), g)
    assert got[0] == -np.inf
    assert got[1] == np.inf
    assert np.isnan(cox_binary_rows(t, e_none_in_1, np.zeros(8)))[0]


def test_km_median_rows(data):
    t, e, g = data
    for mask in (g == 1, g == 0):
        assert km_median_rows(t, e, mask)[0] == median_survival(t[mask], e[mask]).median
    # never below one half: infinite
    assert km_median_rows([1.0, 2.0, 3.0], [1, 0, 0])[0] == np.inf


def test_permutation_exact_known_case():
    """Three deaths in group 1 before three censorings in group 0: of the C(6, 3) = 20
    labellings only this one and its mirror image are as extreme, so p = 2 / 20."""
    t = np.arange(1.0, 7.0)
    e = np.array([1, 1, 1, 0, 0, 0])
    g = np.array([1, 1, 1, 0, 0, 0])
    res = permutation_logrank(t, e, g)
    assert res.exact and res.n_permutations == 20
    assert res.p_value == pytest.approx(0.1)


def test_permutation_exact_matches_brute_force(data):
    t, e, g = data
    t, e = t[:12], e[:12]
    g = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    obs = logrank(t, e, g).statistic
    count = 0
    for idx in itertools.combinations(range(12), 3):
        lab = np.zeros(12, int)
        lab[list(idx)] = 1
        count += logrank(t, e, lab).statistic >= obs * (1 - 1e-9)
    res = permutation_logrank(t, e, g)
    assert res.exact and res.n_permutations == math.comb(12, 3)
    assert res.p_value == pytest.approx(count / math.comb(12, 3))


def test_permutation_monte_carlo_agrees_with_exact(data):
    t, e, g = data
    t, e, g = t[:20], e[:20], np.r_[np.ones(4, int), np.zeros(16, int)]
    exact = permutation_logrank(t, e, g)
    mc = permutation_logrank(t, e, g, n_permutations=20000, max_exact=10, seed=2)
    assert exact.exact and not mc.exact
    assert abs(mc.p_value - exact.p_value) < 4 * mc.mc_se + 1e-4


def test_permutation_is_valid_under_null():
    """Under no effect, P(p <= 0.05) <= 0.05 (up to Monte Carlo error over 400 data sets)."""
    rng = np.random.default_rng(5)
    rejections = 0
    for _ in range(400):
        t = rng.exponential(1.0, 30)
        e = rng.random(30) < 0.8
        g = np.r_[np.ones(5, int), np.zeros(25, int)]
        rejections += permutation_logrank(t, e, g, n_permutations=199, max_exact=0,
                                          seed=int(rng.integers(1000))).p_value <= 0.05
    assert rejections / 400 <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)


def test_bootstrap_known_case():
    """Exponential data with a true HR of 3: the percentile interval covers the Cox
    estimate, and a stratified bootstrap keeps the group sizes (so never undefined)."""
    rng = np.random.default_rng(3)
    n = 300
    g = (rng.random(n) < 0.3).astype(int)
    t = rng.exponential(1.0 / np.where(g == 1, 3.0, 1.0))
    e = np.ones(n, int)
    res = bootstrap(t, e, g, n_boot=1000, seed=0)
    hr = res.summary.set_index("quantity").loc["hazard_ratio"]
    assert hr["ci_lower"] < hr["estimate"] < hr["ci_upper"]
    assert hr["ci_lower"] < 3.0 < hr["ci_upper"]
    assert hr["share_undefined"] == 0
    # the median of an exponential with rate 1 is log 2
    m0 = res.summary.set_index("quantity").loc["median_0"]
    assert m0["ci_lower"] < math.log(2) < m0["ci_upper"]
    # the bootstrap SD of log HR is close to the Cox standard error
    se = cox(pd.DataFrame({"t": t, "e": e, "g": g}), "t", "e", ["g"]).summary["se"].iloc[0]
    assert np.std(res.replicates["log_hr"]) == pytest.approx(se, rel=0.15)


def test_bootstrap_deterministic(data):
    t, e, g = data
    a = bootstrap(t, e, g, n_boot=200, seed=4)
    b = bootstrap(t, e, g, n_boot=200, seed=4)
    assert a.summary.equals(b.summary)


def test_sensitivity(data):
    t, e, g = data
    s = sensitivity(t, e, g)
    assert len(s) == 1 + 2 * t.size
    none = s.iloc[0]
    assert none["p_value"] == pytest.approx(logrank(t, e, g).p_value)
    # leave patient 0 out
    row = s[(s["change"] == "left out") & (s["patient"] == 0)].iloc[0]
    assert row["p_value"] == pytest.approx(logrank(t[1:], e[1:], g[1:]).p_value)
    # change patient 3's outcome
    e2 = e.copy()
    e2[3] = 1 - e2[3]
    row = s[(s["change"] == "outcome changed") & (s["patient"] == 3)].iloc[0]
    assert row["p_value"] == pytest.approx(logrank(t, e2, g).p_value)
    df = pd.DataFrame({"t": t, "e": e2, "g": g})
    assert np.log(row["hazard_ratio"]) == pytest.approx(cox(df, "t", "e", ["g"]).params.iloc[0], abs=1e-8)


# ------------------------------------------------------------------ per endpoint


def test_stability_and_summary_equal_direct_calls(data):
    """stability() is bootstrap + permutation + sensitivity on one endpoint: the wiring is
    checked against direct calls, the log-rank p against lifelines."""
    from lifelines.statistics import logrank_test

    from ctcbook.stats.resampling import stability, stability_summary

    t, e, g = data
    table = pd.DataFrame({"pfs_days": t, "pfs_event": e, "os_days": t * 2, "os_event": 1 - e,
                          "grp": g.astype(float), "patient_id": [f"P{i:02d}" for i in range(t.size)]})
    table.loc[3, "grp"] = np.nan  # left out
    results = [stability(table, ep, group="grp", n_boot=300, n_permutations=2000, seed=8)
               for ep in ("pfs", "os")]
    summary = stability_summary(results)
    assert list(summary["endpoint"]) == ["pfs", "os"]
    d = table.dropna(subset=["grp"])
    for r, (_, row) in zip(results, summary.iterrows(), strict=True):
        ep = r.endpoint
        args = (d[f"{ep}_days"], d[f"{ep}_event"], d["grp"])
        boot = bootstrap(*args, n_boot=300, seed=8)
        perm = permutation_logrank(*args, n_permutations=2000, seed=8)
        sens = sensitivity(*args, ids=d["patient_id"])
        assert r.bootstrap.summary.equals(boot.summary)
        assert r.permutation == perm
        assert r.sensitivity.equals(sens)
        assert (r.n, r.n_group) == (len(d), int(d["grp"].sum()))
        hr = boot.summary.set_index("quantity").loc["hazard_ratio"]
        assert (row["hazard_ratio"], row["hr_lower"], row["hr_upper"]) == (
            hr["estimate"], hr["ci_lower"], hr["ci_upper"])
        assert (row["p_logrank"], row["p_permutation"]) == (perm.p_asymptotic, perm.p_value)
        g1 = d["grp"] == 1  # the value itself, against lifelines
        lr = logrank_test(d[f"{ep}_days"][g1], d[f"{ep}_days"][~g1], d[f"{ep}_event"][g1],
                          d[f"{ep}_event"][~g1])
        assert row["p_logrank"] == pytest.approx(lr.p_value, rel=1e-8)
        left = sens.loc[sens["change"] == "left out", "p_value"]
        changed = sens.loc[sens["change"] == "outcome changed", "p_value"]
        assert (row["p_left_out_min"], row["p_left_out_max"]) == (left.min(), left.max())
        assert (row["p_changed_min"], row["p_changed_max"]) == (changed.min(), changed.max())
        assert (row["n_boot"], row["n_permutations"]) == (300, perm.n_permutations)


def test_km_median_rows_follows_r_rule_with_weights():
    """Weighted rows equal median_survival on the expanded data, midpoints included."""
    t = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    e = np.array([1, 1, 1, 1, 0])
    w = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [2, 0, 0, 1, 0], [1, 0, 1, 0, 2], [0, 1, 1, 0, 0]])
    got = km_median_rows(t, e, w)
    for row, weights in zip(got, w, strict=True):
        expanded = np.repeat(np.arange(t.size), weights)
        assert row == median_survival(t[expanded], e[expanded]).median
    assert got[0] == 2.5 and got[1] == 1.5


# ------------------------------------------------------------------ large cohorts


@pytest.fixture(scope="module")
def larger():
    """300 patients in whole days (ties), 15% in group 1, a true HR of about 1.8."""
    rng = np.random.default_rng(21)
    n = 300
    g = (rng.random(n) < 0.15).astype(int)
    t = np.ceil(rng.exponential(np.where(g == 1, 200, 360)))
    e = (rng.random(n) < 0.7).astype(int)
    return t, e, g


def test_chunked_rows_give_the_same_numbers(larger, monkeypatch):
    """Memory-bounded chunks (here of 7 rows) do not change a single number: the same
    random streams, the same arithmetic per row."""
    import ctcbook.stats._engine.curves as engine

    t, e, g = larger
    whole_boot = bootstrap(t, e, g, n_boot=50, seed=3)
    whole_perm = permutation_logrank(t, e, g, n_permutations=60, seed=3)
    monkeypatch.setattr(engine, "CELLS", 7 * t.size)
    chunked_boot = bootstrap(t, e, g, n_boot=50, seed=3)
    chunked_perm = permutation_logrank(t, e, g, n_permutations=60, seed=3)
    pd.testing.assert_frame_equal(chunked_boot.replicates, whole_boot.replicates)
    pd.testing.assert_frame_equal(chunked_boot.summary, whole_boot.summary)
    assert chunked_perm == whole_perm


def test_sensitivity_closed_form_equals_refits(larger):
    """The prefix/suffix-sum log-rank of every variation equals a direct test on the
    changed data (checked on a sample of patients)."""
    t, e, g = larger
    s = sensitivity(t, e, g)
    for i in (0, 1, 17, 150, 299):
        keep = np.arange(t.size) != i
        left = s[(s["change"] == "left out") & (s["patient"] == i)].iloc[0]
        assert left["p_value"] == pytest.approx(logrank(t[keep], e[keep], g[keep]).p_value,
                                                rel=1e-9)
        e2 = e.copy()
        e2[i] = 1 - e2[i]
        changed = s[(s["change"] == "outcome changed") & (s["patient"] == i)].iloc[0]
        assert changed["p_value"] == pytest.approx(logrank(t, e2, g).p_value, rel=1e-9)
        df = pd.DataFrame({"t": t[keep], "e": e[keep], "g": g[keep]})
        assert np.log(left["hazard_ratio"]) == pytest.approx(
            cox(df, "t", "e", ["g"]).params.iloc[0], abs=1e-8)


def test_sensitivity_one_step_hazard_ratios_are_close_to_refits(larger, monkeypatch):
    """Above SENSITIVITY_EXACT_COX_MAX patients the hazard ratios are one Halley-corrected
    Newton step from the full-data estimate: within 1e-3 on the log scale at worst and
    1e-7 typically here (300 patients; the error shrinks like the cube of the change a
    patient makes), p-values identical."""
    import ctcbook.stats.resampling as rs

    t, e, g = larger
    exact = sensitivity(t, e, g)
    monkeypatch.setattr(rs, "SENSITIVITY_EXACT_COX_MAX", 10)
    approx = sensitivity(t, e, g)
    np.testing.assert_array_equal(approx["p_value"], exact["p_value"])
    diff = np.abs(np.log(approx["hazard_ratio"]) - np.log(exact["hazard_ratio"]))
    assert diff.max() < 1e-3 and diff.median() < 1e-7
    assert diff.iloc[0] == 0  # the full data: the same fit


def test_sensitivity_one_step_keeps_monotone_variations(monkeypatch):
    """Monotone likelihoods (HR 0 or infinity) are found exactly on the one-step path:
    here group 1's only death comes first, so the full-data HR is infinite, and leaving
    that patient out leaves group 1 without deaths (HR 0, as the refit says)."""
    import ctcbook.stats.resampling as rs

    t = np.arange(1.0, 21.0)
    g = np.r_[np.ones(4, int), np.zeros(16, int)]
    e = np.r_[[1, 0, 0, 0], np.ones(16, int)]
    exact = sensitivity(t, e, g)
    monkeypatch.setattr(rs, "SENSITIVITY_EXACT_COX_MAX", 5)
    approx = sensitivity(t, e, g)
    row = approx[(approx["change"] == "left out") & (approx["patient"] == 0)].iloc[0]
    assert row["hazard_ratio"] == 0.0
    pd.testing.assert_series_equal(approx["hazard_ratio"], exact["hazard_ratio"])
