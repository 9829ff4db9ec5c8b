"""Log-rank statistics over many cutpoints of a continuous marker, all at once.

``logrank_sweep`` gives the naive two-group log-rank test at every cutpoint (what an
explorer slider shows); ``maxstat`` gives the maximally selected log-rank statistic
with p-values that account for having chosen the best cutpoint (Lausen & Schumacher
1992; Lausen, Sauerbrei & Schumacher 1994; conditional Monte Carlo), with the same
definitions as R's ``maxstat.test(..., smethod = "LogRank")``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ctcbook.stats import _engine
from ctcbook.stats._engine import CELLS as _CELLS
from ctcbook.stats._engine import time_event as _time_event

__all__ = ["MaxstatResult", "logrank_sweep", "maxstat", "logrank_scores", "best_cutpoints"]


def _marker(marker: Any, n: int) -> np.ndarray:
    m = np.asarray(marker, dtype=float).ravel()
    if m.size != n:
        raise ValueError(f"marker has {m.size} values but time has {n}")
    if np.isnan(m).any():
        raise ValueError(f"{int(np.isnan(m).sum())} missing value(s) in marker; drop those rows first")
    return m


def logrank_sweep(
    time: Any, event: Any, marker: Any, cutpoints: Sequence[float] | None = None
) -> pd.DataFrame:
    """Two-group log-rank test at every cutpoint of a marker, vectorised.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators (1 = event).
    marker : array-like of float
        The marker; the "high" group at cutpoint c is ``marker >= c``.
    cutpoints : sequence of float, optional
        Cutpoints to evaluate. Default: every distinct marker value except the smallest,
        so that both groups are non-empty.

    Returns
    -------
    pandas.DataFrame
        One row per cutpoint: ``cutpoint``, ``n_low``, ``n_high``, ``events_low``,
        ``events_high``, ``statistic`` (log-rank chi-square, 1 df), ``p_value`` (naive,
        not adjusted for the choice of cutpoint), ``hazard_ratio`` and ``z``.

    Notes
    -----
    With O and E the observed and expected events of the high group and V the
    hypergeometric variance (the two-group log-rank quantities of R's ``survdiff``
    and lifelines' ``logrank_test``), ``z = (O - E) / sqrt(V)`` (positive when the high
    group has more events than expected), ``statistic = z**2`` and
    ``hazard_ratio = exp((O - E) / V)``, the one-step (Peto) log-rank estimate of the
    high-vs-low hazard ratio, not a Cox estimate. A cutpoint that leaves a group empty
    gives NaN statistics.

    All cutpoints are computed together: one sort by time; ``O - E`` is the sum of the
    log-rank scores over the high group (a suffix sum over marker buckets) and V needs
    the high-group numbers at risk at every event time, a 2-D suffix sum of a
    (event time x marker bucket) count table; cutpoints are processed in chunks that
    bound that table to a few million cells.

    References
    ----------
    .. [1] Mantel N. Evaluation of survival data and two new rank order statistics
       arising in its consideration. Cancer Chemother Rep 1966;50:163-170.
    .. [2] Peto R, Pike MC, Armitage P, et al. Design and analysis of randomized
       clinical trials requiring prolonged observation of each patient. II. Br J Cancer
       1977;35:1-39 (the O - E over V hazard ratio).
    """
    t, e = _time_event(time, event)
    m = _marker(marker, t.size)
    if cutpoints is None:
        cuts = np.unique(m)[1:]
    else:
        cuts = np.asarray(cutpoints, dtype=float).ravel()
    n = t.size
    sw = _engine.sweep(t, e, m, cuts)
    o_minus_e, var, n_high, ev_high = (sw[k] for k in ("o_minus_e", "variance", "n_high", "events_high"))
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (n_high > 0) & (n_high < n) & (var > 0)
        z = np.where(valid, o_minus_e / np.sqrt(var), np.nan)
        hr = np.where(valid, np.exp(o_minus_e / var), np.nan)
    stat = z * z
    return pd.DataFrame(
        {
            "cutpoint": cuts,
            "n_low": (n - n_high).astype(np.int64),
            "n_high": n_high.astype(np.int64),
            "events_low": (e.sum() - ev_high).astype(np.int64),
            "events_high": ev_high.astype(np.int64),
            "statistic": stat,
            "p_value": _engine.chi2_1_sf(stat),
            "hazard_ratio": hr,
            "z": z,
        },
        copy=False,
    )


def logrank_scores(time: Any, event: Any) -> np.ndarray:
    """Log-rank scores as used by R's ``maxstat`` (``exactRankTests::cscores.Surv``).

    ``a_i = delta_i - sum_{k <= r_i} delta_(k) / (N - r_(k) + 1)`` where observations are
    sorted by time, ``r_i`` is the number of observations with time <= t_i ("max" rank)
    and the sum runs over the sorted observations up to position r_i. Without tied times
    these are the usual log-rank scores ``delta_i - H(t_i)`` (H the Nelson-Aalen estimate);
    with ties they differ slightly from ``coin::logrank_trafo`` (Hothorn and Lausen 2003,
    see :func:`maxstat`).
    """
    return _engine.logrank_scores(*_time_event(time, event))


@dataclass(frozen=True)
class MaxstatResult:
    """Maximally selected log-rank statistic and its p-values.

    Attributes
    ----------
    statistic : float
        M, the maximum over candidate cutpoints of the absolute standardised statistic.
    cutpoint : float
        The estimated cutpoint: the largest marker value of the lower group
        (rule ``marker <= cutpoint`` for the low group), first maximiser.
    p_lau92 : float
        Lausen & Schumacher (1992) asymptotic approximation (R ``pmethod = "Lau92"``).
    p_lau94 : float
        Lausen, Sauerbrei & Schumacher (1994) approximation (``"Lau94"``): an improved
        Bonferroni inequality applied to the large-sample normal distribution of the
        statistics, so an asymptotic approximation, not a bound for a finite sample.
    p_permutation : float
        Conditional Monte Carlo p-value (``"condMC"``): the share of permutations whose
        maximum exceeds M.
    n_permutations : int
    table : pandas.DataFrame
        Per candidate cutpoint: ``cutpoint``, ``n_low``, ``z`` (signed standardised
        statistic, positive when the low group has more events than expected under
        the null), ``statistic`` (= |z|).
    """

    statistic: float
    cutpoint: float
    p_lau92: float
    p_lau94: float
    p_permutation: float
    n_permutations: int
    table: pd.DataFrame = field(repr=False)


def _p_lausen92(b: float, minprop: float, maxprop: float) -> float:
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * np.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return float(min(max(p, 0.0), 1.0))


def _p_lausen94(b: float, n: int, m: np.ndarray) -> float:
    if m.size < 2:
        return float(2 * stats.norm.sf(b))
    m1, m2 = m[:-1].astype(float), m[1:].astype(float)
    t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
    d = np.sum(1 / np.pi * np.exp(-b * b / 2) * (t - (b * b / 4 - 1) * t**3 / 6))
    return float(min(max(1 - (stats.norm.cdf(b) - stats.norm.cdf(-b)) + d, 0.0), 1.0))


def maxstat_candidates(n_low: Any, n: int, min_prop: float = 0.1, max_prop: float = 0.9) -> np.ndarray:
    """Which splits :func:`maxstat` considers: ``floor(n min_prop) <= n_low <= floor(n max_prop)``.

    Parameters
    ----------
    n_low : array-like of int
        Size of the low group of each split (e.g. ``n_low`` of :func:`logrank_sweep`).
    n : int
        Number of patients.
    min_prop, max_prop : float
        As in :func:`maxstat` (R maxstat's ``minprop``/``maxprop``, default 10% and 90%).

    Returns
    -------
    numpy.ndarray of bool
        True for a candidate split; False for a split the 10% rule excludes (too few
        patients in one group). Splits with an empty group are never candidates.
    """
    m = np.asarray(n_low, dtype=float)
    return (m >= np.floor(n * min_prop)) & (m <= np.floor(n * max_prop)) & (m > 0) & (m < n)


def maxstat(
    time: Any,
    event: Any,
    marker: Any,
    min_prop: float = 0.1,
    max_prop: float = 0.9,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> MaxstatResult:
    """Maximally selected log-rank statistic for a cutpoint of a continuous marker.

    Parameters
    ----------
    time, event : array-like
        Follow-up times and event indicators.
    marker : array-like of float
        The marker to dichotomise (low group: ``marker <= c``).
    min_prop, max_prop : float
        Candidate cutpoints leave between ``floor(N * min_prop)`` and
        ``floor(N * max_prop)`` observations in the low group.
    n_permutations : int
        Monte Carlo permutations for ``p_permutation`` (0 to skip; it is then NaN).
    seed : int
        Seed of ``numpy.random.default_rng`` for the permutations.

    Returns
    -------
    MaxstatResult

    Notes
    -----
    Definitions follow R ``maxstat`` (``maxstat.test(Surv(time, event) ~ marker,
    smethod = "LogRank", pmethod = ...)``, ``R/maxstat.R``): with log-rank scores a
    (:func:`logrank_scores`) ordered by the marker, the statistic at a cutpoint whose low
    group has m observations is ``S_m = sum of the m scores``, standardised by its
    permutation mean ``m/N sum a`` and variance
    ``m (N - m) / (N^2 (N - 1)) (N sum a^2 - (sum a)^2)``. Candidates are the distinct
    marker values except the largest, with ``floor(N min_prop) <= m <= floor(N max_prop)``.
    ``p_lau92`` is ``4 phi(b)/b + phi(b)(b - 1/b) log(max_prop (1 - min_prop) /
    ((1 - max_prop) min_prop))`` and ``p_lau94`` the improved Bonferroni approximation over
    the candidate m (both asymptotic); both are clipped to [0, 1] (R clips at 0 only). ``p_permutation``
    permutes the scores ``n_permutations`` times (conditional Monte Carlo, as R's
    ``condMC``) and counts maxima strictly greater than M (R's rule; a relative
    tolerance of 1e-10 keeps rounding noise from counting as "greater"). The
    permutations are drawn and evaluated in chunks as one matrix operation, O(n) per
    permutation. Results are remembered by their inputs (a second call with the same
    data and settings returns the first result).

    References
    ----------
    .. [1] Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics
       1992;48:73-85.
    .. [2] Lausen B, Sauerbrei W, Schumacher M. Classification and regression trees
       (CART) used for the exploration of prognostic factors measured on different
       scales. In: Dirschedl P, Ostermann R (eds), Computational Statistics,
       Physica-Verlag 1994:483-496.
    .. [3] Hothorn T, Lausen B. Maximally selected rank statistics in R. R News
       2002;2(1):3-5.
    .. [4] Hothorn T, Lausen B. On the exact distribution of maximally selected rank
       statistics. Comput Stat Data Anal 2003;43:121-137.
    """
    if not (0 <= min_prop < max_prop <= 1):
        raise ValueError("need 0 <= min_prop < max_prop <= 1")
    t, e = _time_event(time, event)
    x = _marker(marker, t.size)
    n = t.size
    if n < 3:
        raise ValueError("maxstat needs at least three observations")
    digest = hashlib.sha256(b"".join(a.tobytes() for a in (t, e, x))).hexdigest()
    key = (digest, float(min_prop), float(max_prop), int(n_permutations), seed)
    if key not in _MAXSTAT_CACHE:
        if len(_MAXSTAT_CACHE) >= 64:
            _MAXSTAT_CACHE.pop(next(iter(_MAXSTAT_CACHE)))
        _MAXSTAT_CACHE[key] = _maxstat(t, e, x, min_prop, max_prop, n_permutations, seed)
    return _MAXSTAT_CACHE[key]


#: maxstat results by their inputs: the explorers' precomputation asks for the same
#: permutation p-values twice (a page's numbers and its explorer).
_MAXSTAT_CACHE: dict = {}


def _maxstat(t: np.ndarray, e: np.ndarray, x: np.ndarray, min_prop: float, max_prop: float,
             n_permutations: int, seed: int) -> MaxstatResult:
    n = t.size
    a = logrank_scores(t, e)
    order = np.argsort(x, kind="stable")
    xs, y = x[order], a[order]
    # m = size of the low group at each distinct value except the largest
    m = np.flatnonzero(xs[1:] != xs[:-1]) + 1
    m = m[(m >= np.floor(n * min_prop)) & (m <= np.floor(n * max_prop))]
    if m.size == 0:
        raise ValueError("no candidate cutpoint leaves between min_prop and max_prop of the data in the low group")
    ss = y.sum()
    ev = m / n * ss
    var = m * (n - m) / (n**2 * (n - 1)) * (n * np.sum(y * y) - ss * ss)
    if not np.all(var > 0):
        raise ValueError("the log-rank scores are constant (no events?); maxstat is undefined")
    sd = np.sqrt(var)
    z = (np.cumsum(y)[m - 1] - ev) / sd
    absz = np.abs(z)
    stat = float(absz.max())
    best = int(np.flatnonzero(absz == stat)[0])
    cut = float(xs[m[best] - 1])

    p_perm = float("nan")
    if n_permutations > 0:
        rng = np.random.default_rng(seed)
        exceed = 0
        chunk = max(1, min(n_permutations, _CELLS // n))
        threshold = stat * (1 + 1e-10)
        done = 0
        while done < n_permutations:
            b = min(chunk, n_permutations - done)
            perm = rng.permuted(np.broadcast_to(y, (b, n)), axis=1)
            sums = np.cumsum(perm, axis=1)[:, m - 1]
            pmax = np.max(np.abs((sums - ev) / sd), axis=1)
            exceed += int(np.count_nonzero(pmax > threshold))
            done += b
        p_perm = exceed / n_permutations

    table = pd.DataFrame({"cutpoint": xs[m - 1], "n_low": m.astype(np.int64), "z": z, "statistic": absz})
    return MaxstatResult(
        statistic=stat,
        cutpoint=cut,
        p_lau92=_p_lausen92(stat, min_prop, max_prop),
        p_lau94=_p_lausen94(stat, n, m),
        p_permutation=p_perm,
        n_permutations=int(n_permutations),
        table=table,
    )


def best_cutpoints(
    table: pd.DataFrame,
    markers: Mapping[str, str] | Sequence[str],
    duration: str = "pfs_days",
    event: str = "pfs_event",
    min_prop: float = 0.1,
    max_prop: float = 0.9,
    n_permutations: int = 10_000,
    seed: int = 1,
) -> pd.DataFrame:
    """The threshold a search would pick for each marker, with naive and corrected p-values.

    For every marker, the patients with a value of it are searched with :func:`maxstat`
    and the chosen threshold is looked up in :func:`logrank_sweep`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient (e.g. :func:`ctcbook.cohort.rules.patient_table`).
    markers : mapping of str to str, or sequence of str
        Marker columns (e.g. ``"ctc_baseline"``), optionally mapped to display labels.
    duration, event : str
        Columns of follow-up time and event indicator.
    min_prop, max_prop : float
        Passed to :func:`maxstat` (the share of patients allowed in the low group).
    n_permutations : int
        Permutations of :func:`maxstat`'s conditional Monte Carlo p-value.
    seed : int
        Seed of the permutations (the same for every marker).

    Returns
    -------
    pandas.DataFrame
        One row per marker, in the given order: ``marker``, ``label``, ``n`` (patients
        with a value), ``threshold`` (the high group is ``marker >= threshold``: the
        smallest marker value above :func:`maxstat`'s cutpoint), ``n_high``,
        ``statistic`` (the maximally selected standardised statistic M),
        ``p_logrank`` (the usual log-rank p-value at ``threshold``), ``p_naive``
        (``2 (1 - Phi(M))``, as if the threshold had been fixed in advance),
        ``p_lau92``, ``p_lau94``, ``p_permutation``, ``n_candidates`` (thresholds the
        search could choose from) and ``note``: ``"one candidate, no search"`` when only
        one threshold lies in the allowed window, so that there is nothing to correct for
        (``p_naive`` and ``p_lau94`` are then equal, ``p_lau92``, which depends only on
        ``min_prop`` and ``max_prop``, is meaningless, and ``p_permutation`` is a
        permutation test of that one split). When no threshold
        leaves between ``min_prop`` and ``max_prop`` of the patients in each group
        (another cohort may have too few distinct values), the numbers are NaN and
        ``note`` says why.

    Notes
    -----
    :func:`maxstat` returns the largest value of the low group (``marker <= c``); with
    integer counts the threshold ``>= c + 1`` of the book is the next observed value.

    ``p_naive`` and ``p_logrank`` differ even for a single candidate: both statistics
    have the same numerator (observed minus expected events of one group), but maxstat
    standardises it by the *permutation* variance of the log-rank scores (labels shuffled
    among all patients, whatever their follow-up), the log-rank test by the
    hypergeometric variance summed over the event times at which both groups are at
    risk. When a small group's events all come early the second is much smaller, and
    the log-rank p-value much smaller than the naive one.

    References
    ----------
    .. [1] Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal"
       cutpoints in the evaluation of prognostic factors. J Natl Cancer Inst
       1994;86:829-835.
    """
    labels = dict(markers) if isinstance(markers, Mapping) else {m: m for m in markers}
    rows = []
    for column, label in labels.items():
        d = table.dropna(subset=[column, duration, event])
        row: dict[str, Any] = {"marker": column, "label": label, "n": len(d)}
        nan = float("nan")
        row.update(threshold=nan, n_high=pd.NA, statistic=nan, p_logrank=nan, p_naive=nan,
                   p_lau92=nan, p_lau94=nan, p_permutation=nan, n_candidates=0, note="")
        try:
            ms = maxstat(d[duration], d[event], d[column], min_prop=min_prop, max_prop=max_prop,
                         n_permutations=n_permutations, seed=seed)
        except ValueError as err:
            row["note"] = str(err)
            rows.append(row)
            continue
        values = np.unique(d[column].to_numpy(dtype=float))
        threshold = float(values[values > ms.cutpoint].min())
        sweep = logrank_sweep(d[duration], d[event], d[column], cutpoints=[threshold])
        row.update(threshold=threshold, n_high=int(sweep["n_high"].iloc[0]), statistic=ms.statistic,
                   p_logrank=float(sweep["p_value"].iloc[0]), p_naive=float(2 * stats.norm.sf(ms.statistic)),
                   p_lau92=ms.p_lau92, p_lau94=ms.p_lau94, p_permutation=ms.p_permutation,
                   n_candidates=len(ms.table),
                   note="one candidate, no search" if len(ms.table) == 1 else "")
        rows.append(row)
    out = pd.DataFrame(rows)
    out["n_high"] = out["n_high"].astype("Int64")
    return out
