"""The scorecard: every number the paper publishes beside the book's, with a mark.

:func:`compute_scorecard` recomputes, from a cohort, each number of ``published.yaml`` (counts,
percentages, follow-up, the six p-values and the directions of the effects) with the
same functions the chapters use, and marks each:

``match``
    equal as published: counts and follow-up exactly, percentages once rounded to one
    decimal, p-values once rounded to the paper's three decimals, directions equal;
``within tolerance``
    a p-value within a factor of 2 of the paper's (``|log10 ours - log10 paper| <= 0.3``)
    and on the same side of 0.05, or a percentage within 0.1 points;
``off``
    anything else (expected on any cohort other than the calibrated one).

References
----------
.. [1] Hayashi N, et al. Prognostic value of HER2-positive circulating tumor cells in
   patients with metastatic breast cancer. Int J Clin Oncol 2012;17:96-104.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ctcbook.cohort.paper import MULTIVARIATE_COVARIATES, published
from ctcbook.cohort.rules import patient_table
from ctcbook.report.tables import html_table
from ctcbook.stats.agreement import her2_concordance
from ctcbook.stats.compare import compare_survival, cox_table, follow_up

__all__ = ["MARKS", "compute_scorecard", "describe_p", "mark", "scorecard_counts", "scorecard_html"]

#: The three marks, best first.
MARKS = ("match", "within tolerance", "off")
#: The symbol shown beside each mark.
SYMBOLS = {"match": "✔", "within tolerance": "≈", "off": "✘"}
#: Largest |log10(ours / paper)| of a p-value within tolerance (a factor of 2).
P_LOG10_TOLERANCE = 0.3
#: Largest difference of a percentage within tolerance (percentage points).
PERCENT_TOLERANCE = 0.1


def mark(kind: str, paper: Any, ours: Any) -> str:
    """The mark of one comparison.

    Parameters
    ----------
    kind : {"count", "follow-up", "percent", "p-value", "direction"}
    paper, ours : the two values (directions are strings such as ``"shorter"``).

    Returns
    -------
    str
        One of ``MARKS``.
    """
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return "off"
    if kind in ("count", "follow-up"):
        return "match" if float(ours) == float(paper) else "off"
    if kind == "direction":
        return "match" if ours == paper else "off"
    if kind == "percent":
        if round(float(ours), 1) == round(float(paper), 1):
            return "match"
        return "within tolerance" if abs(float(ours) - float(paper)) <= PERCENT_TOLERANCE + 1e-9 else "off"
    if kind == "p-value":
        ours, paper = float(ours), float(paper)
        if ours <= 0:
            return "off"
        if round(ours, 3) == round(paper, 3):
            return "match"
        close = abs(math.log10(ours) - math.log10(paper)) <= P_LOG10_TOLERANCE + 1e-12
        same_side = (ours < 0.05) == (paper < 0.05)
        return "within tolerance" if close and same_side else "off"
    raise ValueError(f"unknown kind {kind!r}")


def _fmt(kind: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "p-value":
        if value >= 0.001:
            return f"{value:.3f}"
        return f"{value:.4f}" if value >= 0.0001 else f"{value:.1e}"
    if kind == "percent":
        return f"{value:.1f}"
    if kind in ("count", "follow-up"):
        return f"{value:g}"
    return str(value)


def compute_scorecard(cohort: Any) -> pd.DataFrame:
    """Every published number beside the book's, computed on ``cohort``.

    Parameters
    ----------
    cohort : Cohort
        Any cohort in the book's format (the paper's analysis choices are used: >= 5
        CTCs, >= 1 HER2+ CTC, first follow-up, the multivariate covariates of
        ``paper.MULTIVARIATE_COVARIATES`` on the patients evaluable at first follow-up).

    Returns
    -------
    pandas.DataFrame
        One row per published number: ``section``, ``quantity``, ``kind``, ``paper``,
        ``book`` (full precision), ``paper_text``, ``book_text``, ``ratio`` (ours / paper
        for p-values, else NaN), ``mark`` and ``published`` (False for a row the abstract
        does not report, such as the direction of the multivariate effects: the book's
        assumption, shown with its mark but not counted by :func:`scorecard_counts`).
        Never raises for a valid cohort: anything that cannot be computed is NaN and
        marked ``off``.
    """
    pub = published()
    t = patient_table(cohort)
    rows: list[dict[str, Any]] = []

    def add(section: str, quantity: str, kind: str, paper: Any, ours: Any,
            published: bool = True) -> None:
        ratio = ours / float(paper) if kind == "p-value" and math.isfinite(ours) else float("nan")
        paper_text = _fmt(kind, paper) if published else f"not reported (assumed: {_fmt(kind, paper)})"
        rows.append({"section": section, "quantity": quantity, "kind": kind, "paper": paper,
                     "book": ours, "paper_text": paper_text, "book_text": _fmt(kind, ours),
                     "ratio": ratio, "mark": mark(kind, paper, ours), "published": published})

    add("Patients", "Patients enrolled", "count", pub["study"]["n_enrolled"], cohort.n)
    fu, pfu = follow_up(t), pub["follow_up"]
    add("Follow-up", "Median follow-up, days", "follow-up", pfu["median_days"], fu["median_days"])
    add("Follow-up", "Shortest follow-up, days", "follow-up", pfu["min_days"], fu["min_days"])
    add("Follow-up", "Longest follow-up, days", "follow-up", pfu["max_days"], fu["max_days"])

    h = pub["her2_ctc"]
    n_any = int((t["her2_pos_any"] == 1).sum())
    conc = her2_concordance(t)
    add("HER2+ CTCs", "Patients with HER2+ CTCs at any time", "count",
        h["patients_with_her2_positive_ctc_at_any_timepoint"], n_any)
    add("HER2+ CTCs", "… as a percentage of all patients", "percent", h["percent_of_52"],
        100.0 * n_any / cohort.n)
    add("HER2+ CTCs", "Patients with a HER2-negative primary", "count",
        h["her2_negative_primary_total"], conc.negative_primary_total)
    add("HER2+ CTCs", "… of them with HER2+ CTCs", "count",
        h["her2_negative_primary_with_her2_positive_ctc"], conc.negative_primary_with_her2_ctc)
    pct33 = (100.0 * conc.negative_primary_with_her2_ctc / conc.negative_primary_total
             if conc.negative_primary_total else float("nan"))
    add("HER2+ CTCs", "… as a percentage of HER2-negative primaries", "percent",
        h["percent_of_33"], pct33)

    g = pub["first_follow_up_groups"]
    ffu = t["her2_pos_first_follow_up"]
    add("First follow-up", "Patients with HER2+ CTCs", "count", g["her2_positive_ctc"],
        int((ffu == 1).sum()))
    add("First follow-up", "Patients without HER2+ CTCs", "count", g["no_her2_positive_ctc"],
        int((ffu == 0).sum()))

    lr = pub["logrank_first_follow_up_her2_ctc"]
    for ep, name in (("pfs", "PFS"), ("os", "OS")):
        try:
            cmp = compare_survival(t, "her2_pos_first_follow_up", ep)
            p, direction = cmp.logrank_p, cmp.direction
        except ValueError:
            p, direction = float("nan"), None
        add("Log-rank, HER2+ CTCs at first follow-up", f"{name}: p-value", "p-value",
            lr[f"{ep}_p"], p)
        add("Log-rank, HER2+ CTCs at first follow-up", f"{name}: HER2+ group's survival",
            "direction", "shorter", direction)

    keys = {
        "pfs": (("her2_pos_first_follow_up", "her2_positive_ctc_first_follow_up_p"),
                ("prior_therapies", "number_of_prior_therapies_p")),
        "os": (("prior_therapies", "number_of_prior_therapies_p"),
               ("ctc_pos_baseline", "ctc_ge5_baseline_p")),
    }
    evaluable = t.dropna(subset=list(MULTIVARIATE_COVARIATES))
    for ep, name in (("pfs", "PFS"), ("os", "OS")):
        res = cox_table(evaluable, MULTIVARIATE_COVARIATES, ep, multivariate=True)
        res = res.set_index("covariate")
        for cov, key in keys[ep]:
            label = res.loc[cov, "label"]
            add(f"Multivariate Cox, {name}", f"{label}: p-value", "p-value",
                pub[f"multivariate_cox_{ep}"][key], float(res.loc[cov, "p"]))
            hr = float(res.loc[cov, "hr"])
            direction = None if math.isnan(hr) else ("worse" if hr > 1 else "better")
            # the abstract names these factors as independent but not the direction of
            # their effects: an assumption of the book, shown and not counted
            add(f"Multivariate Cox, {name}", f"{label}: direction (HR > 1 = worse)", "direction",
                "worse", direction, published=False)
    return pd.DataFrame(rows)


def scorecard_counts(card: pd.DataFrame) -> dict[str, int]:
    """How many published rows carry each mark (all of ``MARKS``, zeros included), and ``total``.

    Rows with ``published`` False (numbers the abstract does not report) are not counted.
    """
    if "published" in card:
        card = card[card["published"].astype(bool)]
    counts = {m: int((card["mark"] == m).sum()) for m in MARKS}
    counts["total"] = len(card)
    return counts


def scorecard_html(card: pd.DataFrame):
    """The scorecard as an HTML table (see :func:`ctcbook.report.tables.html_table`)."""
    shown = pd.DataFrame({
        "Section": card["section"].where(~card["section"].duplicated(), ""),
        "Quantity": card["quantity"],
        "Paper": card["paper_text"],
        "Book": card["book_text"],
        "Mark": [f"{SYMBOLS[m]} {m}" if pub else f"({SYMBOLS[m]} {m}: not counted)"
                 for m, pub in zip(card["mark"], card.get("published", pd.Series(True, index=card.index)),
                                   strict=True)],
    })
    return html_table(shown, classes="ctcbook-table ctcbook-scorecard")


def describe_p(card: pd.DataFrame) -> str:
    """One phrase on the p-values, e.g. "all 6 equal to the published values as printed"
    or "all 6 within a factor of 2 ... (4 equal as printed)" (for prose)."""
    p = card[card["kind"] == "p-value"]
    exact = int((p["mark"] == "match").sum())
    ok = int(p["mark"].isin(["match", "within tolerance"]).sum())
    if exact == len(p):
        return f"all {len(p)} equal to the published values as printed (three decimals)"
    head = f"all {len(p)}" if ok == len(p) else f"{ok} of {len(p)}"
    return f"{head} within a factor of 2 of the published values ({exact} equal as printed)"

