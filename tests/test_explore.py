"""ctcbook.explorers.core (ctcbook.explore): the one computation behind the explorers.

Reference values: lifelines on the same patients (``logrank_test``; ``CoxPHFitter`` with
tightened tolerances, Efron's ties), medians from ``survival.median_survival`` (R's
convention, tested against R in test_survival.py); the shipped cohort's 6 vs 43 patients
with and without HER2+ CTCs at first follow-up come from the paper's abstract
(Hayashi et al. 2012, ``ctcbook/cohort/published.yaml``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED, Cohort
from ctcbook.explorers.core import (
    ENDPOINT_CHOICES,
    GROUPING_CHOICES,
    HER2_RULE_CHOICES,
    TIMEPOINT_CHOICES,
    Exploration,
    explore,
)
from ctcbook.report.figures import DAYS_PER_MONTH
from ctcbook.stats.survival import logrank, median_survival


@pytest.fixture(scope="module")
def shipped():
    return cb.load_cohort(SHIPPED)


@pytest.fixture(scope="module")
def simulated():
    return cb.simulate_cohort(52, seed=7)


def _direct(cohort, marker_col, endpoint="pfs"):
    table = cb.patient_table(cohort)
    sub = table[table[marker_col].notna()]
    months = sub[f"{endpoint}_days"].to_numpy(float) / DAYS_PER_MONTH
    event = sub[f"{endpoint}_event"].to_numpy(int)
    group = sub[marker_col].to_numpy(int)
    return sub, months, event, group


def _lifelines(months, event, group):
    """Log-rank p and Efron Cox HR with its 95% interval, computed by lifelines."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    g = np.asarray(group) == 1
    lr = logrank_test(months[g], months[~g], event[g], event[~g])
    frame = pd.DataFrame({"t": months, "e": event, "x": g.astype(float)})
    fit = CoxPHFitter().fit(frame, "t", "e", fit_options={"precision": 1e-12, "r_precision": 1e-15})
    ci = fit.confidence_intervals_.loc["x"].to_numpy()
    return lr.test_statistic, lr.p_value, math.exp(fit.params_["x"]), *np.exp(ci)


@pytest.mark.parametrize("endpoint", ["pfs", "os"])
def test_paper_choices_equal_lifelines(shipped, endpoint):
    result = explore(shipped, endpoint=endpoint)
    assert isinstance(result, Exploration)
    sub, months, event, group = _direct(shipped, "her2_pos_first_follow_up", endpoint)
    statistic, p, hr, lower, upper = _lifelines(months, event, group)
    assert result.statistic == pytest.approx(statistic, rel=1e-8)
    assert result.p_value == pytest.approx(p, rel=1e-8)
    assert result.hazard_ratio == pytest.approx(hr, rel=1e-6)
    assert result.hr_lower == pytest.approx(lower, rel=1e-6)
    assert result.hr_upper == pytest.approx(upper, rel=1e-6)
    for g in (0, 1):
        med = median_survival(months[group == g], event[group == g])
        row = result.groups.set_index("group").loc[g]
        assert row["median"] == pytest.approx(med.median)
        assert row["median_lower"] == pytest.approx(med.ci_lower)
        assert row["median_upper"] == pytest.approx(med.ci_upper)
        assert row["n"] == (group == g).sum() and row["events"] == event[group == g].sum()
    assert result.n == len(sub) and result.n_excluded == shipped.n - len(sub)
    assert result.message is None


def test_shipped_cohort_has_the_papers_6_vs_43(shipped):
    result = explore(shipped)
    assert result.groups["n"].tolist() == [43, 6]
    assert result.n_excluded == 3
    assert "synthetic cohort" in result.caption.lower()
    assert result.hazard_ratio > 1  # HER2+ CTCs: shorter PFS, as published


def test_ctc_grouping_equals_lifelines(simulated):
    result = explore(simulated, threshold=3, timepoint="baseline", grouping="ctc_count",
                     endpoint="os")
    table = cb.patient_table(simulated, threshold=3)
    sub = table[table["ctc_pos_baseline"].notna()]
    months = sub["os_days"].to_numpy(float) / DAYS_PER_MONTH
    statistic, p, hr, _, _ = _lifelines(months, sub["os_event"].to_numpy(int),
                                        sub["ctc_pos_baseline"].to_numpy(int))
    assert result.p_value == pytest.approx(p, rel=1e-8)
    assert result.hazard_ratio == pytest.approx(hr, rel=1e-6)


def test_change_is_a_k_group_logrank_without_hazard_ratio(simulated):
    result = explore(simulated, timepoint="change", grouping="ctc_count")
    table = cb.patient_table(simulated)
    sub = table[table["ctc_change"].notna()]
    from lifelines.statistics import multivariate_logrank_test

    lr = multivariate_logrank_test(sub["pfs_days"] / DAYS_PER_MONTH, sub["ctc_change"].cat.codes,
                                   sub["pfs_event"])
    assert result.p_value == pytest.approx(lr.p_value, rel=1e-8)
    assert result.df == lr.degrees_of_freedom
    assert math.isnan(result.hazard_ratio)
    assert len(result.groups) == 4 and result.groups["n"].sum() == len(sub)


def test_landmark_is_chapter_14s_landmark(shipped):
    """The explorer's landmark is ``timevarying.landmark`` from the last first follow-up day,
    the analysis of ``compare_timepoint_analyses`` (chapter 14): same patients, same HR."""
    from ctcbook.stats.timevarying import compare_timepoint_analyses

    table = cb.patient_table(shipped)
    day = table["day_first_follow_up"].max()
    for endpoint in ("pfs", "os"):
        result = explore(shipped, timepoint="landmark", endpoint=endpoint)
        keep = table["her2_pos_first_follow_up"].notna() & (table[f"{endpoint}_days"] > day)
        assert result.n == keep.sum()
        assert result.n_not_at_risk == (table["her2_pos_first_follow_up"].notna() & ~keep).sum()
        months = (table.loc[keep, f"{endpoint}_days"] - day) / DAYS_PER_MONTH
        lr = logrank(months, table.loc[keep, f"{endpoint}_event"],
                     table.loc[keep, "her2_pos_first_follow_up"])
        assert result.p_value == pytest.approx(lr.p_value, rel=1e-12)
        ch14 = compare_timepoint_analyses(table, endpoints=[endpoint]).set_index("analysis")
        assert result.hazard_ratio == pytest.approx(ch14.loc["landmark", "hr"], rel=1e-9)
        assert result.n == ch14.loc["landmark", "patients"]
    assert f"day {day:g}" in result.xlabel


def test_any_draw(shipped):
    result = explore(shipped, timepoint="any")
    assert result.groups["n"].iloc[1] == 14  # published: 14 of 52 at any timepoint


def _tiny_cohort(ctc_counts, her2_counts, pfs_event):
    n = len(ctc_counts)
    ids = [f"P{i:02d}" for i in range(n)]
    patients = pd.DataFrame({
        "patient_id": ids, "age_years": 60.0, "primary_her2": "negative",
        "hormone_receptor": "positive", "prior_therapies": 1, "therapy": "chemotherapy",
        "visceral_metastasis": 0, "pfs_days": np.arange(1, n + 1) * 30.0,
        "pfs_event": pfs_event, "os_days": np.arange(1, n + 1) * 40.0, "os_event": 1,
    })
    ctc = pd.DataFrame({"patient_id": ids, "timepoint": "first_follow_up", "day": 21.0,
                        "ctc_count": ctc_counts, "her2_positive_ctc": her2_counts})
    return Cohort(patients, ctc, source="test", synthetic=True)


def test_empty_group_gives_a_message_not_an_exception():
    cohort = _tiny_cohort([0, 1, 2, 3, 4, 0, 1, 2], [0] * 8, [1, 0, 1, 1, 0, 1, 1, 0])
    result = explore(cohort, threshold=50, grouping="ctc_count")
    assert result.message and "No patient" in result.message
    assert math.isnan(result.p_value) and math.isnan(result.hazard_ratio)
    assert result.groups["n"].tolist() == [8, 0]
    assert result.figure is not None  # still draws


def test_group_without_events_gives_a_message():
    cohort = _tiny_cohort([0, 0, 0, 0, 9, 9, 9, 9], [0] * 8, [1, 1, 1, 1, 0, 0, 0, 0])
    result = explore(cohort, grouping="ctc_count")
    assert result.message and "No progression or death" in result.message
    assert math.isnan(result.hazard_ratio)
    assert np.isfinite(result.p_value)


def test_no_events_at_all():
    cohort = _tiny_cohort([0, 0, 9, 9], [0] * 4, [0, 0, 0, 0])
    result = explore(cohort, grouping="ctc_count")
    assert result.message and math.isnan(result.p_value)


def test_her2_change_is_a_message(shipped):
    result = explore(shipped, timepoint="change")
    assert result.message and "CTC-count grouping" in result.message
    assert result.figure is not None


def test_every_valid_combination_runs(shipped):
    for tp, g, ep, rule in itertools.product(TIMEPOINT_CHOICES, GROUPING_CHOICES,
                                             ENDPOINT_CHOICES, HER2_RULE_CHOICES):
        for th in (1, 5, 50):
            result = explore(shipped, th, tp, rule, ep, g)
            assert result.title and result.caption
            assert (result.message is None) or isinstance(result.message, str)


@pytest.mark.parametrize("kwargs, word", [
    ({"timepoint": "week4"}, "timepoint"), ({"endpoint": "dfs"}, "endpoint"),
    ({"grouping": "her2"}, "grouping"), ({"threshold": 0}, "threshold"),
    ({"threshold": 2.5}, "threshold"), ({"her2_rule": "lots"}, "her2_rule"),
])
def test_invalid_values_raise_listing_the_allowed(shipped, kwargs, word):
    with pytest.raises(ValueError, match=word):
        explore(shipped, **kwargs)


def test_deterministic_and_frozen(shipped):
    a, b = explore(shipped, 7, "baseline"), explore(shipped, 7, "baseline")
    pd.testing.assert_frame_equal(a.curves, b.curves)
    assert a.p_value == b.p_value
    with pytest.raises(AttributeError):
        a.threshold = 3


def test_curves_and_risk_table(shipped):
    result = explore(shipped)
    for _g, sub in result.curves.groupby("group"):
        assert sub["time"].iloc[0] == 0 and sub["survival"].iloc[0] == 1
        assert (np.diff(sub["survival"]) <= 1e-12).all()
    assert set(result.risk["time"]) == set(result.ticks)
    first = result.risk[result.risk["time"] == 0].set_index("group")["at_risk"]
    assert first.tolist() == result.groups["n"].tolist()


def test_public_name_works_after_submodule_import(shipped):
    import ctcbook.explorers.core  # noqa: F401 - the module is not named like the function

    assert cb.explore(shipped).p_value == explore(shipped).p_value


def test_figure_is_lazy_and_not_pyplot(shipped):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    result = explore(shipped)
    assert "figure" not in result.__dict__
    fig = result.figure
    assert plt.get_fignums() == before and fig.axes


def test_explore_docstring_has_no_stale_note():
    """help(cb.explore) once said ctcbook.stats.timevarying "was not available"; it is."""
    import ctcbook as cb

    doc = cb.explore.__doc__
    assert "was not available" not in doc
    assert "ctcbook.stats.timevarying.landmark" in doc


P_VALUES = [0.0004, 0.001, 0.00149, 0.0132, 0.0994, 0.0996, 0.1, 0.43, 0.99, float("nan")]


def test_one_format_p_for_the_book():
    """The explorers print p-values with the book's one rule (cohort.paper.format_p):
    0.0996 is "0.10" everywhere and a missing p-value "n/a" (issue 12)."""
    from ctcbook.cohort.paper import format_p as paper_format_p
    from ctcbook.explorers import core

    assert core.format_p is paper_format_p
    assert [paper_format_p(p) for p in P_VALUES] == [
        "< 0.001", "0.001", "0.001", "0.013", "0.099", "0.10", "0.10", "0.43", "0.99", "n/a"]


def test_explorer_javascript_formats_p_as_the_book():
    """The kernel-free explorer's fmtP (explorer.js), run in Node, gives format_p's text."""
    import json
    import re
    import shutil
    import subprocess
    from importlib import resources

    from ctcbook.cohort.paper import format_p as paper_format_p

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    js = resources.files("ctcbook.explorers").joinpath("assets/explorer.js").read_text(encoding="utf-8")
    fmt = re.search(r"function fmtP\(p\) \{.*?\n  \}", js, re.S).group(0)
    values = [None if math.isnan(p) else p for p in P_VALUES]
    script = f"{fmt}\nconsole.log(JSON.stringify({json.dumps(values)}.map(fmtP)));"
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [paper_format_p(p) for p in P_VALUES]


def test_a_small_p_reads_p_below_not_p_equals_below():
    """A p-value under 0.001 is written "p < 0.001" in the figure's note and the caption,
    as everywhere in the book (never "p = < 0.001")."""
    result = cb.explore(cb.simulate_cohort(3_000, seed=5), grouping="ctc_count")
    assert result.p_value < 0.001
    for text in (result.note, result.caption):
        assert "p < 0.001" in text and "= <" not in text
