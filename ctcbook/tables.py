"""The book's result tables: Table 1, survival comparisons, Cox tables and agreement.

Every function returns a tidy ``pandas.DataFrame`` or a small frozen dataclass; the
formatting helpers (:func:`format_p`, :func:`format_hr`, :func:`html_table`) turn them
into what a page shows. Nothing here draws a figure.

Conventions
-----------
* Times are stored in days and reported in months (1 month = 365.25 / 12 days).
* A binary marker column holds 1.0 / 0.0 and NaN where it was not measured; patients
  with NaN are left out of any comparison that uses the marker (complete cases).
* Hazard ratios come from Cox models (Efron ties, Wald intervals and p-values) fitted
  with :func:`ctcbook.survival.cox`; a model that cannot be fitted (e.g. no events in
  one group of another cohort) gives NaN and a plain-language ``note``, never an error.

References
----------
.. [1] Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas
   1960;20:37-46. doi:10.1177/001316446002000104
.. [2] Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted
   kappa. Psychol Bull 1969;72:323-327. doi:10.1037/h0028106
.. [3] Hayashi N, et al. Prognostic value of HER2-positive circulating tumor cells in
   patients with metastatic breast cancer. Int J Clin Oncol 2012;17:96-104.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .paper import CTC_THRESHOLD, ENDPOINTS
from .survival import ModelError, cox, logrank, median_survival

__all__ = [
    "DAYS_PER_MONTH",
    "COVARIATE_LABELS",
    "HTMLTable",
    "html_table",
    "format_p",
    "format_hr",
    "table1",
    "Kappa",
    "cohen_kappa",
    "kappa_max",
    "Concordance",
    "her2_concordance",
    "SurvivalComparison",
    "compare_survival",
    "cox_table",
    "format_cox_table",
    "follow_up",
    "p_text",
    "comparison_table",
]

#: Days per month (365.25 / 12), as on every time axis of the book.
DAYS_PER_MONTH = 30.4375
_Z975 = float(stats.norm.ppf(0.975))

#: Display names of the covariates used in the book's Cox models.
COVARIATE_LABELS: dict[str, str] = {
    "her2_pos_first_follow_up": "HER2+ CTCs at first follow-up",
    "her2_pos_baseline": "HER2+ CTCs at baseline",
    "her2_pos_any": "HER2+ CTCs at any time",
    "ctc_pos_baseline": f"≥ {CTC_THRESHOLD} CTCs at baseline",
    "ctc_pos_first_follow_up": f"≥ {CTC_THRESHOLD} CTCs at first follow-up",
    "prior_therapies": "Prior lines of therapy (per line)",
    "age_per_10_years": "Age (per 10 years)",
    "primary_her2_negative": "HER2-negative primary tumour",
    "hormone_receptor_positive": "Hormone receptor positive",
    "visceral_metastasis": "Visceral metastasis",
}


# ------------------------------------------------------------------------ formatting


@dataclass(frozen=True)
class HTMLTable:
    """A table rendered as plain HTML (no index), shown as such by Jupyter and myst-nb."""

    html: str
    frame: pd.DataFrame = field(repr=False)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:  # text/plain fallback
        return self.frame.to_string(index=False)


def html_table(df: pd.DataFrame, caption: str | None = None,
               classes: str = "ctcbook-table") -> HTMLTable:
    """Render ``df`` as an HTML table without its index.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its values are shown as ``str`` (format numbers first), NaN as empty.
    caption : str, optional
        A ``<caption>`` (HTML-escaped).
    classes : str
        CSS classes of the ``<table>`` (space-separated).

    Returns
    -------
    HTMLTable
        ``.html`` holds the markup; Jupyter and myst-nb render it as a table.
    """
    text = df.to_html(index=False, border=0, na_rep="", classes=classes.split(), escape=True)
    text = text.replace(' style="text-align: right;"', "")
    if caption:
        head, sep, rest = text.partition(">")
        text = f"{head}{sep}\n  <caption>{html.escape(caption)}</caption>{rest}"
    return HTMLTable(text, df)


def whole_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with float columns that hold only whole numbers as nullable ``Int64``.

    Counts and days are stored as floats wherever a value can be missing (NaN), so a table
    would show ``13.0`` and ``0.0``; this shows ``13`` and ``0`` (missing stays missing).
    Columns with any fractional value are left as they are.

    >>> whole_numbers(pd.DataFrame({"n": [13.0, 0.0, None], "x": [0.5, 1.0, 2.0]})).dtypes.tolist()
    [Int64Dtype(), dtype('float64')]
    """
    out = df.copy()
    for col in out.columns:
        values = out[col]
        if not pd.api.types.is_float_dtype(values):
            continue
        finite = values.dropna().to_numpy(dtype=float)
        if np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)) \
                and np.all(np.abs(finite) < 2**53):
            out[col] = values.astype("Int64")
    return out


def format_p(p: float) -> str:
    """A p-value for prose and tables: ``"< 0.001"``, 3 decimals below 0.1, else 2.

    >>> format_p(0.0004), format_p(0.0132), format_p(0.43)
    ('< 0.001', '0.013', '0.43')
    """
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    if p < 0.0995:
        return f"{p:.3f}"
    return f"{p:.2f}"


def format_hr(hr: float, lower: float, upper: float) -> str:
    """A hazard ratio with its 95% CI, e.g. ``"3.1 (1.4-6.9)"``; ``"n/a"`` when NaN."""
    if not all(np.isfinite([hr, lower, upper])):
        return "n/a"

    def f(x: float) -> str:
        return f"{x:.2f}" if x < 10 else f"{x:.1f}"

    return f"{f(hr)} ({f(lower)}-{f(upper)})"


def _n_pct(k: int, n: int) -> str:
    return f"{k:,} ({100.0 * k / n:.0f}%)" if n else "0"


def _median_range(x: pd.Series) -> str:
    x = x.dropna()
    if x.empty:
        return ""
    return f"{x.median():g} ({x.min():g}-{x.max():g})"


# --------------------------------------------------------------------------- Table 1


def _table1_rows(t: pd.DataFrame, threshold: int) -> list[tuple[str, str, str]]:
    n = len(t)
    rows: list[tuple[str, str, str]] = [("Patients", "", str(n))]
    rows.append(("Age, years", "median (range)", _median_range(t["age_years"])))
    for col, title, levels in (
        ("primary_her2", "Primary tumour HER2", ("positive", "negative", "unknown")),
        ("hormone_receptor", "Hormone receptor", ("positive", "negative", "unknown")),
    ):
        for level in levels:
            rows.append((title, level, _n_pct(int((t[col] == level).sum()), n)))
    rows.append(("Prior lines of therapy", "median (range)", _median_range(t["prior_therapies"])))
    pt = t["prior_therapies"]
    for label, mask in (("0", pt == 0), ("1", pt == 1), ("2", pt == 2), ("≥ 3", pt >= 3)):
        rows.append(("Prior lines of therapy", label, _n_pct(int(mask.sum()), n)))
    for level in ("chemotherapy", "endocrine", "anti_her2", "combination", "other"):
        rows.append(("New line of therapy", level.replace("_", "-").replace("anti-her2", "anti-HER2"),
                     _n_pct(int((t["therapy"] == level).sum()), n)))
    rows.append(("Visceral metastasis", "yes", _n_pct(int((t["visceral_metastasis"] == 1).sum()), n)))
    for tp, name in (("baseline", "baseline"), ("first_follow_up", "first follow-up")):
        drawn = t[f"ctc_{tp}"].notna()
        rows.append((f"CTCs at {name}", "median (range)", _median_range(t[f"ctc_{tp}"])))
        rows.append((f"CTCs at {name}", f"≥ {threshold}",
                     _n_pct(int((t[f"ctc_pos_{tp}"] == 1).sum()), n)))
        rows.append((f"CTCs at {name}", "HER2+ CTCs",
                     _n_pct(int((t[f"her2_pos_{tp}"] == 1).sum()), n)))
        rows.append((f"CTCs at {name}", "no sample", _n_pct(int((~drawn).sum()), n)))
    rows.append(("HER2+ CTCs at any time", "yes", _n_pct(int((t["her2_pos_any"] == 1).sum()), n)))
    return rows


def table1(
    table: pd.DataFrame,
    by: str | None = None,
    labels: Mapping[Any, str] | None = None,
    missing_label: str = "not evaluable",
    threshold: int = CTC_THRESHOLD,
) -> pd.DataFrame:
    """Patient characteristics (the paper's Table 1), overall and optionally by group.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table of :func:`ctcbook.markers.patient_table`.
    by : str, optional
        A column to split by (e.g. ``"her2_pos_first_follow_up"``); one column per value,
        in sorted order, and one for NaN (``missing_label``) if any.
    labels : mapping, optional
        Display name per value of ``by``.
    missing_label : str
        Name of the column of patients with NaN in ``by``.
    threshold : int
        The CTC-positive threshold used to build ``table`` (for the row label).

    Returns
    -------
    pandas.DataFrame
        Columns ``Characteristic``, ``Level``, ``All patients (n = N)`` and one column
        per group (``"<label> (n = k)"``). Counts are "k (p%)" with p a percentage of the
        column's patients; continuous rows are "median (min-max)". All cells are strings.
    """
    rows = _table1_rows(table, threshold)
    out = pd.DataFrame(rows, columns=["Characteristic", "Level", f"All patients (n = {len(table):,})"])
    if by is not None:
        labels = dict(labels or {})
        values = table[by]
        groups = [(v, values == v) for v in sorted(values.dropna().unique())]
        if values.isna().any():
            groups.append((None, values.isna()))
        for value, mask in groups:
            name = missing_label if value is None else labels.get(value, str(value))
            sub = _table1_rows(table.loc[mask], threshold)
            out[f"{name} (n = {int(mask.sum()):,})"] = [r[2] for r in sub]
    # show each characteristic's name once (on its first row)
    first = ~out["Characteristic"].duplicated()
    out.loc[~first, "Characteristic"] = ""
    return out


def follow_up(table: pd.DataFrame) -> dict[str, float]:
    """Follow-up as the paper reports it: median and range of every patient's OS time.

    Also the reverse Kaplan-Meier median (censoring as the event), in days.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient with ``os_days`` and ``os_event``.

    Returns
    -------
    dict
        ``median_days``, ``min_days``, ``max_days``, ``reverse_km_median_days``.

    References
    ----------
    .. [1] Schemper M, Smith TL. A note on quantifying follow-up in studies of failure
       time. Control Clin Trials 1996;17:343-346. doi:10.1016/0197-2456(96)00075-X
    """
    t = table["os_days"].astype(float)
    rev = median_survival(t, 1 - table["os_event"].astype(int))
    return {
        "median_days": float(t.median()),
        "min_days": float(t.min()),
        "max_days": float(t.max()),
        "reverse_km_median_days": float(rev.median),
    }


# ------------------------------------------------------------------------- agreement


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
        kappa of the table with the most agreement that the two margins allow [1]_. When
        the margins differ (e.g. far fewer HER2+ CTCs than HER2+ primaries), it is below 1:
        perfect agreement is then impossible, and kappa is best read against this cap [2]_.
        NaN when ``p_e = 1``.

    References
    ----------
    .. [1] Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas
       1960;20:37-46.
    .. [2] Sim J, Wright CC. The kappa statistic in reliability studies: use,
       interpretation, and sample size requirements. Phys Ther 2005;85:257-268.

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

    With 33 or 50 subjects this interval is approximate.

    References
    ----------
    .. [1] Cohen J. Educ Psychol Meas 1960;20:37-46.
    .. [2] Fleiss JL, Cohen J, Everitt BS. Psychol Bull 1969;72:323-327.

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


# ------------------------------------------------------------------ survival compare


def _endpoint(endpoint: str) -> tuple[str, str, str]:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {sorted(ENDPOINTS)}, not {endpoint!r}")
    return ENDPOINTS[endpoint]


@dataclass(frozen=True)
class SurvivalComparison:
    """Two groups compared on one endpoint: medians, log-rank test and Cox hazard ratio.

    Attributes
    ----------
    endpoint : str
        ``"pfs"`` or ``"os"``.
    column : str
        The grouping column (1 = exposed group, 0 = reference).
    groups : pandas.DataFrame
        One row per group (reference first): ``group``, ``label``, ``n``, ``events``,
        ``expected`` (log-rank expected events), ``median_months``, ``median_lower``,
        ``median_upper`` (95% CI; ``inf`` = not reached).
    logrank_statistic, logrank_p : float
    hr, hr_lower, hr_upper, hr_p : float
        Cox hazard ratio of the exposed group vs the reference (NaN if not estimable).
    hr_note : str
        Why the hazard ratio is NaN, or "".
    n_excluded : int
        Patients without a value of ``column``.
    """

    endpoint: str
    column: str
    groups: pd.DataFrame
    logrank_statistic: float
    logrank_p: float
    hr: float
    hr_lower: float
    hr_upper: float
    hr_p: float
    hr_note: str
    n_excluded: int

    @property
    def exposed(self) -> pd.Series:
        """The row of the exposed group (value 1)."""
        return self.groups.iloc[1]

    @property
    def direction(self) -> str:
        """``"shorter"`` if the exposed group had more events than expected, else ``"longer"``.

        Based on the log-rank observed and expected events of the exposed group, so it
        is defined even when the hazard ratio is not.
        """
        e = self.exposed
        return "shorter" if e["events"] > e["expected"] else "longer"

    @property
    def note(self) -> str:
        """Two lines for a figure: log-rank p and the hazard ratio with its CI."""
        hr = ("HR not estimable" if not np.isfinite(self.hr)
              else f"HR {format_hr(self.hr, self.hr_lower, self.hr_upper)}")
        p = format_p(self.logrank_p)
        p = f"p {p}" if p.startswith("<") else f"p = {p}"
        return f"Log-rank {p}\n{hr}"

    def summary(self) -> pd.DataFrame:
        """A display table: group, n, events, median (95% CI) in months."""
        g = self.groups

        def med(row: pd.Series) -> str:
            def f(x: float) -> str:
                return "NR" if not np.isfinite(x) else f"{x:.1f}"
            return f"{f(row.median_months)} ({f(row.median_lower)}-{f(row.median_upper)})"

        return pd.DataFrame({
            "Group": g["label"],
            "Patients": g["n"].astype(int),
            "Events": g["events"].astype(int),
            "Median, months (95% CI)": [med(r) for _, r in g.iterrows()],
        })


def compare_survival(
    table: pd.DataFrame,
    column: str,
    endpoint: str,
    labels: Mapping[float, str] | None = None,
) -> SurvivalComparison:
    """Compare survival between the patients with ``column == 1`` and ``column == 0``.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table.
    column : str
        A 0/1 marker column (NaN rows are left out).
    endpoint : {"pfs", "os"}
    labels : mapping, optional
        Display labels for 0 and 1.

    Returns
    -------
    SurvivalComparison

    Raises
    ------
    ValueError
        If either group is empty.
    """
    dur, ev, _ = _endpoint(endpoint)
    labels = {0.0: "no", 1.0: "yes", **{float(k): v for k, v in (labels or {}).items()}}
    keep = table[column].notna()
    d = table.loc[keep, [dur, ev, column]].astype(float)
    g = d[column]
    if not ((g == 0).any() and (g == 1).any()):
        raise ValueError(f"{column!r} needs patients with both 0 and 1 to compare groups")
    lr = logrank(d[dur], d[ev], g)
    lt = lr.table.set_index("group")
    rows = []
    for value in (0.0, 1.0):
        sub = d[g == value]
        m = median_survival(sub[dur] / DAYS_PER_MONTH, sub[ev])
        rows.append({
            "group": value, "label": labels[value], "n": len(sub), "events": int(sub[ev].sum()),
            "expected": float(lt.loc[value, "expected"]),
            "median_months": m.median, "median_lower": m.ci_lower, "median_upper": m.ci_upper,
        })
    try:
        s = cox(d, dur, ev, [column]).summary.loc[column]
        hr, lo, hi, p, note = s["hr"], s["hr_lower"], s["hr_upper"], s["p"], ""
    except ModelError as err:
        hr = lo = hi = p = float("nan")
        note = str(err)
    return SurvivalComparison(
        endpoint=endpoint, column=column, groups=pd.DataFrame(rows),
        logrank_statistic=lr.statistic, logrank_p=lr.p_value,
        hr=float(hr), hr_lower=float(lo), hr_upper=float(hi), hr_p=float(p), hr_note=note,
        n_excluded=int((~keep).sum()),
    )


# -------------------------------------------------------------------------- Cox tables


def _with_derived(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    if "age_years" in t:
        t["age_per_10_years"] = t["age_years"] / 10.0
    if "hormone_receptor" in t:
        hr = t["hormone_receptor"]
        t["hormone_receptor_positive"] = np.where(hr == "unknown", np.nan, (hr == "positive") * 1.0)
    return t


def cox_table(
    table: pd.DataFrame,
    covariates: Sequence[str],
    endpoint: str,
    multivariate: bool = False,
) -> pd.DataFrame:
    """Hazard ratios from univariate (one model per covariate) or one multivariate Cox model.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table; ``age_per_10_years`` and
        ``hormone_receptor_positive`` (unknown = NaN) are derived when asked for.
    covariates : sequence of str
    endpoint : {"pfs", "os"}
    multivariate : bool
        False: one model per covariate, each on the patients with that covariate
        (complete cases). True: one model with all covariates, on the patients with
        all of them.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``model``, ``endpoint``, ``covariate``, ``label``, ``n``,
        ``events``, ``hr``, ``hr_lower``, ``hr_upper``, ``p``, ``note`` (why a row is NaN).
    """
    dur, ev, _ = _endpoint(endpoint)
    t = _with_derived(table)
    model = "multivariate" if multivariate else "univariate"
    sets = [list(covariates)] if multivariate else [[c] for c in covariates]
    rows = []
    for covs in sets:
        d = t[[dur, ev, *covs]].dropna().astype(float)
        try:
            s = cox(d, dur, ev, covs).summary
            note = ""
        except ModelError as err:
            s, note = None, str(err)
        for c in covs:
            r = {"model": model, "endpoint": endpoint, "covariate": c,
                 "label": COVARIATE_LABELS.get(c, c), "n": len(d), "events": int(d[ev].sum())}
            if s is None:
                r.update(hr=np.nan, hr_lower=np.nan, hr_upper=np.nan, p=np.nan, note=note)
            else:
                r.update(hr=s.loc[c, "hr"], hr_lower=s.loc[c, "hr_lower"],
                         hr_upper=s.loc[c, "hr_upper"], p=s.loc[c, "p"], note="")
            rows.append(r)
    return pd.DataFrame(rows)


def format_cox_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side display of Cox tables (e.g. univariate and multivariate).

    Each input (from :func:`cox_table`) becomes two columns, "HR (95% CI)" and "p",
    headed by its model and endpoint; rows are matched on the covariate (in order of
    first appearance). Returns strings, empty where a covariate is not in a model.
    """
    order: list[str] = []
    labels: dict[str, str] = {}
    for t in tables:
        for c, lab in zip(t["covariate"], t["label"], strict=True):
            if c not in labels:
                order.append(c)
                labels[c] = lab
    out = pd.DataFrame({"Factor": [labels[c] for c in order]})
    for t in tables:
        head = f"{t['model'].iloc[0].capitalize()} {t['endpoint'].iloc[0].upper()}"
        idx = t.set_index("covariate")
        out[f"{head}: HR (95% CI)"] = [
            format_hr(*idx.loc[c, ["hr", "hr_lower", "hr_upper"]]) if c in idx.index else ""
            for c in order
        ]
        out[f"{head}: p"] = [format_p(idx.loc[c, "p"]) if c in idx.index else "" for c in order]
    return out


def p_text(p: float) -> str:
    """A p-value for prose: ``"p = 0.013"`` or ``"p < 0.001"``."""
    s = format_p(p)
    return f"p {s}" if s.startswith("<") else f"p = {s}"


def comparison_table(comparisons: Mapping[str, SurvivalComparison]) -> pd.DataFrame:
    """One display row per comparison: groups, events, medians, log-rank p and HR.

    Parameters
    ----------
    comparisons : mapping of str to SurvivalComparison
        Row name -> comparison (from :func:`compare_survival`).

    Returns
    -------
    pandas.DataFrame
        Strings: ``Comparison``, ``Endpoint``, ``Patients (events)`` and
        ``Median, months`` for each group as "reference / exposed", ``Log-rank p``,
        ``HR (95% CI)``.
    """
    rows = []
    for name, c in comparisons.items():
        g = c.groups

        def med(x: float) -> str:
            return "NR" if not np.isfinite(x) else f"{x:.1f}"

        rows.append({
            "Comparison": name,
            "Endpoint": c.endpoint.upper(),
            "Patients (events)": " / ".join(f"{int(r.n):,} ({int(r.events):,})" for r in g.itertuples()),
            "Median, months": " / ".join(med(x) for x in g["median_months"]),
            "Log-rank p": format_p(c.logrank_p),
            "HR (95% CI)": format_hr(c.hr, c.hr_lower, c.hr_upper),
        })
    return pd.DataFrame(rows)
