"""How stable are conclusions drawn from a group of six? Bootstrap, permutation, leave-one-out.

All functions take one data set (``time``, ``event``, a 0/1 ``group``) and evaluate a
statistic on many re-weighted or re-labelled copies of it **at once**: the copies are
rows of a weight (or label, or event) matrix, and the risk-set counts of every row come
from one pass of the package's engine (:mod:`ctcbook.stats._engine`: ``tables``,
``logrank_rows``, ``cox_binary_rows``, ``km_median_rows``); the cost grows linearly with
n and the resamples (``benchmarks/bench_stats.py`` measures it, ``benchmarks/README.md``
keeps the figures).

* :func:`bootstrap` percentile intervals for the hazard ratio (Cox, Efron ties) and the
  median survival of each group;
* :func:`permutation_logrank` an exact (all relabellings) or Monte Carlo permutation
  p-value for the log-rank test;
* :func:`sensitivity` the log-rank p-value and hazard ratio when one patient is left out,
  or one patient's outcome is changed (event <-> censored);
* :func:`stability` all three on one endpoint of the patient table, and
  :func:`stability_summary` one row of them per endpoint.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.stats._engine import (
    chunk_rows as _chunk_rows,
)
from ctcbook.stats._engine import (
    cox_binary_rows,
    km_median_rows,
    logrank_result,
    logrank_rows,
    logrank_tables,
    tables,
)
from ctcbook.stats._engine import time_event as _time_event
from ctcbook.stats._engine.rows import weight_chunks as _weight_chunks
from ctcbook.stats._engine.variations import (
    base_tables,
    logrank_variation_terms,
    variation_cox,
    variation_sums,
)

__all__ = [
    "BootstrapResult",
    "PermutationResult",
    "logrank_rows",
    "cox_binary_rows",
    "km_median_rows",
    "bootstrap",
    "permutation_logrank",
    "sensitivity",
    "StabilityResult",
    "stability",
    "stability_summary",
]


def _data(time: Any, event: Any, group: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e = _time_event(time, event)
    g = np.asarray(group, dtype=float).ravel()
    if g.shape != t.shape:
        raise ValueError("group has a different length from time")
    if not np.isin(g, (0.0, 1.0)).all():
        raise ValueError("group must be 0/1 (or boolean) without missing values")
    if g.min() == g.max():
        raise ValueError("group must contain both 0 and 1")
    return t, e, g.astype(bool)


# ------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap percentile intervals for a two-group comparison.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per quantity (``hazard_ratio``, ``median_0``, ``median_1``): the
        estimate on the data, the percentile interval (``ci_lower``, ``ci_upper``) and
        the share of resamples where the quantity was infinite (a monotone likelihood,
        or a median not reached) or undefined (``share_infinite``, ``share_undefined``).
    replicates : pandas.DataFrame
        One row per resample: ``log_hr``, ``median_0``, ``median_1``.
    n_boot : int
    level : float
    stratified : bool
    """

    summary: pd.DataFrame
    replicates: pd.DataFrame = field(repr=False)
    n_boot: int = 0
    level: float = 0.95
    stratified: bool = True


def bootstrap(
    time: Any,
    event: Any,
    group: Any,
    n_boot: int = 2000,
    level: float = 0.95,
    stratified: bool = True,
    seed: int = 0,
) -> BootstrapResult:
    """Percentile bootstrap intervals for the hazard ratio and the median of each group.

    Parameters
    ----------
    time, event : array-like
        Follow-up and event indicator.
    group : array-like of {0, 1}
        Group (1 = e.g. HER2-positive CTCs).
    n_boot : int
        Resamples.
    level : float
        Coverage of the intervals.
    stratified : bool
        Resample within each group (the group sizes stay fixed, e.g. 6 and 43); else
        resample patients from the whole cohort.
    seed : int

    Returns
    -------
    BootstrapResult

    Notes
    -----
    Each resample is a vector of multinomial case counts; the Cox estimate (Efron ties,
    :func:`cox_binary_rows`) and the Kaplan-Meier medians (:func:`km_median_rows`) of
    all resamples are computed together. Infinite values are kept when taking the
    percentiles (a resample in which the small group has no deaths has HR 0 or
    infinity: that is information about stability, not noise to drop), so an interval
    end can be 0 or infinity. Resamples in which a group is empty (only possible
    unstratified) are dropped from the hazard-ratio interval. Each resample costs
    O(n) per Newton step; resamples are drawn and evaluated in chunks that bound memory
    (the same numbers as drawing them all at once).

    References
    ----------
    .. [1] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993,
       chapter 13 (percentile intervals). doi:10.1201/9780429246593
    .. [2] Davison AC, Hinkley DV. Bootstrap Methods and their Application. Cambridge
       University Press 1997, section 7.3 (censored data). doi:10.1017/CBO9780511802843
    """
    t, e, g = _data(time, event, group)
    masks = [g, ~g] if stratified else [np.ones(t.size, bool)]
    log_hr, med0, med1 = (np.empty(n_boot) for _ in range(3))
    for lo, w in _weight_chunks(seed, masks, n_boot, _chunk_rows(t.size)):
        part = slice(lo, lo + w.shape[0])
        log_hr[part] = cox_binary_rows(t, e, g, w)
        med0[part] = km_median_rows(t, e, w * ~g)
        med1[part] = km_median_rows(t, e, w * g)
    est_lhr = float(cox_binary_rows(t, e, g)[0])
    est0 = float(km_median_rows(t, e, ~g)[0])
    est1 = float(km_median_rows(t, e, g)[0])
    alpha = (1 - level) / 2
    rows = []
    for name, est, values, transform in (
        ("hazard_ratio", est_lhr, log_hr, np.exp),
        ("median_0", est0, med0, None),
        ("median_1", est1, med1, None),
    ):
        ok = ~np.isnan(values)
        v = values[ok]
        lo, hi = np.quantile(v, [alpha, 1 - alpha], method="inverted_cdf") if v.size else (np.nan, np.nan)
        if transform is not None:
            est, lo, hi = transform(est), transform(lo), transform(hi)
        rows.append({"quantity": name, "estimate": float(est), "ci_lower": float(lo),
                     "ci_upper": float(hi), "share_infinite": float(np.mean(np.isinf(v))) if v.size else np.nan,
                     "share_undefined": float(np.mean(~ok))})
    reps = pd.DataFrame({"log_hr": log_hr, "median_0": med0, "median_1": med1})
    return BootstrapResult(pd.DataFrame(rows), reps, int(n_boot), level, stratified)


# ---------------------------------------------------------------------- permutation


@dataclass(frozen=True)
class PermutationResult:
    """Permutation log-rank test.

    Attributes
    ----------
    statistic : float
        Observed log-rank chi-square.
    p_asymptotic : float
        The usual chi-square (1 df) p-value.
    p_value : float
        Permutation p-value: exact share of relabellings with a statistic at least as
        large (``exact``), or the Monte Carlo estimate ``(1 + k) / (1 + B)``.
    exact : bool
    n_permutations : int
        Relabellings evaluated (all of them when exact).
    mc_se : float
        Monte Carlo standard error of ``p_value`` (0 when exact).
    """

    statistic: float
    p_asymptotic: float
    p_value: float
    exact: bool
    n_permutations: int
    mc_se: float


def permutation_logrank(
    time: Any,
    event: Any,
    group: Any,
    n_permutations: int = 10_000,
    max_exact: int = 100_000,
    seed: int = 0,
) -> PermutationResult:
    """Exact or Monte Carlo permutation p-value of the two-group log-rank test.

    Under the null hypothesis that survival does not depend on the group, and with
    censoring unrelated to it, every assignment of the group labels (keeping the group
    sizes) is equally likely. The p-value is the share of assignments whose log-rank
    statistic is at least the observed one.

    Parameters
    ----------
    time, event, group : array-like
        As in :func:`bootstrap`.
    n_permutations : int
        Random relabellings when the exact enumeration is too large.
    max_exact : int
        Enumerate all ``C(n, n1)`` relabellings when there are at most this many.
    seed : int

    Returns
    -------
    PermutationResult

    Notes
    -----
    Ties between the statistics (common with small groups) count as "at least as large"
    (relative tolerance 1e-9). The Monte Carlo p-value ``(1 + k) / (1 + B)`` counts the
    observed labelling among the permutations, so it is never 0 and the test keeps its
    level exactly. A relabelling costs O(n): the numbers at risk and deaths per time are
    shared, and only the group-1 counts per time are recounted.

    References
    ----------
    .. [1] Good P. Permutation, Parametric and Bootstrap Tests of Hypotheses, 3rd ed.
       Springer 2005. doi:10.1007/b138696
    .. [2] Phipson B, Smyth GK. Permutation p-values should never be zero: calculating
       exact p-values when permutations are randomly drawn. Stat Appl Genet Mol Biol
       2010;9:39. doi:10.2202/1544-6115.1585
    """
    t, e, g = _data(time, event, group)
    n, k = t.size, int(g.sum())
    obs = logrank_rows(t, e, g)
    stat = float(obs["statistic"][0])
    threshold = stat * (1 - 1e-9)
    # the numbers at risk and deaths per distinct time do not depend on the labels; a
    # relabelling needs only its group-1 counts per time, from the k group-1 positions
    _, n_all, _, d_all, _ = tables(t, e, np.zeros(n), None)
    inv = np.unique(t, return_inverse=True)[1]
    size = n_all.shape[1]
    ef = e.astype(float)

    def relabelled(b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Log-rank statistics of b relabellings given the (row, patient) of each 1."""
        key = rows * size + inv[cols]
        removed1 = np.bincount(key, minlength=b * size).reshape(b, size).astype(float)
        d1 = np.bincount(key, weights=ef[cols], minlength=b * size).reshape(b, size)
        n1 = np.cumsum(removed1[:, ::-1], axis=1)[:, ::-1]
        shape = (b, size)
        return logrank_tables(np.broadcast_to(n_all, shape), n1,
                               np.broadcast_to(d_all, shape), d1)["statistic"]

    total = math.comb(n, k)
    if total <= max_exact:
        count = 0
        combos = itertools.combinations(range(n), k)
        chunk = min(20_000, _chunk_rows(n))
        while True:
            block = list(itertools.islice(combos, chunk))
            if not block:
                break
            rows = np.repeat(np.arange(len(block)), k)
            count += int(np.sum(relabelled(len(block), rows, np.asarray(block).ravel())
                                >= threshold))
        return PermutationResult(stat, float(obs["p_value"][0]), count / total, True, total, 0.0)
    rng = np.random.default_rng(seed)
    count, done = 0, 0
    while done < n_permutations:
        b = min(20_000, _chunk_rows(n), n_permutations - done)
        labels = rng.permuted(np.broadcast_to(g.astype(np.int8), (b, n)), axis=1)
        count += int(np.sum(relabelled(b, *np.nonzero(labels)) >= threshold))
        done += b
    p = (1 + count) / (1 + n_permutations)
    return PermutationResult(stat, float(obs["p_value"][0]), p, False, int(n_permutations),
                             float(math.sqrt(p * (1 - p) / n_permutations)))


# ---------------------------------------------------------------------- sensitivity


#: Up to this many patients, :func:`sensitivity` refits the Cox model for every variation;
#: above it, the hazard ratios are one Newton step from the full-data estimate.
SENSITIVITY_EXACT_COX_MAX = 1000


def sensitivity(time: Any, event: Any, group: Any, ids: Any = None) -> pd.DataFrame:
    """Log-rank p-value and Cox hazard ratio with one patient left out, or one outcome changed.

    Parameters
    ----------
    time, event, group : array-like
        As in :func:`bootstrap`.
    ids : array-like, optional
        Patient identifiers (default 0..n-1).

    Returns
    -------
    pandas.DataFrame
        Two rows per patient (``change`` = ``"left out"`` and ``"outcome changed"``:
        an event becomes a censoring at the same time, or a censoring becomes an
        event) with ``patient``, ``group``, ``time``, ``event`` (the original),
        ``p_value``, ``hazard_ratio`` (Cox, Efron; 0 or inf when the likelihood is
        monotone) and ``statistic``; plus one first row ``change = "none"`` with the
        original data.

    Notes
    -----
    The log-rank statistic of every variation is exact and all 2n of them cost
    O(n log n) together: a variation changes the numbers at risk only up to one
    patient's time, by one, so each sum over the distinct times is a prefix sum of
    the lowered terms plus a suffix sum of the unchanged ones (the closed-form
    jackknife of a sum of per-time terms). The hazard ratios are refitted for every
    variation (Newton, as :func:`cox_binary_rows`) up to ``SENSITIVITY_EXACT_COX_MAX``
    patients; above that they are one step from the full-data estimate, with the
    variation's exact score, information and information derivative at that estimate
    (Cain & Lange's one-step case influence, with Halley's second-order correction:
    the error is of the order of the cube of the change in the log hazard ratio), and a
    variation whose likelihood becomes monotone is still reported as 0 or infinity.

    References
    ----------
    .. [1] Cook RD. Detection of influential observation in linear regression.
       Technometrics 1977;19:15-18. doi:10.1080/00401706.1977.10489493
    .. [2] Cain KC, Lange NT. Approximate case influence for the proportional hazards
       regression model with censored data. Biometrics 1984;40:493-499.
       doi:10.2307/2531402
    """
    t, e, g = _data(time, event, group)
    n = t.size
    ids = np.arange(n) if ids is None else np.asarray(ids)
    ef, gf = e.astype(float), g.astype(float)
    inv, *tables = base_tables(t, ef, gf)
    (exp_left, var_left), (exp_changed, var_changed) = variation_sums(
        logrank_variation_terms, tuple(tables), inv, gf, ef)
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_all, var_all = logrank_variation_terms(*tables).sum(axis=1)
    observed = tables[3].sum()
    lr = logrank_result(
        np.concatenate(([observed], observed - ef * gf, observed + (1 - 2 * ef) * gf)),
        np.concatenate(([exp_all], exp_left, exp_changed)),
        np.concatenate(([var_all], var_left, var_changed)))
    lhr = variation_cox(t, e, g, inv, tuple(tables), exact=n <= SENSITIVITY_EXACT_COX_MAX)
    change = ["none"] + ["left out"] * n + ["outcome changed"] * n
    idx = np.concatenate([[-1], np.arange(n), np.arange(n)])
    out = pd.DataFrame({
        "change": change,
        "patient": [None] + list(ids) + list(ids),
        "group": np.where(idx >= 0, g[idx].astype(int), -1),
        "time": np.where(idx >= 0, t[idx], np.nan),
        "event": np.where(idx >= 0, e[idx].astype(int), -1),
        "statistic": lr["statistic"],
        "p_value": lr["p_value"],
        "hazard_ratio": np.exp(lhr),
    })
    return out


# ------------------------------------------------------------------- per endpoint


@dataclass(frozen=True)
class StabilityResult:
    """Bootstrap, permutation test and sensitivity analysis of one endpoint.

    Attributes
    ----------
    endpoint : str
        Endpoint prefix (``"pfs"``, ``"os"``).
    group : str
        The 0/1 grouping column.
    n : int
        Patients analysed (those with a value of ``group``).
    n_group : int
        Patients in group 1.
    bootstrap : BootstrapResult
    permutation : PermutationResult
    sensitivity : pandas.DataFrame
        As returned by :func:`sensitivity`.
    """

    endpoint: str
    group: str
    n: int
    n_group: int
    bootstrap: BootstrapResult
    permutation: PermutationResult
    sensitivity: pd.DataFrame = field(repr=False)


def stability(
    table: pd.DataFrame,
    endpoint: str,
    group: str = "her2_pos_first_follow_up",
    id_column: str | None = "patient_id",
    n_boot: int = 2000,
    n_permutations: int = 20_000,
    seed: int = 0,
) -> StabilityResult:
    """How stable is a two-group comparison of one endpoint? Bootstrap, permutation, sensitivity.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient with ``<endpoint>_days``, ``<endpoint>_event`` and ``group``;
        patients without a value of ``group`` are left out.
    endpoint : str
        Endpoint prefix, e.g. ``"os"``.
    group : str
        The 0/1 grouping column.
    id_column : str or None
        Patient identifiers for :func:`sensitivity` (ignored when not a column).
    n_boot, n_permutations : int
        Passed to :func:`bootstrap` and :func:`permutation_logrank`.
    seed : int
        Seed of both.

    Returns
    -------
    StabilityResult
    """
    dur, ev = f"{endpoint}_days", f"{endpoint}_event"
    d = table.dropna(subset=[group, dur, ev])
    t, e, g = d[dur], d[ev], d[group]
    ids = d[id_column] if id_column is not None and id_column in d else None
    return StabilityResult(
        endpoint=endpoint, group=group, n=len(d), n_group=int((g == 1).sum()),
        bootstrap=bootstrap(t, e, g, n_boot=n_boot, seed=seed),
        permutation=permutation_logrank(t, e, g, n_permutations=n_permutations, seed=seed),
        sensitivity=sensitivity(t, e, g, ids=ids),
    )


def stability_summary(results: Iterable[StabilityResult]) -> pd.DataFrame:
    """One row per endpoint: bootstrap interval, permutation p and sensitivity ranges.

    Parameters
    ----------
    results : iterable of StabilityResult
        From :func:`stability`, e.g. one per endpoint.

    Returns
    -------
    pandas.DataFrame
        ``endpoint``, ``n``, ``n_group``, ``hazard_ratio`` (Cox estimate on the data),
        ``hr_lower``, ``hr_upper`` (bootstrap percentile interval), ``p_logrank`` (the
        chi-square p-value), ``p_permutation``, ``permutation_exact``,
        ``p_left_out_min``, ``p_left_out_max`` (log-rank p with one patient left out)
        and ``p_changed_min``, ``p_changed_max`` (with one outcome changed),
        ``n_boot``, ``n_permutations``.
    """
    rows = []
    for r in results:
        hr = r.bootstrap.summary.set_index("quantity").loc["hazard_ratio"]
        sens = r.sensitivity
        left = sens.loc[sens["change"] == "left out", "p_value"]
        changed = sens.loc[sens["change"] == "outcome changed", "p_value"]
        rows.append({
            "endpoint": r.endpoint, "n": r.n, "n_group": r.n_group,
            "hazard_ratio": float(hr["estimate"]), "hr_lower": float(hr["ci_lower"]),
            "hr_upper": float(hr["ci_upper"]),
            "p_logrank": r.permutation.p_asymptotic, "p_permutation": r.permutation.p_value,
            "permutation_exact": r.permutation.exact,
            "p_left_out_min": float(left.min()), "p_left_out_max": float(left.max()),
            "p_changed_min": float(changed.min()), "p_changed_max": float(changed.max()),
            "n_boot": r.bootstrap.n_boot, "n_permutations": r.permutation.n_permutations,
        })
    return pd.DataFrame(rows)
