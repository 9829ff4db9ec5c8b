"""The kernel-free cutpoint explorer's data (Python side): the curve's axis and shading."""

from __future__ import annotations

import numpy as np
import pytest

from ctcbook.cohort.io import SHIPPED, load_cohort
from ctcbook.cohort.rules import patient_table
from ctcbook.explorers.static import explorer_data
from ctcbook.stats.cutpoints import logrank_sweep


@pytest.fixture(scope="module")
def cutpoint_data():
    return explorer_data(load_cohort(SHIPPED), "cutpoint")


def test_cutpoint_axis_is_chosen_from_the_data(cutpoint_data):
    """Issue 16: the p axis ran to 1e-4 whatever the data; ticks read "1e-2"."""
    for key, cp in cutpoint_data["cutpoints"].items():
        shown = [p for p in cp["p"] if p is not None] + [0.05]
        if cp["p_lau94"] is not None:
            shown.append(cp["p_lau94"])
        smallest = min(shown)
        axis = cp["axis"]
        assert smallest / 10 < axis["lo"] <= smallest, key
        assert axis["ticks"][0] == 1.0 and min(axis["ticks"]) == pytest.approx(axis["lo"])
        assert "0.05" in axis["labels"], key
        assert all("e" not in label for label in axis["labels"]), axis["labels"]
        assert [float(label) for label in axis["labels"]] == pytest.approx(axis["ticks"])


def test_cutpoint_shading_is_the_ten_percent_rule(cutpoint_data):
    """Shaded thresholds leave fewer than 10% of the patients in one group (maxstat's rule)."""
    table = patient_table(load_cohort(SHIPPED))
    cp = cutpoint_data["cutpoints"]["first_follow_up|pfs"]
    sub = table.loc[table["ctc_first_follow_up"].notna()]
    sweep = logrank_sweep(sub["pfs_days"], sub["pfs_event"], sub["ctc_first_follow_up"],
                          np.asarray(cp["thresholds"]))
    n = len(sub)
    low_ok = (sweep["n_low"] >= np.floor(0.1 * n)) & (sweep["n_low"] <= np.floor(0.9 * n))
    expected = (low_ok & (sweep["n_low"] > 0) & (sweep["n_high"] > 0)).tolist()
    assert cp["candidate"] == expected
    if cp["best"] is not None:
        assert cp["candidate"][cp["thresholds"].index(cp["best"])]
