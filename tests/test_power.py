"""Schoenfeld's formula against published worked examples and against simulation."""

from __future__ import annotations

import numpy as np
import pytest

from ctcbook.simulation.studies import simulate_power
from ctcbook.stats.power import (
    event_probability,
    sample_size,
    sample_size_table,
    schoenfeld_events,
    schoenfeld_power,
)


def test_events_hr_half_1_to_1():
    """HR 0.5, 1:1, 80% power, two-sided 5%: Schoenfeld (1983)'s
    D = 4 (z_{0.975} + z_{0.8})^2 / log(0.5)^2 = 4 (1.95996 + 0.84162)^2 / 0.480453 = 65.34,
    rounded up to 66 events (hand calculation from the published formula)."""
    assert schoenfeld_events(0.5) == 66
    assert schoenfeld_events(2.0) == 66  # HR and 1/HR need the same number
    assert schoenfeld_events(0.5, exact=True) == pytest.approx(65.34, abs=0.01)


def test_power_factorial2x2_example():
    """R package factorial2x2 (Leifer & Troendle), ``lgrkPower(0.5, 98, 0.05, 0.5)``
    documents power 0.9293463 (Schoenfeld 1981, Biometrika 68:316, p. 317)."""
    assert schoenfeld_power(98, 0.5) == pytest.approx(0.9293463, abs=5e-8)


def test_events_and_power_are_inverse():
    d = schoenfeld_events([1.5, 2, 3], [0.1, 0.2, 0.3], power=0.9, exact=True)
    assert schoenfeld_power(d, [1.5, 2, 3], [0.1, 0.2, 0.3]) == pytest.approx([0.9] * 3)


def test_prevalence_scaling():
    """Events scale with 1 / (p (1 - p)): prevalence 0.1 needs 0.25 / 0.09 times a 1:1 trial."""
    ratio = schoenfeld_events(2, 0.1, exact=True) / schoenfeld_events(2, 0.5, exact=True)
    assert ratio == pytest.approx(0.25 / 0.09)


def test_event_probability_limits():
    # no accrual: 1 - exp(-lambda f); a median of follow-up gives one half
    assert event_probability(2.0, 0.5, 540.0, 0.0, 540.0) == pytest.approx(
        0.5 * 0.5 + 0.5 * (1 - 0.25))
    # very long follow-up: everybody has the event
    assert event_probability(2.0, 0.2, 100.0, 100.0, 1e6) == pytest.approx(1.0)
    # exponential with uniform accrual (Collett 2015, eq. 10.13), checked by integration
    lam, a, f = np.log(2) / 540, 720.0, 360.0
    grid = np.linspace(f, a + f, 200001)
    numeric = np.mean(1 - np.exp(-lam * grid))
    assert event_probability(1.5, 1e-12, 540.0, a, f) == pytest.approx(numeric, rel=1e-6)


def test_sample_size_table():
    t = sample_size_table((2.0,), (0.2,))
    row = t.iloc[0]
    assert row["events"] == schoenfeld_events(2.0, 0.2)
    assert row["patients"] == sample_size(2.0, 0.2)
    assert row["patients"] >= row["events"]


def test_invalid():
    with pytest.raises(ValueError):
        schoenfeld_events(1.0)
    with pytest.raises(ValueError):
        schoenfeld_events(2.0, 1.2)


def test_simulation_agrees_with_schoenfeld_near_balance():
    """With 1:1 groups and a moderate HR, simulated power is Schoenfeld's (80%) within
    Monte Carlo error: n is chosen so the expected number of events is D."""
    hr, p = 1.6, 0.5
    d = schoenfeld_events(hr, p, exact=True)
    n = int(np.ceil(d / event_probability(hr, p)))
    res = simulate_power(n, hr, p, n_sim=2000, seed=3)
    row = res.summary.iloc[0]
    predicted = schoenfeld_power(row["mean_events"], hr, p)
    assert abs(row["power"] - predicted) < 4 * row["mc_se"] + 0.01


def test_simulation_deterministic_and_parallel_invariant():
    a = simulate_power([60], [2.0], 0.2, n_sim=300, seed=5, batch_size=100)
    b = simulate_power([60], [2.0], 0.2, n_sim=300, seed=5, batch_size=100, n_jobs=2,
                       backend="threading")
    assert a.summary.equals(b.summary)


def test_exercise_design_follow_up_study():
    """The solution of ex-beyond-design (notebook 16): 90% power, HR 2, prevalence 12%:
    D = (1.95996 + 1.28155)^2 / (0.12 * 0.88 * log(2)^2) = 207.1 -> 208 deaths."""
    assert schoenfeld_events(2.0, 0.12, power=0.9) == 208
    n = sample_size(2.0, 0.12, power=0.9, median_negative_days=540.0, accrual_days=720.0,
                    follow_up_days=360.0)
    assert n == np.ceil(schoenfeld_events(2.0, 0.12, power=0.9, exact=True)
                        / event_probability(2.0, 0.12) - 1e-9)
