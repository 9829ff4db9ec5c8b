"""Tests of ctcbook.stats.firth: Firth-penalised Cox regression and profile-likelihood intervals.

Reference values:

* printed R ``coxphf`` output: the ``?coxph`` test1 data with tied event times (R package
  biostatUtil's rendered ``prettyCoxph`` example) and 100 simulated patients with
  monotone likelihood (``coxphf`` values recorded in firthmodels' tests); estimates, standard
  errors, profile penalised likelihood limits, penalised LR tests;
* a closed form (two patients, Heinze & Schemper 2001, section 2);
* SAS/STAT PROC PHREG Example 66.4 (Myeloma data): its printed maximum likelihood
  iteration history (the FIRTH table of that example could not be retrieved);
* lifelines' Cox fit for the unpenalised estimates (data without tied event times, where
  Breslow = Efron), an independent brute-force maximisation of the penalised partial
  likelihood written plainly below (loops over risk sets, numerical optimiser), and the
  defining properties of the intervals (the likelihood-ratio statistic equals the
  chi-square quantile at each finite limit; an infinite limit under monotone likelihood),
  on ``coxphf``'s own example data (``data(breast)``: Heinze & Schemper 2001, 100 patients,
  covariates T, N, G, CD; G has monotone likelihood).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy import optimize, stats

from ctcbook.stats.firth import cox_firth, penalised_loglik
from ctcbook.stats.survival import ModelError

DATA = Path(__file__).parent / "data"
TIGHT = {"precision": 1e-12, "r_precision": 1e-15}


@pytest.fixture(scope="module")
def breast() -> pd.DataFrame:
    return pd.read_csv(DATA / "coxphf_breast.csv")


def plain_penalised_loglik(beta, time, event, x, firth=True):
    """Breslow log partial likelihood + 1/2 log det I, by explicit loops (reference)."""
    x = np.asarray(x, float).reshape(len(time), -1)
    beta = np.asarray(beta, float)
    ll, info = 0.0, np.zeros((x.shape[1], x.shape[1]))
    for i in range(len(time)):
        if not event[i]:
            continue
        risk = [j for j in range(len(time)) if time[j] >= time[i]]
        w = np.array([math.exp(x[j] @ beta) for j in risk])
        xr = x[risk]
        s0 = w.sum()
        m = (w[:, None] * xr).sum(axis=0) / s0
        ll += x[i] @ beta - math.log(s0)
        info += (w[:, None, None] * xr[:, :, None] * xr[:, None, :]).sum(axis=0) / s0 - np.outer(m, m)
    if firth:
        ll += 0.5 * math.log(np.linalg.det(info))
    return ll


def test_unpenalised_equals_lifelines(breast):
    """Without the penalty the estimates are the Cox fit (no tied events here)."""
    cols = ["T", "N", "CD"]
    ours = cox_firth(breast.TIME, breast.CENS, breast[cols].to_numpy(), names=cols, firth=False).summary
    cph = CoxPHFitter().fit(breast[["TIME", "CENS", *cols]], "TIME", "CENS", fit_options=TIGHT)
    np.testing.assert_allclose(ours["coef"], cph.params_[cols].to_numpy(), atol=1e-7)
    np.testing.assert_allclose(ours["se"], cph.standard_errors_[cols].to_numpy(), rtol=1e-6)


def test_firth_maximises_the_penalised_likelihood(breast):
    """Firth estimates = argmax of l + 1/2 log det I, found by a plain optimiser."""
    cols = ["T", "N", "G", "CD"]
    x = breast[cols].to_numpy()
    t, e = breast.TIME.to_numpy(), breast.CENS.to_numpy().astype(bool)
    ours = cox_firth(t, e, x, names=cols)
    ref = optimize.minimize(lambda b: -plain_penalised_loglik(b, t, e, x), np.zeros(4),
                            method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 20000})
    np.testing.assert_allclose(ours.summary["coef"], ref.x, atol=1e-4)
    assert ours.loglik == pytest.approx(-ref.fun, abs=1e-8)
    assert penalised_loglik(ref.x, t, e, x) == pytest.approx(
        plain_penalised_loglik(ref.x, t, e, x), abs=1e-9)


def test_monotone_likelihood_breast_g(breast):
    """G: no event among G = 0, so the ML estimate diverges and Firth's stays finite."""
    cols = ["T", "N", "G", "CD"]
    x = breast[cols].to_numpy()
    assert breast.loc[breast.G == 0, "CENS"].sum() == 0
    plain = cox_firth(breast.TIME, breast.CENS, x, names=cols, firth=False)
    assert not plain.converged
    g = plain.summary.set_index("covariate").loc["G"]
    assert math.isinf(g["coef"]) and math.isinf(g["ci_upper"]) and g["ci_lower"] > 1
    firth = cox_firth(breast.TIME, breast.CENS, x, names=cols).summary.set_index("covariate")
    assert firth.loc["G", "coef"] == pytest.approx(2.42, abs=0.01)  # finite, HR about 11
    assert math.isfinite(firth.loc["G", "ci_upper"])


@pytest.mark.parametrize("firth", [True, False])
def test_profile_limits_solve_the_lr_equation(breast, firth):
    """At each limit, 2 (l*(max) - l*(profile at the limit)) = chi2_1(0.95) = 3.841."""
    t, e, x = breast.TIME.to_numpy(), breast.CENS.to_numpy(), breast["T"].to_numpy()
    res = cox_firth(t, e, x, firth=firth)
    crit = stats.chi2.ppf(0.95, 1)
    for col in ("ci_lower", "ci_upper"):
        b = math.log(res.summary.loc[0, col])
        assert 2 * (res.loglik - penalised_loglik([b], t, e, x, firth=firth)) == pytest.approx(
            crit, abs=1e-6)
    # the LR p-value is the chi-square of 2 (l*(max) - l*(0))
    lr = 2 * (res.loglik - penalised_loglik([0.0], t, e, x, firth=firth))
    assert res.summary.loc[0, "p_value"] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-9)


def test_small_group_without_events():
    """Six in one group, none of whom has the event: HR 0 by ML, finite by Firth."""
    rng = np.random.default_rng(3)
    time = np.concatenate((rng.exponential(10, 40), np.full(6, 30.0)))
    event = np.concatenate((np.ones(40), np.zeros(6)))
    group = np.r_[np.zeros(40), np.ones(6)]
    plain = cox_firth(time, event, group, firth=False).summary.loc[0]
    assert plain["hazard_ratio"] == 0 and plain["ci_lower"] == 0
    assert 0 < plain["ci_upper"] < 1
    firth = cox_firth(time, event, group).summary.loc[0]
    assert 0 < firth["hazard_ratio"] < 1 and firth["ci_lower"] > 0


def test_errors():
    with pytest.raises(ModelError, match="no events"):
        cox_firth([1, 2, 3], [0, 0, 0], [0, 1, 0])
    with pytest.raises(ModelError, match="constant"):
        cox_firth([1, 2, 3], [1, 1, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="rows"):
        cox_firth([1, 2, 3], [1, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="names"):
        cox_firth([1, 2, 3], [1, 1, 0], [0, 1, 0], names=["a", "b"])


def test_hazard_ratio_intervals_agree_with_the_other_functions(breast):
    """Wald = lifelines' interval (no tied events); bootstrap = resampling.bootstrap's (same seed)."""
    from ctcbook.stats.firth import hazard_ratio_intervals
    from ctcbook.stats.resampling import bootstrap

    res = hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=300, seed=4)
    tab = res.table.set_index("method")
    boot = bootstrap(breast.TIME, breast.CENS, breast["T"], n_boot=300, seed=4).summary.iloc[0]
    assert tab.loc["Bootstrap percentile", "ci_lower"] == pytest.approx(boot["ci_lower"], rel=1e-12)
    assert tab.loc["Bootstrap percentile", "ci_upper"] == pytest.approx(boot["ci_upper"], rel=1e-12)
    cph = CoxPHFitter().fit(breast[["TIME", "CENS", "T"]], "TIME", "CENS", fit_options=TIGHT)
    lo, hi = np.exp(cph.confidence_intervals_.loc["T"].to_numpy())
    assert tab.loc["Wald", "ci_lower"] == pytest.approx(lo, rel=1e-6)
    assert tab.loc["Wald", "ci_upper"] == pytest.approx(hi, rel=1e-6)
    assert res.n_group == int(breast["T"].sum())
    assert res.tails.set_index("tail").loc["all", "n_resamples"] == 300


def test_round_hr():
    from ctcbook.stats.firth import round_hr

    assert [round_hr(x) for x in (0.8126, 4.457, 9.96, 11.93, 87.5, 1451.9, 0.0, math.inf)] == [
        "0.81", "4.5", "10", "12", "88", "1,500", "0", "∞"]


def test_hazard_ratio_intervals_reuses_a_matching_bootstrap(breast):
    from ctcbook.stats.firth import hazard_ratio_intervals
    from ctcbook.stats.resampling import bootstrap

    boot = bootstrap(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6)
    fresh = hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6)
    reused = hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6,
                                    bootstrap_result=boot)
    pd.testing.assert_frame_equal(fresh.table, reused.table)
    pd.testing.assert_frame_equal(fresh.tails, reused.tails)
    with pytest.raises(ValueError, match="not computed on these data"):
        hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=7,
                               bootstrap_result=boot)


# ------------------------------------------------------------ printed reference output


def test_coxphf_printed_output_test1():
    """R ``coxphf`` printed output on the ``?coxph`` test1 data (tied event times, Breslow).

    Source: the rendered example of ``prettyCoxph`` in the R package biostatUtil
    (TalhoukLab/biostatUtil, ``reference/prettyCoxph.md``), which prints
    ``coxphf::coxphf(Surv(time, status) ~ x + strata(sex), maxit = 100)`` with ``x`` a
    factor. ``coxphf`` does not stratify: ``strata(sex)`` enters as a 0/1 covariate
    ``sex == 1``, and the factor ``x`` as dummies ``x == 1``, ``x == 2``. Printed::

                            coef se(coef) exp(coef) lower 0.95 upper 0.95       Chisq         p
        x1                1.60161779 1.354154 4.9610519 0.56823954   71.53693 2.122594512 0.1451405
        x2                0.67787698 1.551143 1.9696916 0.13404776   39.18328 0.268749031 0.6041722
        strata(sex)sex=1 -0.09450898 1.380503 0.9098196 0.07179951   11.88728 0.006335744 0.9365575
        Likelihood ratio test=2.170314 on 3 df

    The estimates agree to about 6e-7: ``coxphf`` stops when the change in standardised
    estimates is below ``epsilon = 1e-6``, while ours converge to 1e-10 (ours satisfy the
    penalised score equation; see test_firth_maximises_the_penalised_likelihood), so the
    coefficients, hazard ratios and limits are compared at that tolerance and the
    standard errors, chi-squares and p-values at their printed precision.
    """
    d = pd.read_csv(DATA / "coxph_help_test1.csv")
    x = np.column_stack([d.x == 1, d.x == 2, d.sex == 1]).astype(float)
    res = cox_firth(d.time, d.status, x, names=["x1", "x2", "sex1"])
    s = res.summary
    np.testing.assert_allclose(s["coef"], [1.60161779, 0.67787698, -0.09450898], atol=1e-6)
    np.testing.assert_allclose(s["se"], [1.354154, 1.551143, 1.380503], atol=5e-7)
    np.testing.assert_allclose(s["hazard_ratio"], [4.9610519, 1.9696916, 0.9098196], rtol=1e-6)
    np.testing.assert_allclose(s["ci_lower"], [0.56823954, 0.13404776, 0.07179951], rtol=1e-6)
    np.testing.assert_allclose(s["ci_upper"], [71.53693, 39.18328, 11.88728], atol=5e-6)
    chisq = stats.chi2.isf(s["p_value"], 1)
    np.testing.assert_allclose(chisq, [2.122594512, 0.268749031, 0.006335744], atol=1e-6)
    np.testing.assert_allclose(s["p_value"], [0.1451405, 0.6041722, 0.9365575], atol=5e-8)
    lr = 2 * (res.loglik - penalised_loglik(np.zeros(3), d.time, d.status, x))
    assert lr == pytest.approx(2.170314, abs=5e-7)


def test_coxphf_monotone_likelihood_firthmodels_data():
    """R ``coxphf`` on 100 patients with monotone likelihood (no event where separator = 0).

    Source: ``coxphf`` values recorded in the Python package firthmodels
    (jzluo/firthmodels, ``tests/test_cox.py``, ``test_matches_coxphf_with_monotone_likelihood``;
    coefficients, standard errors and profile penalised likelihood limits on the log scale
    to 10 digits, penalised LR p-values, global penalised LR 57.6071). The data are those
    of its ``tests/conftest.py`` ``make_cox_separation_data(seed=42)``, generated once
    with numpy 2.4 and stored in ``tests/data/firthmodels_cox_separation.csv``.
    """
    d = pd.read_csv(DATA / "firthmodels_cox_separation.csv")
    cols = ["separator", "x1", "x2", "x3"]
    x = d[cols].to_numpy(float)
    assert d.loc[d.separator == 0, "event"].sum() == 0
    res = cox_firth(d.time, d.event, x, names=cols)
    s = res.summary
    np.testing.assert_allclose(s["coef"], [3.8815800583, 0.6042066427, -0.4202139201, 1.0415063080],
                               rtol=1e-6)
    np.testing.assert_allclose(s["se"], [1.4430190269, 0.1599607483, 0.2541800107, 0.3128784410],
                               rtol=1e-6)
    np.testing.assert_allclose(np.log(s["ci_lower"]),
                               [1.9343469272, 0.2921186188, -0.9217200647, 0.4348431279], rtol=1e-6)
    np.testing.assert_allclose(np.log(s["ci_upper"]),
                               [8.7215676015, 0.9164270978, 0.0699415336, 1.6550461482], rtol=1e-6)
    np.testing.assert_allclose(s["p_value"],
                               [7.318984974e-09, 1.686334002e-04, 9.295083722e-02, 8.463066114e-04],
                               rtol=1e-6)
    lr = 2 * (res.loglik - penalised_loglik(np.zeros(4), d.time, d.event, x))
    assert lr == pytest.approx(57.6071, abs=5e-5)


def test_two_patients_closed_form():
    """One event at time 1 (x = 1), one censored later (x = 0): Firth's estimate is log 3.

    With p = e^b / (1 + e^b): U = 1 - p, I = p (1 - p), dI/db = p (1 - p)(1 - 2p), so the
    penalised score U + 1/2 I^-1 dI/db = 3/2 - 2p vanishes at p = 3/4, e^b = 3 (the
    example of Heinze & Schemper 2001, section 2, as also used in firthmodels' tests).
    SE = I^-1/2 = 4 / sqrt(3); l*(b) = 3/2 log p + 1/2 log(1 - p), so the penalised LR
    chi-square against b = 0 is 3 log 3 - 4 log 2 and the profile limits solve
    l*(log 3) - l*(b) = chi2_1(0.95) / 2 in closed form in p.
    """
    res = cox_firth([1.0, 2.0], [1, 0], [1.0, 0.0]).summary.loc[0]
    # the Newton steps use I, not the penalised Hessian (as coxphf), so convergence is
    # linear and the fit stops with the estimate within about 1e-8
    assert res["hazard_ratio"] == pytest.approx(3.0, rel=1e-7)
    assert res["se"] == pytest.approx(4 / math.sqrt(3), rel=1e-7)
    assert stats.chi2.isf(res["p_value"], 1) == pytest.approx(3 * math.log(3) - 4 * math.log(2),
                                                              rel=1e-9)

    def lstar(p):
        return 1.5 * math.log(p) + 0.5 * math.log(1 - p)

    drop = stats.chi2.ppf(0.95, 1) / 2
    p_lo = optimize.brentq(lambda p: lstar(0.75) - lstar(p) - drop, 1e-12, 0.75, xtol=1e-15)
    p_hi = optimize.brentq(lambda p: lstar(0.75) - lstar(p) - drop, 0.75, 1 - 1e-15, xtol=1e-15)
    assert res["ci_lower"] == pytest.approx(p_lo / (1 - p_lo), rel=1e-7)
    assert res["ci_upper"] == pytest.approx(p_hi / (1 - p_hi), rel=1e-6)


def test_sas_myeloma_monotone_likelihood_iteration_history():
    """SAS/STAT PROC PHREG, Example 66.4 (SAS 9.22 User's Guide, "Firth's Correction for
    Monotone Likelihood"), Output 66.4.1: Myeloma data of Example 66.1 (65 patients), with
    Contrived = (Time <= 65), ``model Time*VStatus(0) = LogBUN HGB Contrived``, Breslow ties.

    Printed (maximum likelihood iteration history): log likelihood at 0 = -154.8579914384;
    after the first Newton-Raphson step LogBUN = 1.9948819671, HGB = -0.084318519; the log
    likelihood converges to -136.56 while Contrived diverges. This checks the data and
    the unpenalised Breslow likelihood only: the page's FIRTH output table could not be
    retrieved, so the penalised estimates on these data have no printed reference here.
    """
    from ctcbook.stats.firth import _prepare, _terms

    d = pd.read_csv(DATA / "sas_myeloma.csv")
    assert len(d) == 65 and d.VStatus.sum() == 48
    x = np.column_stack([d.LogBUN, d.HGB, d.Time <= 65]).astype(float)
    assert penalised_loglik(np.zeros(3), d.Time, d.VStatus, x, firth=False) == pytest.approx(
        -154.8579914384, abs=1e-9)
    t, e, xm = _prepare(d.Time, d.VStatus, x)
    _, score, info, _ = _terms(np.zeros(3), t, e, xm, third=False)
    step = np.linalg.solve(info, score)
    np.testing.assert_allclose(step[:2], [1.9948819671, -0.084318519], atol=1e-9)
    plain = cox_firth(d.Time, d.VStatus, x, names=["LogBUN", "HGB", "Contrived"], firth=False)
    assert not plain.converged and round(plain.loglik, 2) == -136.56
    assert math.isinf(plain.summary.loc[2, "coef"])
    firth = cox_firth(d.Time, d.VStatus, x, names=["LogBUN", "HGB", "Contrived"])
    assert firth.converged and math.isfinite(firth.summary.loc[2, "ci_upper"])
