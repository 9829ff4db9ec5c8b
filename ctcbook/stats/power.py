"""How many patients would confirm the HER2-positive-CTC effect? Schoenfeld's formula.

For a two-sided log-rank test (or Cox score test) of a binary marker with prevalence p,
Schoenfeld's formula gives the number of **events** needed to detect a hazard ratio
HR with power 1 - beta at level alpha:

    D = (z_{1 - alpha/2} + z_{1 - beta})^2 / (p (1 - p) (log HR)^2).

Events become **patients** through the probability that a patient has the event by
the analysis, which depends on survival, accrual and follow-up: with uniform accrual
over ``a`` days, ``f`` further days of follow-up and exponential survival with hazard
lambda, ``P(event) = 1 - (exp(-lambda f) - exp(-lambda (a + f))) / (lambda a)``
(averaged over marker-positive and negative patients).

References
----------
.. [1] Schoenfeld DA. Sample-size formula for the proportional-hazards regression
   model. Biometrics 1983;39:499-503. doi:10.2307/2531021
.. [2] Schoenfeld D. The asymptotic properties of nonparametric tests for comparing
   survival distributions. Biometrika 1981;68:316-319 (the power formula at the bottom
   of p. 317). doi:10.1093/biomet/68.1.316
.. [3] Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC Press 2015,
   chapter 10 (the probability of an event: section 10.2.3). doi:10.1201/b18041
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "schoenfeld_events",
    "schoenfeld_power",
    "event_probability",
    "sample_size",
    "sample_size_table",
]


def _z(alpha: float, power: float, sides: int) -> tuple[float, float]:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be in (0, 1)")
    if sides not in (1, 2):
        raise ValueError("sides must be 1 or 2")
    return float(stats.norm.isf(alpha / sides)), float(stats.norm.ppf(power))


def _check_hr_prev(hr: np.ndarray, prevalence: np.ndarray) -> None:
    if np.any(hr <= 0) or np.any(hr == 1):
        raise ValueError("hazard ratios must be positive and different from 1")
    if np.any(prevalence <= 0) or np.any(prevalence >= 1):
        raise ValueError("prevalence must be in (0, 1)")


def schoenfeld_events(hr: Any, prevalence: Any = 0.5, alpha: float = 0.05, power: float = 0.8,
                      sides: int = 2, exact: bool = False) -> Any:
    """Events needed by Schoenfeld's formula.

    Parameters
    ----------
    hr : float or array-like
        Hazard ratio to detect (marker-positive vs negative; HR and 1/HR need the same).
    prevalence : float or array-like
        Share of marker-positive patients (0.5 for a 1:1 randomised trial).
    alpha : float
        Significance level.
    power : float
        Power, 1 - beta.
    sides : {1, 2}
        Two-sided (default) or one-sided test.
    exact : bool
        Return the unrounded value; by default it is rounded up to a whole event.

    Returns
    -------
    float or ndarray
        ``(z_{1-alpha/sides} + z_{power})^2 / (p (1 - p) log(hr)^2)``, broadcast over
        ``hr`` and ``prevalence``.

    Examples
    --------
    A 1:1 trial to detect HR 0.5 with 80% power at two-sided 5% needs 66 events:

    >>> int(schoenfeld_events(0.5))
    66
    """
    hr_a = np.asarray(hr, dtype=float)
    p = np.asarray(prevalence, dtype=float)
    _check_hr_prev(hr_a, p)
    za, zb = _z(alpha, power, sides)
    d = (za + zb) ** 2 / (p * (1 - p) * np.log(hr_a) ** 2)
    out = d if exact else np.ceil(d - 1e-9)
    return float(out) if np.ndim(out) == 0 else out


def schoenfeld_power(events: Any, hr: Any, prevalence: Any = 0.5, alpha: float = 0.05,
                     sides: int = 2) -> Any:
    """Power of the log-rank test with ``events`` events (Schoenfeld's approximation).

    Parameters
    ----------
    events : float or array-like
        Number of events (expected, or observed); the other parameters are those of
        :func:`schoenfeld_events`.

    Returns
    -------
    float or ndarray
        ``Phi(sqrt(D p (1 - p)) |log hr| - z_{1 - alpha/sides})`` (the probability of
        rejecting in the direction of the true effect).

    Examples
    --------
    98 events, HR 0.5, 1:1, two-sided 5% (the worked example of the R package
    ``factorial2x2``, function ``lgrkPower``: power 0.9293463):

    >>> round(schoenfeld_power(98, 0.5), 7)
    0.9293463

    References
    ----------
    .. [1] Leifer E, Troendle J. factorial2x2: design and analysis of a 2x2 factorial
       trial. R package version 0.2.0 (2020), ``lgrkPower`` example.
    """
    d = np.asarray(events, dtype=float)
    hr_a = np.asarray(hr, dtype=float)
    p = np.asarray(prevalence, dtype=float)
    _check_hr_prev(hr_a, p)
    za = float(stats.norm.isf(alpha / sides))
    out = stats.norm.cdf(np.sqrt(d * p * (1 - p)) * np.abs(np.log(hr_a)) - za)
    return float(out) if np.ndim(out) == 0 else out


def event_probability(hr: Any, prevalence: Any, median_negative_days: float = 540.0,
                      accrual_days: float = 720.0, follow_up_days: float = 360.0) -> Any:
    """Probability that a patient has the event by the analysis (exponential survival).

    Parameters
    ----------
    hr, prevalence : float or array-like
        Hazard ratio of marker-positive patients and their share.
    median_negative_days : float
        Median survival of marker-negative patients.
    accrual_days : float
        Length of uniform accrual (0 = everybody enters at once).
    follow_up_days : float
        Follow-up after the last patient enters.

    Returns
    -------
    float or ndarray
        ``(1 - p) P(lambda0) + p P(lambda0 hr)`` with
        ``P(lambda) = 1 - (exp(-lambda f) - exp(-lambda (a + f))) / (lambda a)``
        (``1 - exp(-lambda f)`` when a = 0).
    """
    hr_a = np.asarray(hr, dtype=float)
    p = np.asarray(prevalence, dtype=float)
    lam0 = math.log(2.0) / median_negative_days
    a, f = float(accrual_days), float(follow_up_days)

    def prob(lam: np.ndarray) -> np.ndarray:
        if a == 0:
            return 1 - np.exp(-lam * f)
        return 1 - (np.exp(-lam * f) - np.exp(-lam * (a + f))) / (lam * a)

    out = (1 - p) * prob(np.asarray(lam0)) + p * prob(lam0 * hr_a)
    return float(out) if np.ndim(out) == 0 else out


def sample_size(hr: Any, prevalence: Any, alpha: float = 0.05, power: float = 0.8,
                median_negative_days: float = 540.0, accrual_days: float = 720.0,
                follow_up_days: float = 360.0, sides: int = 2) -> Any:
    """Patients needed: Schoenfeld's events divided by the probability of an event.

    The parameters are those of :func:`schoenfeld_events` and :func:`event_probability`.

    Returns
    -------
    float or ndarray
        ``ceil(D / P(event))`` with the unrounded D.
    """
    d = schoenfeld_events(hr, prevalence, alpha, power, sides, exact=True)
    pe = event_probability(hr, prevalence, median_negative_days, accrual_days, follow_up_days)
    out = np.ceil(np.asarray(d) / np.asarray(pe) - 1e-9)
    return float(out) if np.ndim(out) == 0 else out


def sample_size_table(
    hrs: Sequence[float] = (1.5, 2.0, 2.5, 3.0),
    prevalences: Sequence[float] = (0.1, 0.2, 0.3),
    alpha: float = 0.05,
    power: float = 0.8,
    median_negative_days: float = 540.0,
    accrual_days: float = 720.0,
    follow_up_days: float = 360.0,
) -> pd.DataFrame:
    """Events and patients for a grid of hazard ratios and prevalences.

    Parameters
    ----------
    hrs, prevalences : sequence of float
        The hazard ratios to detect and the shares of marker-positive patients; the
        other parameters are those of :func:`sample_size` (two-sided).

    Returns
    -------
    pandas.DataFrame
        One row per (``hr``, ``prevalence``): ``events`` (Schoenfeld, rounded up),
        ``event_probability`` and ``patients`` (rounded up), and ``positive_patients``
        (the expected number of marker-positive patients among them).
    """
    h, p = np.meshgrid(np.asarray(hrs, float), np.asarray(prevalences, float), indexing="ij")
    h, p = h.ravel(), p.ravel()
    events = schoenfeld_events(h, p, alpha, power)
    pe = event_probability(h, p, median_negative_days, accrual_days, follow_up_days)
    n = sample_size(h, p, alpha, power, median_negative_days, accrual_days, follow_up_days)
    return pd.DataFrame({"hr": h, "prevalence": p, "events": events.astype(int),
                         "event_probability": pe, "patients": n.astype(int),
                         "positive_patients": np.round(n * p).astype(int)})
