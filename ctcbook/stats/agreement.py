"""Agreement between two binary ratings: Cohen's kappa, its maximum, HER2 concordance.

References
----------
.. [1] Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas
   1960;20:37-46. doi:10.1177/001316446002000104
.. [2] Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted
   kappa. Psychol Bull 1969;72:323-327. doi:10.1037/h0028106
.. [3] Sim J, Wright CC. The kappa statistic in reliability studies: use,
   interpretation, and sample size requirements. Phys Ther 2005;85:257-268.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.stats._engine import Z975 as _Z975


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa with its large-sample standard error and 95% interval.

    Attributes
    ----------
    n : int
    observed : float
        Observed proportion of agreement p_o.
    expected : float
        Agreement expected by chance from the margins, p_e.
    kappa : float
        (p_o - p_e) / (1 - p_e).
    se : float
        Fleiss-Cohen-Everitt (1969) standard error (NaN when p_e = 1).
    ci_lower, ci_upper : float
        kappa -/+ 1.96 se, clipped to [-1, 1].
    """

    n: int
    observed: float
    expected: float
    kappa: float
    se: float
    ci_lower: float
    ci_upper: float


def kappa_max(counts: Any) -> float:
    """The largest Cohen's kappa a table with these margins could reach.

    Parameters
    ----------
    counts : array-like or DataFrame, shape (k, k)
        As in :func:`cohen_kappa`.

    Returns
    -------
    float
        ``(p_o,max - p_e) / (1 - p_e)`` with ``p_o,max = sum_i min(p_i., p_.i)``: the
        kappa of the table with the most agreement that the two margins allow (Cohen
        1960, [1] of the module). When the margins differ (e.g. far fewer HER2+ CTCs than
        HER2+ primaries), it is below 1: perfect agreement is then impossible, and kappa is
        best read against this cap (Sim and Wright 2005, [3]). NaN when ``p_e = 1``.

    Examples
    --------
    >>> round(kappa_max([[20, 5], [10, 15]]), 3)
    0.8
    """
    c = np.asarray(counts, dtype=float)
    k = cohen_kappa(c)  # validates the table
    p = c / c.sum()
    po_max = float(np.minimum(p.sum(axis=1), p.sum(axis=0)).sum())
    if not np.isfinite(k.kappa):
        return float("nan")
    return (po_max - k.expected) / (1.0 - k.expected)


def cohen_kappa(counts: Any) -> Kappa:
    """Cohen's kappa for a square table of counts (rater A in rows, rater B in columns).

    Parameters
    ----------
    counts : array-like or DataFrame, shape (k, k)
        Counts of subjects by category of the two ratings, categories in the same order
        in rows and columns.

    Returns
    -------
    Kappa

    Notes
    -----
    With cell proportions p_ij, margins p_i. and p_.j, p_o = sum p_ii and
    p_e = sum p_i. p_.i, kappa = (p_o - p_e) / (1 - p_e) [1]_. Its variance is the
    large-sample one of Fleiss, Cohen and Everitt [2]_ (as in R's ``psych::cohen.kappa``
    and statsmodels' ``cohens_kappa``)::

        [ sum_i p_ii (1 - (p_i. + p_.i)(1 - k))^2
          + (1 - k)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
          - (k - p_e (1 - k))^2 ] / (n (1 - p_e)^2)

    With 33 or 50 subjects this interval is approximate. ([1] and [2]: the module's
    references.)

    Examples
    --------
    >>> round(cohen_kappa([[20, 5], [10, 15]]).kappa, 3)
    0.4
    """
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise ValueError("counts must be a square table with at least 2 categories")
    if (c < 0).any() or not np.isfinite(c).all():
        raise ValueError("counts must be finite and non-negative")
    n = float(c.sum())
    if n == 0:
        raise ValueError("the table is empty")
    p = c / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float(rows @ cols)
    if pe >= 1.0:
        return Kappa(int(n), po, pe, float("nan"), float("nan"), float("nan"), float("nan"))
    k = (po - pe) / (1.0 - pe)
    diag = np.diag(p)
    a = float(np.sum(diag * (1.0 - (rows + cols) * (1.0 - k)) ** 2))
    off = p.copy()
    np.fill_diagonal(off, 0.0)
    b = (1.0 - k) ** 2 * float(np.sum(off * (cols[:, None] + rows[None, :]) ** 2))
    var = (a + b - (k - pe * (1.0 - k)) ** 2) / (n * (1.0 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    return Kappa(int(n), po, pe, float(k), se,
                 max(-1.0, k - _Z975 * se), min(1.0, k + _Z975 * se))


@dataclass(frozen=True)
class Concordance:
    """HER2 status of the primary tumour against HER2+ CTCs.

    Attributes
    ----------
    table : pandas.DataFrame
        2 x 2 counts: rows "HER2-positive primary", "HER2-negative primary"; columns
        "HER2+ CTCs", "no HER2+ CTCs".
    kappa : Kappa
    n_excluded : int
        Patients left out (primary HER2 unknown, or no CTC result).
    negative_primary_total, negative_primary_with_her2_ctc : int
        The paper's "8 of 33".
    positive_primary_total, positive_primary_with_her2_ctc : int
    """

    table: pd.DataFrame
    kappa: Kappa
    n_excluded: int
    negative_primary_total: int
    negative_primary_with_her2_ctc: int
    positive_primary_total: int
    positive_primary_with_her2_ctc: int

    @property
    def discordant(self) -> int:
        """Patients whose primary and CTC HER2 status disagree."""
        c = self.table.to_numpy()
        return int(c[0, 1] + c[1, 0])


def her2_concordance(table: pd.DataFrame, ctc_column: str = "her2_pos_any") -> Concordance:
    """Agreement between the primary tumour's HER2 status and HER2+ CTCs.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table (columns ``primary_her2`` and ``ctc_column``).
    ctc_column : str
        The CTC marker: ``"her2_pos_any"`` (the paper's "at any time"),
        ``"her2_pos_baseline"`` or ``"her2_pos_first_follow_up"``.

    Returns
    -------
    Concordance
        The 2 x 2 table (patients with a known primary status and a CTC result), the
        percentage agreement and Cohen's kappa, and the counts the paper quotes. The
        negative-primary counts use every patient with a HER2-negative primary (as the
        paper's "8 of 33"), a patient without CTC result counting as without HER2+ CTCs.
    """
    primary = table["primary_her2"]
    ctc = table[ctc_column]
    known = primary.isin(["positive", "negative"]) & ctc.notna()
    counts = np.zeros((2, 2), dtype=int)
    for i, level in enumerate(("positive", "negative")):
        for j, value in enumerate((1.0, 0.0)):
            counts[i, j] = int((known & (primary == level) & (ctc == value)).sum())
    frame = pd.DataFrame(counts, index=["HER2-positive primary", "HER2-negative primary"],
                         columns=["HER2+ CTCs", "no HER2+ CTCs"])
    neg, pos = primary == "negative", primary == "positive"
    return Concordance(
        table=frame,
        kappa=cohen_kappa(counts),
        n_excluded=int((~known).sum()),
        negative_primary_total=int(neg.sum()),
        negative_primary_with_her2_ctc=int((neg & (ctc == 1)).sum()),
        positive_primary_total=int(pos.sum()),
        positive_primary_with_her2_ctc=int((pos & (ctc == 1)).sum()),
    )


