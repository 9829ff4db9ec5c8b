"""The book's tables as a page shows them: Table 1, Cox and comparison tables, HTML.

The statistics come from :mod:`ctcbook.stats.compare` and :mod:`ctcbook.stats.agreement`;
here they become display tables of strings (p-values by ``format_p``, hazard ratios by
``format_hr``, both from :mod:`ctcbook.cohort.paper`) and HTML (:func:`html_table`,
pandas' ``to_html``). Months are 365.25 / 12 days. Nothing here draws a figure.

References
----------
.. [1] Hayashi N, et al. Prognostic value of HER2-positive circulating tumor cells in
   patients with metastatic breast cancer. Int J Clin Oncol 2012;17:96-104.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.cohort.paper import (
    CTC_THRESHOLD,
    format_hr,
    format_p,
)
from ctcbook.stats.compare import SurvivalComparison

__all__ = [
    "HTMLTable",
    "html_table",
    "table1",
    "format_cox_table",
    "p_text",
    "comparison_table",
]

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
        The one-row-per-patient table of :func:`ctcbook.cohort.rules.patient_table`.
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


def format_cox_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side display of Cox tables (e.g. univariate and multivariate).

    Each input (from :func:`cox_table`) becomes two columns, "HR (95% CI)" and "p",
    headed by its model and endpoint; rows are matched on the covariate (in order of
    first appearance). Returns strings, empty where a covariate is not in a model.
    """
    rows = pd.concat([t[["covariate", "label"]] for t in tables]).drop_duplicates("covariate")
    order = list(rows["covariate"])
    out = pd.DataFrame({"Factor": list(rows["label"])})
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
