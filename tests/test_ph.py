"""Tests of ctcbook.stats.ph, the proportional-hazards test, against published reference values.

Sources (copies of the data in tests/data, see its README):

* Classic Grambsch-Therneau test (R ``survival`` < 3.0 ``cox.zph``, what lifelines
  computes): R ``survival::ovarian``,
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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test
from scipy import stats

from ctcbook.stats import ph as mc
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


def test_lifelines_km_transform_is_not_rs(ovarian):
    """Why ph_test keeps its own code for R's default transform: lifelines'
    ``time_transform="km"`` gives 0.715 for rx where R (and ph_test) give 0.744."""
    covs = ["rx_b", "resid_yes", "age_young"]
    d = ovarian[["futime", "fustat", *covs]]
    cph = CoxPHFitter().fit(d, "futime", "fustat", fit_options={"precision": 1e-12})
    ref = proportional_hazard_test(cph, d, time_transform="km").summary["test_statistic"]
    assert round(float(ref.loc["rx_b"]), 3) == 0.715
    mine = mc.ph_test(ovarian, "futime", "fustat", covs).set_index("covariate")
    assert round(float(mine.loc["rx_b", "statistic"]), 3) == 0.744


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


# --------------------------------------------------------------------- the book's models


def test_book_models_on_the_shipped_cohort():
    import ctcbook as cb

    table = cb.patient_table(cb.load_cohort())
    specs = mc.book_cox_models(table)
    assert {s.name for s in specs} >= {"Multivariate", "Time-varying"}
    assert any(s.start == "start" for s in specs)
    ph = mc.ph_table(specs)
    assert set(ph["endpoint"]) == {"pfs", "os"}
    assert ph["p"].between(0, 1).all() or ph["note"].astype(bool).any()


def test_ph_table_reports_unfittable_models():
    d = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "e": [1.0, 1.0, 0.0, 0.0], "x": [0.0, 0.0, 1.0, 1.0]})
    spec = mc.CoxModelSpec("toy", "00", "pfs", d, "t", "e", ("x",))
    out = mc.ph_table([spec])
    assert np.isnan(out.loc[0, "p"]) and "monotone" in out.loc[0, "note"]
    with pytest.raises(ModelError):
        mc.ph_test(d, "t", "e", ["x"])
