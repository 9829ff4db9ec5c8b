"""Model checks against published reference values.

Sources (copies of the data in tests/data, see its README):

* Proportional hazards, classic Grambsch-Therneau test (R ``survival`` < 3.0 ``cox.zph``,
  what lifelines computes): R ``survival::ovarian``,
  ``cox.zph(coxph(Surv(futime, fustat) ~ rx + resid.ds + age_group, ovarian))`` with
  factors rx (B vs A), resid.ds (yes vs no) and age_group (young = age < 50 vs old),
  transform "km", as printed in a published tutorial run on survival 2.x:
  rho 0.269 / -0.415 / -0.226, chisq 0.744 / 1.550 / 0.660, p 0.388 / 0.213 / 0.417,
  GLOBAL chisq 3.150, p 0.369.
* R ``survival`` >= 3.0 ``cox.zph`` (a score test with the full information matrix):
  ``tests/Examples/survival-Ex.Rout.save`` of survival 3.x, the ``?cox.zph`` example
  ``cox.zph(coxph(Surv(futime, fustat) ~ age + ecog.ps, ovarian))``: chisq 0.698 / 2.371,
  GLOBAL 3.633 (p 0.40 / 0.12 / 0.16). The classic test gives other numbers for the same
  model; the test below pins the difference and checks the score test, which
  ``ph_test`` returns as ``statistic_score``, against R 3.x.
* RMST: ``survRM2`` vignette (Uno, 2017), ``rmst2(time, status, arm, tau = 10)`` on the
  312 randomized patients of R ``survival::pbc`` (time in years = days / 365.25,
  status 2 = death, arm 1 = D-penicillamine): RMST arm 1 7.146 (se 0.283, 6.592 to
  7.701), arm 0 7.283 (se 0.295, 6.704 to 7.863), difference -0.137 (-0.939 to 0.665),
  p 0.738.
* Multiplicity: Benjamini & Hochberg (1995), section 4.2: 15 p-values from a trial of
  thrombolytic treatment; the FDR procedure at q = 0.05 rejects the four smallest, the
  Bonferroni-type (Holm) procedure the three smallest.
* Simon-Makuch: hand-worked examples (each step written out in the test).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test
from scipy import stats

from ctcbook.stats import modelcheck as mc
from ctcbook.stats.survival import ModelError

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def ovarian():
    ov = pd.read_csv(DATA / "ovarian.csv")
    ov["rx_b"] = (ov["rx"] == 2).astype(float)
    ov["resid_yes"] = (ov["resid_ds"] == 2).astype(float)
    ov["age_young"] = (ov["age"] < 50).astype(float)
    return ov


def test_ph_test_matches_classic_cox_zph(ovarian):
    """R survival 2.x cox.zph on ovarian, rx + resid.ds + age_group, transform 'km'."""
    r = mc.ph_test(ovarian, "futime", "fustat", ["rx_b", "resid_yes", "age_young"])
    r = r.set_index("covariate")
    np.testing.assert_allclose(r.loc[["rx_b", "resid_yes", "age_young"], "rho"],
                               [0.269, -0.415, -0.226], atol=5e-4)
    np.testing.assert_allclose(r.loc[["rx_b", "resid_yes", "age_young", "GLOBAL"], "statistic"],
                               [0.744, 1.550, 0.660, 3.150], atol=5e-4)
    np.testing.assert_allclose(r.loc[["rx_b", "resid_yes", "age_young", "GLOBAL"], "p"],
                               [0.388, 0.213, 0.417, 0.369], atol=5e-4)
    assert r.loc["GLOBAL", "df"] == 3 and np.isnan(r.loc["GLOBAL", "rho"])
    assert (r["events"] == 12).all()


def test_ph_test_classic_differs_from_r3_score_test_which_is_returned_too(ovarian):
    """R >= 3.0 cox.zph prints 0.698 / 2.371 / 3.633 for age + ecog.ps; the classic test
    (``statistic``: lifelines, R < 3.0) gives 0.856 / 2.545 / 3.195 for the same model.
    Same hypothesis, different approximation of the residuals' variance: pinned here so a
    change of either is noticed; ``statistic_score`` reproduces R 3.x."""
    r = mc.ph_test(ovarian, "futime", "fustat", ["age", "ecog_ps"]).set_index("covariate")
    classic = r.loc[["age", "ecog_ps", "GLOBAL"], "statistic"].to_numpy()
    np.testing.assert_allclose(classic, [0.8558, 2.5452, 3.1955], atol=5e-4)
    r3 = np.array([0.698, 2.371, 3.633])
    assert np.all(np.abs(classic - r3) > 0.1)
    # ... and the score test of R >= 3.0 is returned beside it, to R's printed digits
    np.testing.assert_allclose(r.loc[["age", "ecog_ps", "GLOBAL"], "statistic_score"], r3, atol=5e-4)
    np.testing.assert_allclose(r.loc[["age", "ecog_ps", "GLOBAL"], "p_score"], [0.40, 0.12, 0.16],
                               atol=5e-3)
    # the conclusions agree: no covariate below 0.05 with either
    assert (r["p"] > 0.05).all() and np.all(stats.chi2.sf(r3, [1, 1, 2]) > 0.05)


@pytest.mark.parametrize("transform", ["rank", "identity", "log"])
def test_ph_test_agrees_with_lifelines(ovarian, transform):
    covs = ["rx_b", "resid_yes", "age_young"]
    d = ovarian[["futime", "fustat", *covs]]
    cph = CoxPHFitter().fit(d, "futime", "fustat", fit_options={"precision": 1e-12})
    ref = proportional_hazard_test(cph, d, time_transform=transform).summary["test_statistic"]
    ref.index = [i if isinstance(i, str) else i[0] for i in ref.index]
    mine = mc.ph_test(ovarian, "futime", "fustat", covs, transform=transform).set_index("covariate")
    np.testing.assert_allclose(mine.loc[covs, "statistic"], ref.loc[covs], rtol=1e-6, atol=1e-8)


def test_ph_test_counting_process_equals_unsplit_data(ovarian):
    """Splitting every patient's follow-up at an arbitrary day changes nothing."""
    covs = ["rx_b", "age"]
    whole = mc.ph_test(ovarian, "futime", "fustat", covs)
    rows = []
    for _, p in ovarian.iterrows():
        cut = 200.0
        if p.futime > cut:
            rows.append({"start": 0.0, "stop": cut, "event": 0, "rx_b": p.rx_b, "age": p.age})
            rows.append({"start": cut, "stop": p.futime, "event": p.fustat, "rx_b": p.rx_b, "age": p.age})
        else:
            rows.append({"start": 0.0, "stop": p.futime, "event": p.fustat, "rx_b": p.rx_b, "age": p.age})
    split = mc.ph_test(pd.DataFrame(rows), "stop", "event", covs, start="start")
    np.testing.assert_allclose(split["statistic"], whole["statistic"], rtol=1e-8)
    np.testing.assert_allclose(split["statistic_score"], whole["statistic_score"], rtol=1e-8)


def test_ph_test_detects_non_proportional_hazards():
    """Crossing hazards (group 1: early deaths then none) are flagged; a clean
    exponential model with a constant hazard ratio is not (fixed seed)."""
    rng = np.random.default_rng(11)
    n = 300
    g = np.repeat([0.0, 1.0], n // 2)
    t_ph = rng.exponential(np.where(g == 1, 0.5, 1.0))
    early = rng.exponential(0.3, n)
    late = 1.0 + rng.exponential(3.0, n)
    t_nph = np.where(g == 1, np.where(rng.random(n) < 0.5, early, late), rng.exponential(1.0, n))
    for t, expect_small in ((t_ph, False), (t_nph, True)):
        d = pd.DataFrame({"t": np.minimum(t, 4.0), "e": (t < 4.0).astype(float), "g": g})
        p = mc.ph_test(d, "t", "e", ["g"]).set_index("covariate").loc["g", "p"]
        assert (p < 0.001) if expect_small else (p > 0.05)


def test_ph_test_rejects_bad_transform(ovarian):
    with pytest.raises(ValueError, match="transform"):
        mc.ph_test(ovarian, "futime", "fustat", ["age"], transform="sqrt")


def test_schoenfeld_residuals_average_to_the_coefficient(ovarian):
    res = mc.schoenfeld_residuals(ovarian, "futime", "fustat", ["rx_b", "age"])
    assert len(res) == 12
    fit = CoxPHFitter().fit(ovarian[["futime", "fustat", "rx_b", "age"]], "futime", "fustat",
                            fit_options={"precision": 1e-12})
    np.testing.assert_allclose(res[["rx_b", "age"]].mean(), fit.params_[["rx_b", "age"]], rtol=1e-5)


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
    c = mc.simon_makuch(d, "days", "event", "pos", "day")
    g0 = c[c["group"] == 0].set_index("time")
    g1 = c[c["group"] == 1].set_index("time")
    assert g0.loc[10.0, "at_risk"] == 4 and g0.loc[10.0, "survival"] == pytest.approx(0.75)
    assert g0.loc[25.0, "at_risk"] == 2 and g0.loc[25.0, "survival"] == pytest.approx(0.375)
    assert g0.loc[35.0, "survival"] == pytest.approx(0.0)
    assert g1.loc[20.0, "at_risk"] == 2 and g1.loc[20.0, "survival"] == pytest.approx(0.5)
    assert g1.loc[5.0, "entered"] == 1 and g1.loc[30.0, "censored"] == 1


def test_simon_makuch_equals_lifelines_with_delayed_entry():
    rng = np.random.default_rng(5)
    n = 60
    d = pd.DataFrame({"days": rng.exponential(200, n).round() + 1,
                      "event": (rng.random(n) < 0.7).astype(int),
                      "pos": rng.integers(0, 2, n).astype(float),
                      "day": rng.integers(10, 40, n).astype(float)})
    c = mc.simon_makuch(d, "days", "event", "pos", "day")
    from ctcbook.stats.timevarying import counting_process
    long = counting_process(d, "days", "event", "pos", "day")
    for grp in (0, 1):
        part = long[long["marker"] == grp]
        kmf = KaplanMeierFitter().fit(part["stop"], part["event"], entry=part["start"])
        mine = c[(c["group"] == grp) & (c["at_risk"] > 0)].set_index("time")["survival"]
        ref = kmf.survival_function_at_times(mine.index.to_numpy())
        np.testing.assert_allclose(mine.to_numpy(), ref.to_numpy(), atol=1e-12)


def test_simon_makuch_with_marker_known_at_zero_is_kaplan_meier():
    rng = np.random.default_rng(9)
    n = 40
    d = pd.DataFrame({"days": rng.exponential(100, n).round() + 1,
                      "event": (rng.random(n) < 0.8).astype(int),
                      "pos": rng.integers(0, 2, n).astype(float), "day": 0.0})
    c = mc.simon_makuch(d, "days", "event", "pos", "day")
    for grp in (0, 1):
        m = d["pos"] == grp
        kmf = KaplanMeierFitter().fit(d.loc[m, "days"], d.loc[m, "event"])
        mine = c[c["group"] == grp].set_index("time")["survival"]
        np.testing.assert_allclose(mine.to_numpy(),
                                   kmf.survival_function_at_times(mine.index.to_numpy()).to_numpy())


# --------------------------------------------------------------------- the book's models


def test_book_models_and_results_tests_on_the_shipped_cohort():
    import ctcbook as cb

    table = cb.patient_table(cb.load_cohort())
    specs = mc.book_cox_models(table)
    assert {s.name for s in specs} >= {"Multivariate", "Time-varying"}
    assert any(s.start == "start" for s in specs)
    ph = mc.ph_table(specs)
    assert set(ph["endpoint"]) == {"pfs", "os"}
    assert ph["p"].between(0, 1).all() or ph["note"].astype(bool).any()
    tests = mc.results_tests(table)
    assert set(tests["chapter"]) == {"04", "05", "06"}
    assert len(tests) == 6 + 20 + 6
    assert (tests["p_holm"] >= tests["p"]).all() and (tests["p_bh"] >= tests["p"] - 1e-15).all()
    assert (tests["p_holm"] >= tests["p_bh"] - 1e-15).all()


def test_ph_table_reports_unfittable_models():
    d = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "e": [1.0, 1.0, 0.0, 0.0], "x": [0.0, 0.0, 1.0, 1.0]})
    spec = mc.CoxModelSpec("toy", "00", "pfs", d, "t", "e", ("x",))
    out = mc.ph_table([spec])
    assert np.isnan(out.loc[0, "p"]) and "monotone" in out.loc[0, "note"]
    with pytest.raises(ModelError):
        mc.ph_test(d, "t", "e", ["x"])
