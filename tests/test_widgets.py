"""ctcbook.explorers.widgets: the live explorer is created and driven like a reader would."""

from __future__ import annotations

import math

import pytest

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED
from ctcbook.explorers.widgets import ExplorerWidget, explorer_widget


@pytest.fixture(scope="module")
def cohort():
    return cb.load_cohort(SHIPPED)


def test_created_with_the_papers_choices(cohort):
    w = explorer_widget(cohort)
    assert isinstance(w, ExplorerWidget)
    assert w.choices() == {"grouping": "her2_ctc", "threshold": 5, "her2_rule": ">=1",
                           "timepoint": "first_follow_up", "endpoint": "pfs"}
    assert bytes(w.image.value).startswith(b"\x89PNG")
    assert w.result.p_value == cb.explore(cohort).p_value
    assert "HER2+ CTCs" in w.numbers.value and "synthetic" in w.numbers.value.lower()
    assert "At risk" in w.risk_table.value
    assert w.controls["threshold"].disabled  # the HER2 grouping ignores the threshold


def test_moving_each_control_changes_the_output(cohort):
    w = explorer_widget(cohort)
    moves = [("endpoint", "os"), ("her2_rule", ">=2"), ("timepoint", "baseline"),
             ("grouping", "ctc_count"), ("threshold", 12), ("timepoint", "change")]
    for name, value in moves:
        image, numbers = w.image.value, w.numbers.value
        w.controls[name].value = value
        assert w.result is not None
        assert w.image.value != image, name
        assert w.numbers.value != numbers, name
    assert w.result.timepoint == "change" and len(w.result.groups) == 4
    assert math.isnan(w.result.hazard_ratio)
    assert not w.controls["threshold"].disabled


def test_grouping_back_to_her2_leaves_change(cohort):
    w = explorer_widget(cohort, grouping="ctc_count", timepoint="change")
    w.controls["grouping"].value = "her2_ctc"
    assert w.controls["timepoint"].value == "first_follow_up"
    assert "change" not in [v for _, v in w.controls["timepoint"].options]
    assert w.result.grouping == "her2_ctc" and w.result.message is None


def test_degenerate_choice_shows_a_message(cohort):
    w = explorer_widget(cohort, grouping="ctc_count", timepoint="change")
    w.controls["threshold"].value = 50
    assert "Note:" in w.numbers.value
    assert w.timings and all(t["total"] > 0 for t in w.timings)


def test_invalid_initial_choice_raises(cohort):
    with pytest.raises(ValueError, match="timepoint"):
        explorer_widget(cohort, timepoint="change")
    with pytest.raises(ValueError, match="endpoint"):
        explorer_widget(cohort, endpoint="dfs")
