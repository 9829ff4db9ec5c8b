"""Tests of ctcbook.firth: Firth-penalised Cox regression and profile-likelihood intervals.

No printed R ``coxphf`` output could be found to copy, so the reference values are
(a) lifelines' Cox fit for the unpenalised estimates (data without tied event times, where
Breslow = Efron), (b) an independent brute-force maximisation of the penalised partial
likelihood written plainly below (loops over risk sets, numerical optimiser), and
(c) the defining properties of the intervals (the likelihood-ratio statistic equals the
chi-square quantile at each finite limit; an infinite limit under monotone likelihood).
The data are ``coxphf``'s own example (``data(breast)``: Heinze & Schemper 2001, 100
patients, covariates T, N, G, CD; G has monotone likelihood).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy import optimize, stats

from ctcbook.firth import cox_firth, cox_profile_ci, penalised_loglik
from ctcbook.survival import ModelError

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
    ours = cox_profile_ci(breast.TIME, breast.CENS, breast[cols].to_numpy(), names=cols)
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
    from ctcbook.firth import hazard_ratio_intervals
    from ctcbook.resampling import bootstrap

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
    from ctcbook.firth import round_hr

    assert [round_hr(x) for x in (0.8126, 4.457, 9.96, 11.93, 87.5, 1451.9, 0.0, math.inf)] == [
        "0.81", "4.5", "10", "12", "88", "1,500", "0", "∞"]


def test_hazard_ratio_intervals_reuses_a_matching_bootstrap(breast):
    from ctcbook.firth import hazard_ratio_intervals
    from ctcbook.resampling import bootstrap

    boot = bootstrap(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6)
    fresh = hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6)
    reused = hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=6,
                                    bootstrap_result=boot)
    pd.testing.assert_frame_equal(fresh.table, reused.table)
    pd.testing.assert_frame_equal(fresh.tails, reused.tails)
    with pytest.raises(ValueError, match="not computed on these data"):
        hazard_ratio_intervals(breast.TIME, breast.CENS, breast["T"], n_boot=200, seed=7,
                               bootstrap_result=boot)
