"""Tests of ctcbook.report.scorecard: marks, the shipped cohort, and another cohort.

The published numbers are those of Hayashi et al. (2012), abstract, as stored in
``ctcbook/cohort/published.yaml``.
"""

from __future__ import annotations

import math

import pytest

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED
from ctcbook.cohort.paper import published
from ctcbook.report.scorecard import MARKS, describe_p, mark, scorecard_counts, scorecard_html


def numeric_leaves(d):
    for v in d.values():
        if isinstance(v, dict):
            yield from numeric_leaves(v)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            yield v


@pytest.mark.parametrize(("kind", "paper", "ours", "expected"), [
    ("count", 6, 6, "match"),
    ("count", 6, 7, "off"),
    ("follow-up", 655.0, 655.5, "off"),
    ("percent", 26.9, 26.92, "match"),
    ("percent", 26.9, 26.99, "within tolerance"),
    ("percent", 26.9, 27.1, "off"),
    ("p-value", 0.001, 0.0012, "match"),
    ("p-value", 0.013, 0.017, "within tolerance"),
    ("p-value", 0.013, 0.0259, "within tolerance"),  # just under a factor of 2
    ("p-value", 0.013, 0.027, "off"),
    ("p-value", 0.043, 0.060, "off"),                # within a factor of 2, but p > 0.05
    ("p-value", 0.001, float("nan"), "off"),
    ("direction", "shorter", "shorter", "match"),
    ("direction", "shorter", "longer", "off"),
    ("direction", "shorter", None, "off"),
])
def test_mark(kind, paper, ours, expected):
    assert mark(kind, paper, ours) == expected


def test_mark_rejects_unknown_kind():
    with pytest.raises(ValueError):
        mark("ratio", 1, 1)


@pytest.mark.skipif(not (SHIPPED / "patients.csv").is_file(), reason="shipped cohort not present")
def test_shipped_cohort_scores():
    card = cb.compute_scorecard(cb.load_cohort(SHIPPED))
    # every published number is on the card
    assert sorted(card.loc[card["kind"] != "direction", "paper"]) == sorted(numeric_leaves(published()))
    # the shipped cohort is calibrated to print every published number as the abstract does
    assert (card["mark"] == "match").all(), card[card["mark"] != "match"]
    # 19 published numbers (the abstract reports no direction for the multivariate effects:
    # those 4 rows are the book's assumption, shown but not counted; they match as well)
    assert scorecard_counts(card) == {"match": 19, "within tolerance": 0, "off": 0, "total": 19}
    assert len(card) == 23 and int((~card["published"].astype(bool)).sum()) == 4
    p = card[card["kind"] == "p-value"]
    assert len(p) == 6
    assert (p["book"].map(lambda v: f"{v:.3f}") == p["paper"].map(lambda v: f"{v:.3f}")).all()
    assert (abs(p["ratio"].map(math.log10)) <= 0.3).all()
    assert describe_p(card).startswith("all 6")


def test_other_cohort_reports_differences():
    card = cb.compute_scorecard(cb.simulate_cohort(52, 7))
    counts = scorecard_counts(card)
    assert len(card) == 23
    assert counts["total"] == int(card["published"].sum()) == 19
    assert sum(counts[m] for m in MARKS) == counts["total"]
    assert counts["off"] > 0
    html = scorecard_html(card).html
    assert html.count("<tr>") == len(card) + 1
    assert "off" in html


def test_small_cohort_without_her2_groups_does_not_raise():
    """A cohort too small for some models: NaN, marked off, no exception."""
    card = cb.compute_scorecard(cb.simulate_cohort(12, 1))
    assert len(card) == 23
    assert set(card["mark"]) <= set(MARKS)


def test_rows_the_abstract_does_not_report_are_not_counted():
    """The abstract names the independent factors, not the direction of their effects."""
    card = cb.compute_scorecard(cb.simulate_cohort(52, 7))
    unpublished = card[~card["published"]]
    assert len(unpublished) == 4
    assert (unpublished["kind"] == "direction").all()
    assert unpublished["section"].str.startswith("Multivariate Cox").all()
    assert unpublished["paper_text"].str.startswith("not reported").all()
    # every number of published.yaml is on a published row
    assert sorted(card.loc[card["published"] & (card["kind"] != "direction"), "paper"]) == sorted(
        numeric_leaves(published()))
    # an unpublished row marked "off" changes no count
    flipped = card.copy()
    flipped.loc[~flipped["published"], "mark"] = "off"
    assert scorecard_counts(flipped) == scorecard_counts(card)
    assert "not counted" in scorecard_html(card).html
