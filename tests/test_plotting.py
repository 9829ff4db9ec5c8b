"""Tests of ctcbook.report.figures: plot_forest, plot_km (curve, band, risk table), plot_rmst."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import ctcbook as cb  # noqa: E402
from ctcbook.cohort.paper import DAYS_PER_MONTH  # noqa: E402


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


def _gehan() -> pd.DataFrame:
    from pathlib import Path

    return pd.read_csv(Path(__file__).parent / "data" / "gehan.csv")


def test_plot_km_draws_the_published_gehan_curve():
    """The curve drawn (lifelines' plot_survival_function) is the published Kaplan-Meier
    estimate of the Gehan 6-MP arm, S(6) = 0.8571, S(10) = 0.7529, S(23) = 0.4482 (R
    survfit; Kleinbaum & Klein; tests/data/README.md), and the band is the log-log 95% CI
    of ctcbook.kaplan_meier."""
    arm = _gehan().query("treated == 1")
    days = arm["weeks"] * DAYS_PER_MONTH  # the axis reads weeks as months
    ax = cb.plot_km(days, arm["relapse"], risk_table=False)
    line = next(li for li in ax.get_lines() if li.get_label().startswith("All patients"))
    curve = pd.Series(line.get_ydata(), index=line.get_xdata())
    assert curve.loc[[6.0, 10.0, 23.0]].to_numpy() == pytest.approx([0.8571, 0.7529, 0.4482],
                                                                     abs=5e-5)
    km = cb.kaplan_meier(arm["weeks"], arm["relapse"]).set_index("time")
    band = ax.collections[0].get_paths()[0].vertices  # fill_between: lower, then upper edge
    for t in km.index:
        ys = band[np.isclose(band[:, 0], t), 1]
        assert ys.min() == pytest.approx(km.loc[t, "ci_lower"], abs=1e-12)
        assert ys.max() >= km.loc[t, "ci_upper"] - 1e-12


def test_plot_rmst_shades_the_restricted_mean():
    """The shaded area of each group is its RMST up to tau (lifelines'
    restricted_mean_survival_time), computed from the drawn polygon by the shoelace formula."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    g = _gehan()
    ax = cb.plot_rmst(g["weeks"], g["relapse"], g["treated"], tau=20.0)
    for value, patch in zip((0, 1), ax.collections, strict=True):
        x, y = patch.get_paths()[0].vertices.T
        area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
        arm = g[g["treated"] == value]
        kmf = KaplanMeierFitter().fit(arm["weeks"], arm["relapse"])
        assert area == pytest.approx(restricted_mean_survival_time(kmf, t=20.0), rel=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["group 0", "group 1"]


# ------------------------------------------------------------------ theme and seaborn figures

#: The figures seaborn draws (checked below to call seaborn, counted in the notebooks by
#: tests/test_notebooks.py).
SEABORN_FIGURES = {
    "plot_ctc_distribution": "ctcbook.report.cohort_figures",
    "plot_paired_counts": "ctcbook.report.cohort_figures",
    "plot_her2_concordance": "ctcbook.report.cohort_figures",
    "plot_stability": "ctcbook.report.study_figures",
    "plot_power": "ctcbook.report.study_figures",
    "plot_rejection_rates": "ctcbook.report.study_figures",
}


def small_table() -> pd.DataFrame:
    """Ten patients with hand-countable CTC counts and HER2 results."""
    return pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(10)],
        "ctc_baseline": [0, 0, 1, 2, 3, 4, 5, 9, 10, 100],
        "ctc_first_follow_up": [0, 0, 0, 1, 0, 2, np.nan, 20, 3, 50],
        "her2_pos_first_follow_up": [0, 0, 0, 0, 0, 1, np.nan, 1, 0, 1],
        "her2_pos_any": [0, 0, 0, 1, 0, 1, 1, 1, 0, 1],
        "primary_her2": ["negative", "negative", "negative", "negative", "positive", "positive",
                         "unknown", "negative", "positive", "negative"],
    })


def test_style_sets_seaborn_theme_with_the_okabe_ito_palette():
    import seaborn as sns

    matplotlib.rcdefaults()
    cb.style()
    cycle = [matplotlib.colors.to_hex(c) for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.lower() for c in cb.PALETTE]
    assert [matplotlib.colors.to_hex(c) for c in sns.color_palette()] == [c.lower() for c in cb.PALETTE]
    assert cb.PALETTE[:3] == ("#0072B2", "#D55E00", "#009E73")  # Okabe & Ito's blue, vermillion, green
    # seaborn's whitegrid, with the book's changes on top
    assert matplotlib.rcParams["axes.grid"] and not matplotlib.rcParams["axes.spines.top"]
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans"]


def test_heatmap_cells_are_the_concordance_counts():
    conc = cb.her2_concordance(small_table(), "her2_pos_any")
    # by hand: positive primaries P4 (no), P5 (yes), P8 (no); negative primaries P0-P2 (no),
    # P3, P7, P9 (yes); P6 has an unknown primary and is left out
    assert conc.table.to_numpy().tolist() == [[1, 2], [3, 3]]
    ax = cb.plot_her2_concordance(conc.table)
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3", "3"]  # row by row
    assert [t.get_text() for t in ax.get_yticklabels()] == list(conc.table.index)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(conc.table.columns)
    # darker (lower luminance) cells hold more patients
    mesh = ax.collections[0]
    luminance = mesh.get_facecolors()[:, :3].mean(axis=1)
    assert luminance[0] > luminance[1] > luminance[2] == pytest.approx(luminance[3])


def test_ctc_histogram_bins_hold_the_hand_counted_patients():
    table = small_table()
    ax = cb.plot_ctc_distribution(table)
    heights = {matplotlib.colors.to_hex(c[0].get_facecolor()): [int(b.get_height()) for b in c]
               for c in ax.containers}
    baseline, follow_up = (heights[c.lower()] for c in cb.PALETTE[:2])
    # baseline: {0}: 2, {1}: 1, {2}: 1, {3, 4}: 2, {5..9}: 2, then 10 and 100 in wider bins
    assert baseline[:5] == [2, 1, 1, 2, 2] and sum(baseline) == 10
    # first follow-up: 0 x4, 1, 2, 3, 20, 50 (one missing)
    assert follow_up[:5] == [4, 1, 1, 1, 0] and sum(follow_up) == 9
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "baseline (n=10)", "first follow up (n=9)"]
    assert "0" in [t.get_text() for t in ax.get_xticklabels()]  # zero counts are shown


def test_paired_counts_draw_one_line_per_patient_and_sample_large_cohorts():
    table = small_table()
    ax = cb.plot_paired_counts(table)

    def patient_lines(ax):  # every two-point line but the dashed threshold
        return [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_linestyle() == "-"]
    lines = patient_lines(ax)
    assert len(lines) == 9  # P6 has no first follow-up count
    colours = sorted(matplotlib.colors.to_hex(ln.get_color()) for ln in lines)
    assert colours.count(cb.PALETTE[1].lower()) == 3  # P5, P7, P9: HER2+ at first follow-up
    assert ax.get_legend().get_title().get_text() == ""
    plt.close("all")
    ax = cb.plot_paired_counts(table, max_patients=4, seed=1)
    assert len(patient_lines(ax)) == 4
    assert ax.get_legend().get_title().get_text() == "a random 4 of 9 patients"


def test_power_figure_draws_formula_lines_and_monte_carlo_bars():
    simulated = pd.DataFrame({"n": [100, 200, 100, 200], "hr": [1.5, 1.5, 2.0, 2.0],
                              "power": [0.3, 0.5, 0.6, 0.9], "mc_se": [0.01, 0.02, 0.01, 0.005]})
    predicted = pd.DataFrame({"n": [50, 250] * 2, "hr": [1.5, 1.5, 2.0, 2.0],
                              "power": [0.1, 0.6, 0.3, 0.95]})
    ax = cb.plot_power(simulated, predicted)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["HR 1.5: Schoenfeld", "HR 2: Schoenfeld", "HR 1.5: simulation",
                      "HR 2: simulation"]
    bars = [c for c in ax.containers if hasattr(c, "has_yerr") and c.has_yerr]
    segs = bars[1].lines[2][0].get_segments()  # HR 2: the 95% Monte Carlo intervals
    assert np.allclose([s[:, 1] for s in segs], [[0.6 - 0.0196, 0.6 + 0.0196],
                                                  [0.9 - 0.0098, 0.9 + 0.0098]])


class _Spy:
    """Stands in for the ``seaborn`` module and records which of its functions were called."""

    def __init__(self, real):
        self.real, self.called = real, []

    def __getattr__(self, name):
        fn = getattr(self.real, name)

        def wrapper(*args, **kwargs):
            self.called.append(name)
            return fn(*args, **kwargs)
        return wrapper


@pytest.mark.parametrize("name", sorted(SEABORN_FIGURES))
def test_seaborn_draws_these_figures(name, monkeypatch):
    import importlib

    import seaborn as sns

    module = importlib.import_module(SEABORN_FIGURES[name])
    spy = _Spy(sns)
    monkeypatch.setattr(module, "sns", spy)
    table = small_table()
    if name == "plot_stability":
        t = pd.DataFrame({"days": [5, 8, 12, 20, 25, 30, 40, 41, 50, 60],
                          "event": [1, 1, 1, 0, 1, 1, 0, 1, 1, 0],
                          "group": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]})
        boot = cb.bootstrap(t["days"], t["event"], t["group"], n_boot=50, seed=1)
        sens = cb.sensitivity(t["days"], t["event"], t["group"])
        axes = module.plot_stability(boot, sens)
        assert len(axes) == 2
        assert sum(p.get_height() for p in axes[0].patches) == np.isfinite(
            boot.replicates["log_hr"]).sum()
    elif name == "plot_power":
        module.plot_power(pd.DataFrame({"n": [100], "hr": [2.0], "power": [0.5], "mc_se": [0.01]}),
                          pd.DataFrame({"n": [50, 150], "hr": [2.0, 2.0], "power": [0.2, 0.7]}))
    elif name == "plot_rejection_rates":
        module.plot_rejection_rates(pd.DataFrame({"a": [0.01, 0.2, 0.03, 0.5]}), {"a": "A"})
    elif name == "plot_her2_concordance":
        module.plot_her2_concordance(cb.her2_concordance(table).table)
    else:
        getattr(module, name)(table)
    drawing = {"histplot", "lineplot", "heatmap", "stripplot", "scatterplot", "barplot", "pointplot"}
    assert drawing & set(spy.called), f"{name} did not draw with seaborn: {spy.called}"


def test_rejection_rates_are_the_shares_below_alpha_with_monte_carlo_intervals():
    """Rates: 2 of 5 and 1 of 5 studies with p < 0.05; the interval is 1.96 standard errors
    of a 0/1 mean with n - 1 (seaborn's "se"): 1.96 * sqrt(p (1 - p) / n) * sqrt(n / (n - 1))."""
    reps = pd.DataFrame({"naive": [0.01, 0.04, 0.2, 0.5, 0.06],
                         "corrected": [0.03, 0.3, 0.2, 0.9, 0.07]})
    ax = cb.plot_rejection_rates(reps, {"naive": "Naive", "corrected": "Corrected"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Naive", "Corrected"]
    lines = ax.get_lines()
    points = next(ln for ln in lines if ln.get_marker() == "o")
    assert np.allclose(points.get_xdata(), [0.4, 0.2])
    bars = [ln for ln in lines if ln.get_marker() in (None, "None", "") and ln.get_linestyle() == "-"]
    for line, p in zip(bars, (0.4, 0.2), strict=True):
        half = 1.96 * np.sqrt(p * (1 - p) / 5) * np.sqrt(5 / 4)
        assert np.allclose([np.nanmin(line.get_xdata()), np.nanmax(line.get_xdata())],
                           [p - half, p + half])


def test_stability_figure_is_the_same_every_time_and_leaves_numpy_state_alone():
    """seaborn's strip-plot jitter draws from numpy's global generator: the figure seeds it
    for its own call, so two drawings put every point in the same place, and a reader's
    global random state is where it was."""
    t = pd.DataFrame({"days": [5, 8, 12, 20, 25, 30, 40, 41, 50, 60],
                      "event": [1, 1, 1, 0, 1, 1, 0, 1, 1, 0],
                      "group": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]})
    boot = cb.bootstrap(t["days"], t["event"], t["group"], n_boot=50, seed=1)
    sens = cb.sensitivity(t["days"], t["event"], t["group"])

    def points() -> np.ndarray:
        axes = cb.plot_stability(boot, sens)
        return np.concatenate([c.get_offsets() for c in axes[1].collections])

    np.random.seed(123)  # noqa: NPY002
    first = points()
    after = np.random.random()  # noqa: NPY002
    np.random.seed(456)  # noqa: NPY002
    second = points()
    np.random.seed(123)  # noqa: NPY002
    assert np.random.random() == after  # noqa: NPY002 - nothing drawn from the reader's stream
    assert len(first) == len(sens) - 1
    np.testing.assert_array_equal(first, second)
