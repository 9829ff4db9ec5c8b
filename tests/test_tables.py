"""Tests of ctcbook.report.tables: Table 1, agreement (kappa), survival comparisons, Cox tables.

Reference values:
* Cohen's kappa of the 2 x 2 table [[20, 5], [10, 15]] is 0.40 (p_o = 0.70, p_e = 0.50), the
  worked example of the Wikipedia article "Cohen's kappa" and of notebook 03's exercise.
* The Fleiss-Cohen-Everitt (1969) standard error: SAS PROC FREQ's printed agreement
  study (kappa 0.3449, ASE 0.0724, 0.2030 to 0.4868; SAS/STAT User's Guide, PROC FREQ,
  "Getting Started: Agreement Study").
* The Fleiss-Cohen-Everitt (1969) standard error and interval of kappa: SAS PROC FREQ's
  printout for a 3 x 3 table (see ``test_kappa_se_matches_sas``).
* Table 1 counts are checked against a four-patient cohort counted by hand.
* The log-rank example is notebook 05's exercise (O_A = 3, E_A = 1.9), worked by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import ctcbook as cb
from ctcbook.cohort.io import Cohort
from ctcbook.report.tables import (
    comparison_table,
    format_cox_table,
    format_hr,
    format_p,
    html_table,
    p_text,
    table1,
)
from ctcbook.stats.agreement import cohen_kappa, her2_concordance
from ctcbook.stats.compare import compare_survival, cox_table

# ------------------------------------------------------------------------------ kappa


def test_kappa_textbook_example():
    k = cohen_kappa([[20, 5], [10, 15]])
    assert k.n == 50
    assert k.observed == pytest.approx(0.70)
    assert k.expected == pytest.approx(0.50)
    assert k.kappa == pytest.approx(0.40)


def test_kappa_se_matches_sas_proc_freq():
    """SAS/STAT User's Guide, PROC FREQ, "Getting Started: Agreement Study" (two
    dermatologists rate 88 patients' skin condition on four levels; ``tables Derm1*Derm2 /
    agree``): simple kappa 0.3449, ASE 0.0724, 95% confidence limits 0.2030 and 0.4868.
    SAS's ASE is the Fleiss-Cohen-Everitt (1969) large-sample standard error."""
    k = cohen_kappa([[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]])
    assert k.n == 88
    assert round(k.kappa, 4) == 0.3449 and round(k.se, 4) == 0.0724
    assert round(k.ci_lower, 4) == 0.2030 and round(k.ci_upper, 4) == 0.4868


def test_kappa_se_matches_sas():
    """Standard error and 95% interval of kappa against SAS PROC FREQ (AGREE).

    Table [[0, 4, 1], [0, 8, 0], [0, 1, 5]] (two raters, three categories): SAS prints
    Kappa 0.4842, ASE 0.1380, 95% confidence limits 0.2137 and 0.7547 (the large-sample
    standard error of Fleiss, Cohen & Everitt 1969, Psychol Bull 72:323-327). The printout
    is quoted in statsmodels' tests (statsmodels/stats/tests/test_inter_rater.py,
    ``UnweightedCohens``), which check ``cohens_kappa`` against it to 4 decimals.
    """
    k = cohen_kappa([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert k.kappa == pytest.approx(0.4842, abs=5e-5)
    assert k.se == pytest.approx(0.1380, abs=5e-5)
    assert k.ci_lower == pytest.approx(0.2137, abs=5e-5)
    assert k.ci_upper == pytest.approx(0.7547, abs=5e-5)


def test_kappa_max_cohen_definition():
    """Cohen (1960): kappa_M = (p_oM - p_c) / (1 - p_c), p_oM = sum of min(row, column) margins.

    [[20, 5], [10, 15]]: rows 25/25, columns 30/20 of 50, p_oM = 0.5 + 0.4 = 0.9,
    p_c = 0.5, so kappa_M = 0.8 (by hand). Equal margins give 1.
    """
    from ctcbook.stats.agreement import kappa_max

    assert kappa_max([[20, 5], [10, 15]]) == pytest.approx(0.8)
    assert kappa_max([[10, 3], [3, 5]]) == pytest.approx(1.0)


@pytest.mark.parametrize("counts", [[[6, 8], [0, 25]], [[20, 5], [10, 15]], [[3, 10], [1, 30]]])
def test_kappa_max_is_the_best_table_with_these_margins(counts):
    """Brute force: every 2 x 2 table with the same margins; the largest kappa is kappa_max."""
    from ctcbook.stats.agreement import kappa_max

    c = np.asarray(counts)
    r, col = c.sum(axis=1), c.sum(axis=0)
    best = max(cohen_kappa([[a, r[0] - a], [col[0] - a, r[1] - col[0] + a]]).kappa
               for a in range(max(0, col[0] - r[1]), min(r[0], col[0]) + 1))
    assert kappa_max(counts) == pytest.approx(best, rel=1e-12)
    assert cohen_kappa(counts).kappa <= kappa_max(counts) + 1e-12


def test_kappa_perfect_and_chance():
    perfect = cohen_kappa([[10, 0], [0, 5]])
    assert perfect.kappa == pytest.approx(1.0)
    assert perfect.se == pytest.approx(0.0, abs=1e-12)
    # independent ratings: cells are products of the margins -> kappa 0
    assert cohen_kappa([[4, 4], [6, 6]]).kappa == pytest.approx(0.0, abs=1e-12)


def test_kappa_degenerate_and_invalid():
    k = cohen_kappa([[5, 0], [0, 0]])  # everybody in one category: p_e = 1
    assert math.isnan(k.kappa)
    with pytest.raises(ValueError):
        cohen_kappa([[1, 2, 3]])
    with pytest.raises(ValueError):
        cohen_kappa([[0, 0], [0, 0]])
    with pytest.raises(ValueError):
        cohen_kappa([[-1, 2], [3, 4]])


# --------------------------------------------------------------------------- Table 1


def tiny_cohort() -> Cohort:
    patients = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D"],
        "age_years": [40, 50, 60, 70],
        "primary_her2": ["negative", "negative", "positive", "unknown"],
        "hormone_receptor": ["positive", "negative", "positive", "positive"],
        "prior_therapies": [0, 1, 3, 4],
        "therapy": ["chemotherapy", "endocrine", "anti_her2", "chemotherapy"],
        "visceral_metastasis": [1, 0, 1, 0],
        "pfs_days": [100, 200, 300, 50],
        "pfs_event": [1, 1, 0, 1],
        "os_days": [400, 500, 600, 50],
        "os_event": [1, 0, 0, 1],
    })
    ctc = pd.DataFrame({
        "patient_id": ["A", "A", "B", "B", "C", "C", "D"],
        "timepoint": ["baseline", "first_follow_up"] * 3 + ["baseline"],
        "day": [0, 25, 0, 24, 0, 26, 0],
        "ctc_count": [10, 2, 0, 0, 6, 7, 3],
        "her2_positive_ctc": [2, 0, 0, 0, 0, 1, 0],
    })
    return Cohort(patients, ctc, source="test", synthetic=True)


def test_table1_against_hand_counts():
    t = cb.patient_table(tiny_cohort())
    t1 = table1(t)
    col = "All patients (n = 4)"
    assert list(t1.columns) == ["Characteristic", "Level", col]
    rows = {(c, lvl): v for c, lvl, v in zip(t1["Characteristic"].replace("", np.nan).ffill(),
                                              t1["Level"], t1[col], strict=True)}
    assert rows[("Patients", "")] == "4"
    assert rows[("Age, years", "median (range)")] == "55 (40-70)"
    assert rows[("Primary tumour HER2", "negative")] == "2 (50%)"
    assert rows[("Primary tumour HER2", "unknown")] == "1 (25%)"
    assert rows[("Prior lines of therapy", "≥ 3")] == "2 (50%)"
    assert rows[("New line of therapy", "anti-HER2")] == "1 (25%)"
    assert rows[("CTCs at baseline", "≥ 5")] == "2 (50%)"  # A (10) and C (6)
    assert rows[("CTCs at baseline", "HER2+ CTCs")] == "1 (25%)"  # A
    assert rows[("CTCs at first follow-up", "≥ 5")] == "1 (25%)"  # C (7)
    assert rows[("CTCs at first follow-up", "no sample")] == "1 (25%)"  # D
    assert rows[("HER2+ CTCs at any time", "yes")] == "2 (50%)"  # A and C


def test_table1_by_group_has_a_missing_column():
    t = cb.patient_table(tiny_cohort())
    t1 = table1(t, by="her2_pos_first_follow_up", labels={0.0: "no", 1.0: "yes"})
    assert list(t1.columns[2:]) == ["All patients (n = 4)", "no (n = 2)", "yes (n = 1)",
                                    "not evaluable (n = 1)"]


def test_concordance_counts():
    t = cb.patient_table(tiny_cohort())
    conc = her2_concordance(t)
    # known primary and a CTC result: A (neg, HER2+), B (neg, none), C (pos, HER2+)
    assert conc.table.to_numpy().tolist() == [[1, 0], [1, 1]]
    assert conc.n_excluded == 1
    assert (conc.negative_primary_total, conc.negative_primary_with_her2_ctc) == (2, 1)
    assert conc.discordant == 1


def test_follow_up_summary():
    t = cb.patient_table(tiny_cohort())
    fu = cb.follow_up(t)
    assert (fu["median_days"], fu["min_days"], fu["max_days"]) == (450.0, 50.0, 600.0)


# -------------------------------------------------------------- survival comparisons


@pytest.fixture(scope="module")
def simulated_table():
    return cb.patient_table(cb.simulate_cohort(52, 3))


def test_compare_survival_agrees_with_survival_module(simulated_table):
    t = simulated_table
    r = compare_survival(t, "ctc_pos_baseline", "pfs", {0: "low", 1: "high"})
    d = t.dropna(subset=["ctc_pos_baseline"])
    lr = cb.logrank(d["pfs_days"], d["pfs_event"], d["ctc_pos_baseline"])
    assert r.logrank_p == pytest.approx(lr.p_value)
    hr = cb.cox(d.astype({"ctc_pos_baseline": float}), "pfs_days", "pfs_event",
                ["ctc_pos_baseline"]).summary.loc["ctc_pos_baseline", "hr"]
    assert r.hr == pytest.approx(hr)
    assert list(r.groups["label"]) == ["low", "high"]
    assert r.groups["n"].sum() == len(d)
    exp = r.groups.iloc[1]
    assert r.direction == ("shorter" if exp["events"] > exp["expected"] else "longer")
    assert r.note.startswith("Log-rank p")
    table = comparison_table({"x": r})
    assert table.loc[0, "Log-rank p"] == format_p(r.logrank_p)


def test_compare_survival_without_events_in_a_group_gives_nan_hr():
    t = pd.DataFrame({"pfs_days": [10, 20, 30, 40, 50, 60], "pfs_event": [1, 1, 1, 0, 0, 0],
                      "g": [0, 0, 0, 1, 1, 1]})
    r = compare_survival(t, "g", "pfs")
    assert math.isnan(r.hr) and "infinite" in r.hr_note
    assert r.direction == "longer"
    assert "not estimable" in r.note
    with pytest.raises(ValueError):
        compare_survival(t.assign(g=0), "g", "pfs")
    with pytest.raises(ValueError):
        compare_survival(t, "g", "dfs")


def test_logrank_exercise_by_hand():
    """Notebook 05's exercise: O_A = 3, E_A = 1.9 and V from the hypergeometric terms."""
    time = np.array([2, 4, 6, 3, 8, 5])
    event = np.array([1, 1, 1, 1, 1, 0])
    group = np.array(["A", "A", "A", "B", "B", "B"])
    # (n_A, n_B) at the event times 2, 3, 4, 6, 8
    at_risk = [(3, 3), (2, 3), (2, 2), (1, 1), (0, 1)]
    e_a = sum(a / (a + b) for a, b in at_risk)
    v = sum(a * b * (a + b - 1) / ((a + b) ** 2 * (a + b - 1)) for a, b in at_risk if a + b > 1)
    assert e_a == pytest.approx(1.9)
    lr = cb.logrank(time, event, group)
    assert lr.table.set_index("group").loc["A", "expected"] == pytest.approx(1.9)
    assert lr.statistic == pytest.approx((3 - e_a) ** 2 / v)


def test_cox_table_univariate_and_multivariate(simulated_table):
    t = simulated_table
    covs = ["her2_pos_first_follow_up", "ctc_pos_baseline", "prior_therapies"]
    uni = cox_table(t, covs + ["age_per_10_years", "hormone_receptor_positive"], "os")
    assert list(uni["model"].unique()) == ["univariate"]
    assert uni.set_index("covariate").loc["ctc_pos_baseline", "n"] == len(t)
    assert uni.set_index("covariate").loc["her2_pos_first_follow_up", "n"] == int(
        t["her2_pos_first_follow_up"].notna().sum())
    multi = cox_table(t, covs, "os", multivariate=True)
    assert multi["n"].nunique() == 1
    d = t.dropna(subset=covs)
    ref = cb.cox(d.astype(dict.fromkeys(covs, float)), "os_days", "os_event", covs).summary
    assert multi.set_index("covariate")["hr"].to_numpy() == pytest.approx(ref["hr"].to_numpy())
    shown = format_cox_table(uni, multi)
    assert list(shown.columns) == ["Factor", "Univariate OS: HR (95% CI)", "Univariate OS: p",
                                   "Multivariate OS: HR (95% CI)", "Multivariate OS: p"]
    assert (shown.iloc[3:]["Multivariate OS: p"] == "").all()


def test_cox_table_reports_unfittable_models_as_nan():
    t = pd.DataFrame({"os_days": [10, 20, 30, 40], "os_event": [1, 1, 0, 0],
                      "ctc_pos_baseline": [1.0, 1.0, 0.0, 0.0]})
    out = cox_table(t, ["ctc_pos_baseline"], "os")
    assert math.isnan(out.loc[0, "hr"]) and out.loc[0, "note"]


# ------------------------------------------------------------------------ formatting


@pytest.mark.parametrize(("p", "text"), [(0.0004, "< 0.001"), (0.001, "0.001"), (0.0132, "0.013"),
                                         (0.0996, "0.10"), (0.43, "0.43"), (float("nan"), "n/a")])
def test_format_p(p, text):
    assert format_p(p) == text


def test_p_text_and_hr():
    assert p_text(0.0001) == "p < 0.001"
    assert p_text(0.02) == "p = 0.020"
    assert format_hr(3.1, 1.4, 12.3) == "3.10 (1.40-12.3)"
    assert format_hr(float("nan"), 1, 2) == "n/a"


def test_html_table_has_no_index_and_escapes():
    df = pd.DataFrame({"a": ["<x>", "y"], "b": [1, 2]}, index=[10, 11])
    h = html_table(df, caption="Caption & more")
    assert h.html.startswith("<table")
    assert "<caption>Caption &amp; more</caption>" in h.html
    assert "&lt;x&gt;" in h.html
    assert "<th>10</th>" not in h.html and ">10<" not in h.html
    assert h._repr_html_() == h.html
    assert "y" in repr(h)


def test_whole_numbers_shows_counts_without_decimal_point():
    """Counts stored as float (NaN for missing) read 13 and 0 in a table, not 13.0 and 0.0."""
    from ctcbook.cohort.io import whole_numbers

    frame = pd.DataFrame({"ctc": [13.0, 0.0, np.nan], "hr": [0.5, 1.0, 2.0], "id": ["a", "b", "c"]})
    out = whole_numbers(frame)
    assert str(out["ctc"].dtype) == "Int64" and out["hr"].dtype == float
    assert frame["ctc"].dtype == float  # the input is not modified
    text = html_table(out).html
    assert "<td>13</td>" in text and "<td>0</td>" in text and "13.0" not in text
    assert "<td>0.5</td>" in text


def test_table1_large_cohort_uses_thousands_separators():
    """Headers and counts of a 2,500-patient cohort read "2,500", not "2500"."""
    table = cb.patient_table(cb.simulate_cohort(2500, seed=4))
    t1 = cb.table1(table, by="her2_pos_first_follow_up")
    assert "All patients (n = 2,500)" in t1.columns
    group_headers = [c for c in t1.columns if c.endswith(")") and "n = " in c]
    sizes = [int(c.rsplit("n = ", 1)[1].rstrip(")").replace(",", "")) for c in group_headers[1:]]
    assert sum(sizes) == 2500
    big = [c for c in t1[t1.columns[2]] if isinstance(c, str) and "(" in c
           and int(c.split(" ")[0].replace(",", "")) >= 1000]
    assert big and all("," in c.split(" ")[0] for c in big)
