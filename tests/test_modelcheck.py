"""Model checks against published reference values.

Sources (copies of the data in tests/data, see its README); the proportional-hazards
test is in ``tests/test_ph.py``, Simon-Makuch curves in ``tests/test_timevarying.py``.

* RMST: ``survRM2`` vignette (Uno, 2017), ``rmst2(time, status, arm, tau = 10)`` on the
  312 randomized patients of R ``survival::pbc`` (time in years = days / 365.25,
  status 2 = death, arm 1 = D-penicillamine): RMST arm 1 7.146 (se 0.283, 6.592 to
  7.701), arm 0 7.283 (se 0.295, 6.704 to 7.863), difference -0.137 (-0.939 to 0.665),
  p 0.738.
* Multiplicity: Benjamini & Hochberg (1995), section 4.2: 15 p-values from a trial of
  thrombolytic treatment; the FDR procedure at q = 0.05 rejects the four smallest, the
  Bonferroni-type (Holm) procedure the three smallest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy import stats

from ctcbook.stats import modelcheck as mc

DATA = Path(__file__).parent / "data"


# -------------------------------------------------------------------------------- RMST


def test_rmst_matches_survrm2_vignette():
    pbc = pd.read_csv(DATA / "pbc_randomized.csv")
    assert len(pbc) == 312 and (pbc["trt"] == 1).sum() == 158
    r = mc.rmst_difference(pbc["time"] / 365.25, (pbc["status"] == 2).astype(int),
                           (pbc["trt"] == 1).astype(int), tau=10).set_index("quantity")
    np.testing.assert_allclose(r.loc["group 1", ["estimate", "se", "lower", "upper"]],
                               [7.146, 0.283, 6.592, 7.701], atol=5e-4)
    np.testing.assert_allclose(r.loc["group 0", ["estimate", "se", "lower", "upper"]],
                               [7.283, 0.295, 6.704, 7.863], atol=5e-4)
    np.testing.assert_allclose(r.loc["difference", ["estimate", "lower", "upper", "p"]],
                               [-0.137, -0.939, 0.665, 0.738], atol=5e-4)


def test_rmst_without_censoring_is_the_mean_of_truncated_times():
    t = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 1.5, 2.5, 5.0])
    e = np.ones_like(t)
    g = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    r = mc.rmst_difference(t, e, g, tau=4.0).set_index("quantity")
    assert r.loc["group 0", "estimate"] == pytest.approx(np.minimum(t[g == 0], 4).mean())
    assert r.loc["group 1", "estimate"] == pytest.approx(np.minimum(t[g == 1], 4).mean())


def test_rmst_default_tau_and_bad_input():
    t = np.array([1.0, 2.0, 3.0, 9.0, 1.0, 4.0])
    g = np.array([0, 0, 0, 0, 1, 1])
    r = mc.rmst_difference(t, np.ones(6), g)
    assert (r["tau"] == 4.0).all()
    with pytest.raises(ValueError, match="exceeds"):
        mc.rmst_difference(t, np.ones(6), g, tau=5.0)
    with pytest.raises(ValueError, match="0/1"):
        mc.rmst_difference(t, np.ones(6), np.zeros(6))


# ----------------------------------------------------------------------- multiplicity

BH1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
          0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]


def test_benjamini_hochberg_example():
    """BH (1995): at q = 0.05 the FDR procedure rejects 4 hypotheses, Holm 3."""
    bh = mc.adjust_pvalues(BH1995, "bh")
    holm = mc.adjust_pvalues(BH1995, "holm")
    assert (bh <= 0.05).sum() == 4
    assert (holm <= 0.05).sum() == 3
    # by definition: BH of the 4th smallest = min_j>=4 p_j * 15 / j = 0.0095 * 15 / 4
    assert bh[3] == pytest.approx(0.0095 * 15 / 4)
    # Holm: running maximum of p_(i) * (15 - i + 1): 0.0015, 0.0056, 0.0247, 0.114
    np.testing.assert_allclose(holm[:4], [0.0015, 0.0056, 0.0247, 0.114])
    assert holm[-1] == 1.0


def test_adjust_keeps_order_nan_and_checks_range():
    p = [0.04, np.nan, 0.01, 0.03]
    holm = mc.adjust_pvalues(p, "holm")
    assert np.isnan(holm[1])
    np.testing.assert_allclose(holm[[2, 3, 0]], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(mc.adjust_pvalues(p, "bonferroni")[[0, 2]], [0.12, 0.03])
    with pytest.raises(ValueError):
        mc.adjust_pvalues([1.2], "holm")
    with pytest.raises(ValueError, match="method"):
        mc.adjust_pvalues([0.1], "hommel")


# ------------------------------------------------------------ EPV, collinearity, value


def _toy_table(seed=3, n=120):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(float)
    b = np.where(rng.random(n) < 0.8, a, 1 - a)  # strongly associated with a
    c = rng.normal(size=n)
    t = rng.exponential(np.exp(-(0.7 * a + 0.5 * c)))
    return pd.DataFrame({"pfs_days": t, "pfs_event": (rng.random(n) < 0.8).astype(float),
                         "os_days": t * 2, "os_event": 1.0, "a": a, "b": b, "c": c})


def test_events_per_variable_counts():
    tab = _toy_table()
    r = mc.events_per_variable(tab, ["a", "b", "c"]).set_index("endpoint")
    assert r.loc["os", "events"] == 120 and r.loc["os", "events_per_variable"] == 40
    assert r.loc["pfs", "events"] == int(tab["pfs_event"].sum())
    small = min(int(tab.loc[tab["a"] == v, "pfs_event"].sum()) for v in (0, 1))
    small = min(small, *(int(tab.loc[tab["b"] == v, "pfs_event"].sum()) for v in (0, 1)))
    assert r.loc["pfs", "smallest_group_events"] == small


def test_collinearity_vif_two_covariates_is_one_over_one_minus_r2():
    tab = _toy_table()
    r = mc.collinearity(tab, ["a", "b"]).set_index("covariate")
    rho = np.corrcoef(tab["a"], tab["b"])[0, 1]
    assert r.loc["a", "vif"] == pytest.approx(1 / (1 - rho**2))
    assert r.loc["a", "with"] == "b" and r.loc["a", "max_abs_r"] == pytest.approx(abs(rho))


def test_added_value_lr_and_cindex_match_lifelines():
    tab = _toy_table()
    r = mc.added_value(tab, ["a"], ["c"], "pfs").set_index("model")
    d = tab[["pfs_days", "pfs_event", "a", "c"]]
    f0 = CoxPHFitter().fit(d[["pfs_days", "pfs_event", "a"]], "pfs_days", "pfs_event",
                           fit_options={"precision": 1e-12})
    f1 = CoxPHFitter().fit(d, "pfs_days", "pfs_event", fit_options={"precision": 1e-12})
    lr = 2 * (f1.log_likelihood_ - f0.log_likelihood_)
    assert r.loc["base + added", "lr_statistic"] == pytest.approx(lr, rel=1e-6)
    assert r.loc["base + added", "lr_p"] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-5)
    assert r.loc["base + added", "c_index"] == pytest.approx(f1.concordance_index_, abs=1e-9)
    assert r.loc["base", "c_index"] == pytest.approx(f0.concordance_index_, abs=1e-9)


# --------------------------------------------------------------------- the book's tests


def test_results_tests_on_the_shipped_cohort():
    import ctcbook as cb

    tests = mc.results_tests(cb.patient_table(cb.load_cohort()))
    assert set(tests["chapter"]) == {"04", "05", "06"}
    assert len(tests) == 6 + 20 + 6
    assert (tests["p_holm"] >= tests["p"]).all() and (tests["p_bh"] >= tests["p"] - 1e-15).all()
    assert (tests["p_holm"] >= tests["p_bh"] - 1e-15).all()
