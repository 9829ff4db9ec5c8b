"""Tests of ctcbook.report.figures.plot_forest (and that plot_km still draws its risk table)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import ctcbook as cb  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def forest_frame():
    return pd.DataFrame({
        "model": ["univariate", "univariate", "multivariate", "multivariate"],
        "label": ["A", "B", "A", "B"],
        "hr": [2.0, 0.5, 3.0, np.nan],
        "hr_lower": [1.0, 0.2, 1.2, np.nan],
        "hr_upper": [4.0, 1.1, 7.5, np.nan],
        "p": [0.04, 0.09, 0.01, np.nan],
    })


def test_plot_forest_draws_on_a_log_axis():
    ax = cb.plot_forest(forest_frame())
    assert ax.get_xscale() == "log"
    ticks = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert ticks["A"] > ticks["B"]  # first row at the top
    lo, hi = ax.get_xlim()
    assert lo <= 0.2 and hi >= 7.5
    texts = [t.get_text() for t in ax.texts]
    assert "not estimable" in texts and "p = 0.010" in texts
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["univariate", "multivariate"]


def test_plot_forest_uses_given_axes_and_index_labels():
    _, ax = plt.subplots()
    frame = forest_frame().drop(columns=["model", "label"]).iloc[:2]
    frame.index = ["first", "second"]
    assert cb.plot_forest(frame, ax=ax) is ax
    assert {t.get_text() for t in ax.get_yticklabels()} == {"first", "second"}


def test_plot_forest_rejects_empty():
    with pytest.raises(ValueError):
        cb.plot_forest(forest_frame().iloc[:0])


def test_plot_km_risk_table_lines_up_with_ticks():
    time = np.array([30, 60, 90, 120, 200, 250, 300, 400])
    event = np.array([1, 0, 1, 1, 0, 1, 0, 1])
    group = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    ax = cb.plot_km(time, event, group, order=[0, 1], labels={0: "low", 1: "high"}, note="x")
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("At risk") == 2 and "low" in texts and "high" in texts
    assert "4" in texts  # at risk at time 0 in each group


def test_plot_km_large_groups_use_thousands_separators():
    """A registry-size cohort: legend and risk table read "1,200", not "1200"."""
    rng = np.random.default_rng(3)
    group = np.r_[np.zeros(1200, int), np.ones(1500, int)]
    time = np.ceil(rng.exponential(400, group.size))
    event = (rng.random(group.size) < 0.7).astype(int)
    ax = cb.plot_km(time, event, group, order=[0, 1], labels={0: "low", 1: "high"})
    texts = [t.get_text() for t in ax.texts]
    assert "1,200" in texts and "1,500" in texts  # at risk at time 0
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["low (n=1,200)", "high (n=1,500)"]
    plt.close(ax.figure)
