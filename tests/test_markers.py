"""Marker rules and the one-row-per-patient table, on small hand-made tables."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctcbook.cohort.io import Cohort
from ctcbook.cohort.rules import (
    HER2_RULES,
    HER2Rule,
    ctc_change_labels,
    ctc_positive,
    her2_positive_ctc,
    patient_table,
)

NAN = float("nan")


# --------------------------------------------------------------------------- HER2Rule


def test_default_rule_and_labels():
    assert HER2Rule() == HER2Rule(min_her2_ctc=1, min_fraction=None, min_ctc=0)
    assert HER2Rule().label == "≥ 1 HER2+ CTC"
    assert HER2Rule(2).label == "≥ 2 HER2+ CTCs"
    assert HER2_RULES[">=30%"].label == "≥ 30% of CTCs HER2+"
    assert HER2_RULES[">=50%"].label == "≥ 50% of CTCs HER2+ (≥ 2 CTCs)"
    assert HER2Rule(min_fraction=0.125).label == "≥ 12.5% of CTCs HER2+"


def test_presets():
    assert set(HER2_RULES) == {">=1", ">=2", ">=30%", ">=50%"}
    assert HER2_RULES[">=1"] == HER2Rule()
    assert HER2_RULES[">=2"] == HER2Rule(min_her2_ctc=2)
    assert HER2_RULES[">=30%"] == HER2Rule(min_her2_ctc=1, min_fraction=0.3)
    assert HER2_RULES[">=50%"] == HER2Rule(min_her2_ctc=1, min_fraction=0.5, min_ctc=2)


@pytest.mark.parametrize("text", [">=1", ">=2", ">=30%", ">=50%", "≥ 1", " >= 30 % "])
def test_parse_presets(text):
    rule = HER2Rule.parse(text)
    key = text.replace("≥", ">=").replace(" ", "")
    assert rule is HER2_RULES[key]


def test_parse_other_values_and_passthrough():
    assert HER2Rule.parse(">=3") == HER2Rule(min_her2_ctc=3)
    assert HER2Rule.parse(">=40%") == HER2Rule(min_her2_ctc=1, min_fraction=0.4)
    rule = HER2Rule(min_ctc=5)
    assert HER2Rule.parse(rule) is rule


@pytest.mark.parametrize("text", ["", "1", ">1", ">=", ">=1.5", ">=x%", "<=2", ">=0"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        HER2Rule.parse(text)


@pytest.mark.parametrize(
    "kwargs",
    [{"min_her2_ctc": 0}, {"min_her2_ctc": 1.5}, {"min_ctc": -1}, {"min_fraction": 0.0},
     {"min_fraction": 1.5}],
)
def test_rule_validation(kwargs):
    with pytest.raises(ValueError):
        HER2Rule(**kwargs)


def test_rule_is_frozen_and_hashable():
    rule = HER2Rule()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.min_ctc = 3  # type: ignore[misc]
    assert len({HER2Rule(), HER2Rule(), HER2Rule(2)}) == 2


# --------------------------------------------------------------------------- ctc_positive


def test_ctc_positive_values_and_nan():
    out = ctc_positive([0, 4, 5, 100, NAN])
    assert isinstance(out, np.ndarray) and out.dtype == float
    np.testing.assert_array_equal(out[:4], [0.0, 0.0, 1.0, 1.0])
    assert math.isnan(out[4])


def test_ctc_positive_threshold_scalar_and_series():
    assert ctc_positive(2, threshold=2) == 1.0
    assert ctc_positive(1, threshold=2) == 0.0
    assert math.isnan(ctc_positive(NAN))
    s = pd.Series([0, 7, None], index=["a", "b", "c"], name="ctc")
    out = ctc_positive(s)
    assert isinstance(out, pd.Series)
    assert list(out.index) == ["a", "b", "c"]
    assert out.iloc[:2].tolist() == [0.0, 1.0] and math.isnan(out.iloc[2])


# --------------------------------------------------------------------------- her2_positive_ctc


def test_her2_default_rule():
    ctc = [0, 1, 5, 5, 10, NAN, 3]
    her2 = [0, 1, 0, 1, 2, NAN, NAN]
    out = her2_positive_ctc(ctc, her2)
    np.testing.assert_array_equal(out[:5], [0, 1, 0, 1, 1])
    assert np.isnan(out[5:]).all()


def test_her2_two_cells():
    out = her2_positive_ctc([1, 2, 10], [1, 2, 1], ">=2")
    np.testing.assert_array_equal(out, [0, 1, 0])


def test_her2_fraction_is_exact_at_the_boundary():
    # 3/10 is exactly 30%: positive (a naive her2 >= 0.3 * ctc would say no)
    out = her2_positive_ctc([10, 10, 100, 20], [3, 2, 30, 6], ">=30%")
    np.testing.assert_array_equal(out, [1, 0, 1, 1])
    out = her2_positive_ctc([7, 7], [2, 3], HER2Rule(min_fraction=2 / 7))
    np.testing.assert_array_equal(out, [1, 1])


def test_her2_fifty_percent_needs_two_ctcs():
    rule = HER2_RULES[">=50%"]
    out = her2_positive_ctc([1, 2, 2, 4, 4, 0], [1, 1, 0, 2, 1, 0], rule)
    np.testing.assert_array_equal(out, [0, 1, 0, 1, 0, 0])


def test_her2_zero_ctcs_never_positive():
    for rule in HER2_RULES.values():
        assert her2_positive_ctc(0, 0, rule) == 0.0


def test_her2_min_ctc():
    out = her2_positive_ctc([3, 5], [1, 1], HER2Rule(min_ctc=5))
    np.testing.assert_array_equal(out, [0, 1])


def test_her2_series_in_series_out():
    c = pd.Series([4, None], index=[10, 11])
    h = pd.Series([1, None], index=[10, 11])
    out = her2_positive_ctc(c, h)
    assert isinstance(out, pd.Series) and list(out.index) == [10, 11]
    assert out.iloc[0] == 1.0 and math.isnan(out.iloc[1])


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=30))
def test_her2_rules_properties(pairs):
    ctc = np.array([max(a, b) for a, b in pairs], dtype=float)
    her2 = np.array([min(a, b) for a, b in pairs], dtype=float)
    base = her2_positive_ctc(ctc, her2)
    np.testing.assert_array_equal(base, (her2 >= 1).astype(float))
    for rule in HER2_RULES.values():
        out = her2_positive_ctc(ctc, her2, rule)
        assert set(np.unique(out)) <= {0.0, 1.0}
        assert (out <= base).all()  # every preset implies at least 1 HER2+ CTC


# --------------------------------------------------------------------------- patient_table


def _toy() -> Cohort:
    patients = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4", "P5"],
        "age_years": [50, 60, 70, 40, 55],
        "primary_her2": ["negative", "positive", "unknown", "negative", "negative"],
        "hormone_receptor": ["positive", "negative", "unknown", "positive", "negative"],
        "prior_therapies": [0, 1, 2, 3, 0],
        "therapy": ["chemotherapy", "anti_her2", "other", "endocrine", "combination"],
        "visceral_metastasis": [1, 0, 1, 0, 1],
        "pfs_days": [100, 200, 20, 300, 50],
        "pfs_event": [1, 0, 1, 1, 1],
        "os_days": [300, 400, 20, 500, 60],
        "os_event": [1, 0, 1, 0, 1],
    })
    ctc = pd.DataFrame({
        # P1 both draws; P2 both; P3 baseline only; P4 follow-up only; P5 none
        "patient_id": ["P1", "P1", "P2", "P2", "P3", "P4"],
        "timepoint": ["baseline", "first_follow_up", "baseline", "first_follow_up",
                      "baseline", "first_follow_up"],
        "day": [0, 21, 0, 28, 0, 25],
        "ctc_count": [12, 0, 3, 6, 0, 5],
        "her2_positive_ctc": [4, 0, 0, 2, 0, 1],
    })
    return Cohort(patients, ctc)


def test_patient_table_columns_and_values():
    c = _toy()
    before = (c.patients.copy(), c.ctc.copy())
    t = patient_table(c)
    pd.testing.assert_frame_equal(c.patients, before[0])  # inputs untouched
    pd.testing.assert_frame_equal(c.ctc, before[1])
    assert isinstance(t.index, pd.RangeIndex) and len(t) == 5
    assert list(t.columns[:11]) == list(c.patients.columns)
    for tp in ("baseline", "first_follow_up"):
        for col in ("ctc", "her2_ctc", "day", "ctc_pos", "her2_pos"):
            assert t[f"{col}_{tp}"].dtype == float
    np.testing.assert_array_equal(t["ctc_baseline"], [12, 3, 0, NAN, NAN])
    np.testing.assert_array_equal(t["day_first_follow_up"], [21, 28, NAN, 25, NAN])
    np.testing.assert_array_equal(t["ctc_pos_baseline"], [1, 0, 0, NAN, NAN])
    np.testing.assert_array_equal(t["ctc_pos_first_follow_up"], [0, 1, NAN, 1, NAN])
    np.testing.assert_array_equal(t["her2_pos_baseline"], [1, 0, 0, NAN, NAN])
    np.testing.assert_array_equal(t["her2_pos_first_follow_up"], [0, 1, NAN, 1, NAN])
    np.testing.assert_array_equal(t["her2_pos_any"], [1, 1, 0, 1, NAN])
    assert t["primary_her2_negative"].tolist() == [1, 0, 0, 1, 1]
    change = t["ctc_change"]
    assert list(change.cat.categories) == ["<5 -> <5", "<5 -> >=5", ">=5 -> <5", ">=5 -> >=5"]
    assert change.cat.ordered
    assert change.iloc[0] == ">=5 -> <5" and change.iloc[1] == "<5 -> >=5"
    assert change.iloc[2:].isna().all()


def test_patient_table_rules_and_threshold():
    c = _toy()
    t = patient_table(c, threshold=3, her2_rule=">=30%")
    np.testing.assert_array_equal(t["ctc_pos_baseline"], [1, 1, 0, NAN, NAN])
    # P1 baseline 4/12 = 33% -> positive; P2 follow-up 2/6 = 33%; P4 1/5 = 20% -> negative
    np.testing.assert_array_equal(t["her2_pos_baseline"], [1, 0, 0, NAN, NAN])
    np.testing.assert_array_equal(t["her2_pos_first_follow_up"], [0, 1, NAN, 0, NAN])
    np.testing.assert_array_equal(t["her2_pos_any"], [1, 1, 0, 0, NAN])
    assert list(t["ctc_change"].cat.categories) == ctc_change_labels(3)
    assert t["ctc_change"].iloc[1] == ">=3 -> >=3"
    t2 = patient_table(c, her2_rule=HER2Rule(min_her2_ctc=2))
    np.testing.assert_array_equal(t2["her2_pos_any"], [1, 1, 0, 0, NAN])


def test_patient_table_keeps_patient_order_and_index():
    c = _toy()
    shuffled = Cohort(c.patients.iloc[::-1].set_index(pd.Index([9, 8, 7, 6, 5])), c.ctc)
    t = patient_table(shuffled)
    assert t["patient_id"].tolist() == ["P5", "P4", "P3", "P2", "P1"]
    assert isinstance(t.index, pd.RangeIndex)


def test_patient_table_rejects_duplicate_draws_and_unknown_timepoints():
    c = _toy()
    dup = Cohort(c.patients, pd.concat([c.ctc, c.ctc.iloc[[0]]], ignore_index=True))
    with pytest.raises(ValueError, match="more than one draw"):
        patient_table(dup)
    odd = c.ctc.copy()
    odd.loc[0, "timepoint"] = "week_8"
    with pytest.raises(ValueError, match="unknown timepoint"):
        patient_table(Cohort(c.patients, odd))


def test_patient_table_ignores_later_draws():
    c = _toy()
    later = c.ctc.iloc[[0]].assign(timepoint="follow_up_2", day=60, ctc_count=40,
                                   her2_positive_ctc=40)
    with_later = Cohort(c.patients, pd.concat([c.ctc, later], ignore_index=True))
    pd.testing.assert_frame_equal(patient_table(with_later), patient_table(c))
