"""Simulation studies: the claims of the 'Beyond the paper' chapters, decisively and fast."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ctcbook.simulation.guarantee import guarantee_time_study, simulate_marker_schedule
from ctcbook.simulation.runner import run_batches, show_progress
from ctcbook.simulation.studies import cutpoint_type1_error
from ctcbook.stats._engine import score_test_batch
from ctcbook.stats.survival import logrank
from ctcbook.stats.timevarying import cox_time_varying


def _within(rate: float, n: int, alpha: float = 0.05, k: float = 3.5) -> bool:
    return abs(rate - alpha) <= k * math.sqrt(alpha * (1 - alpha) / n)


def test_score_engine_matches_logrank_and_time_varying_cox():
    sim = simulate_marker_schedule(np.random.default_rng(3), 4, 60)
    fixed = np.where(sim["positive_first_follow_up"], -np.inf, np.inf)
    res = score_test_batch(sim["time"], sim["event"], fixed)
    for i in range(4):
        ref = logrank(sim["time"][i], sim["event"][i], sim["positive_first_follow_up"][i])
        assert res["z"][i] ** 2 == pytest.approx(ref.statistic, rel=1e-10)
    tv = score_test_batch(sim["time"], sim["event"], sim["first_positive_day"])
    for i in range(4):
        fp = sim["first_positive_day"][i]
        df = pd.DataFrame({"t": sim["time"][i], "e": sim["event"][i].astype(int),
                           "m": np.where(np.isfinite(fp), 1.0, np.nan),
                           "d": np.where(np.isfinite(fp), fp, np.nan)})
        ref = cox_time_varying(df, "t", "e", "m", "d", ties="breslow")
        assert tv["z"][i] ** 2 == pytest.approx(ref.score_statistic, rel=1e-9)
    # landmark: entry at day 28 equals a log-rank test on the patients alive at 28
    lm = score_test_batch(sim["time"], sim["event"], fixed, entry=np.full(sim["time"].shape, 28.0))
    keep = sim["time"][0] > 28
    ref = logrank(sim["time"][0][keep] - 28, sim["event"][0][keep],
                  sim["positive_first_follow_up"][0][keep])
    assert lm["z"][0] ** 2 == pytest.approx(ref.statistic, rel=1e-10)


def test_naive_cutpoint_search_inflates_type1_error_and_corrections_do_not():
    """1000 null data sets of 52 patients, CTC-count marker: the naive p of the best
    cutpoint rejects far more than 5%; the permutation p is at 5% within Monte Carlo
    error (3.5 SE) and the Lausen bounds are at most 5% + 3.5 SE."""
    res = cutpoint_type1_error(n_sim=1000, n=52, n_permutations=500, seed=2024)
    s = res.summary.set_index("method")["rejection_rate"]
    n = res.n_sim
    assert n >= 990
    assert s["p_naive"] > 0.15
    assert _within(s["p_permutation"], n)
    upper = 0.05 + 3.5 * math.sqrt(0.05 * 0.95 / n)
    assert s["p_lau94"] <= upper
    assert s["p_lau92"] <= upper
    assert s["p_lau94"] >= 0.01


def test_guarantee_time_bias_naive_but_not_landmark_or_time_varying():
    """A marker with no effect: 'positive at any draw' from baseline looks strongly
    protective; the landmark and time-varying analyses reject at 5% within error."""
    res = guarantee_time_study(n_sim=2000, n=200, seed=7)
    s = res.summary.set_index("method")
    assert s.loc["naive_any_time", "rejection_rate"] > 0.5
    assert s.loc["naive_any_time", "mean_log_hr"] < -0.3
    for method in ("landmark", "time_varying", "naive_first_follow_up"):
        assert _within(s.loc[method, "rejection_rate"], 2000), method
        assert abs(s.loc[method, "mean_log_hr"]) < 0.1, method


def test_guarantee_first_follow_up_leaves_out_patients_without_the_draw():
    """As the book's cohort analysis: no first-follow-up draw, in neither group."""
    import numpy as np

    from ctcbook.simulation.guarantee import guarantee_analyses, simulate_marker_schedule

    sim = simulate_marker_schedule(np.random.default_rng(5), 20, 60, median_days=40.0)
    assert (~sim["has_first_follow_up"]).any()  # short survival: some die before the draw
    res = guarantee_analyses(sim)
    np.testing.assert_array_equal(res["naive_first_follow_up"]["n"],
                                  sim["has_first_follow_up"].sum(axis=1))


def test_guarantee_time_true_effect_is_found_by_time_varying():
    res = guarantee_time_study(n_sim=500, n=200, log_hr=1.0, seed=8)
    s = res.summary.set_index("method")
    assert s.loc["time_varying", "rejection_rate"] > 0.8
    assert s.loc["time_varying", "mean_log_hr"] > 0.5


def _draw(rng, size):
    return {"x": rng.random(size)}


def test_run_batches_deterministic_whatever_the_workers():
    a, _ = run_batches(_draw, 1000, 3, batch_size=128)
    b, _ = run_batches(_draw, 1000, 3, batch_size=128, n_jobs=2, backend="threading")
    assert len(a) == 1000
    assert a.equals(b)


def test_show_progress(monkeypatch):
    assert show_progress(True) is True
    assert show_progress(False) is False
    monkeypatch.setenv("CTCBOOK_QUIET", "1")
    assert show_progress(None) is False


def test_exercise_continuous_marker_naive_error_is_inflated():
    """The solution of ex-beyond-continuous-marker (notebook 12) runs this call."""
    res = cutpoint_type1_error(n_sim=300, n=52, marker="continuous", n_permutations=200, seed=13)
    s = res.summary.set_index("method")["rejection_rate"]
    assert s["p_naive"] > 0.2
    assert s["p_permutation"] < 0.05 + 3.5 * math.sqrt(0.05 * 0.95 / 300)


def _small_sweep() -> pd.DataFrame:
    """A seeded sweep of 50 patients, 20 of them with no CTCs (thresholds 1 to ~300)."""
    from ctcbook.stats.cutpoints import logrank_sweep

    rng = np.random.default_rng(2)
    marker = np.concatenate([np.zeros(20), rng.integers(1, 300, 30)]).astype(float)
    return logrank_sweep(rng.exponential(100, 50), rng.random(50) < 0.8, marker)


def test_cutpoint_sweep_axis_starts_at_the_smallest_threshold():
    """Thresholds are counts >= 1: no negative half of a symlog axis, plain tick labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ctcbook.report.study_figures import plot_cutpoint_sweep

    sweep = _small_sweep()
    axes = plot_cutpoint_sweep(sweep, best=8.0, paper_cut=5)
    try:
        ax = axes[-1]
        assert ax.get_xscale() == "log"
        lo, hi = ax.get_xlim()
        assert 0 < lo < sweep["cutpoint"].min() and hi > sweep["cutpoint"].max()
        plt.gcf().canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
        assert "10" in labels and all(float(label) > 0 for label in labels)
        assert not any(label.startswith(("−", "-")) for label in labels)
    finally:
        plt.close("all")


def test_summary_table_names_and_formats_the_columns():
    from ctcbook.simulation.studies import summary_table

    summary = pd.DataFrame({"label": ["Naive", "Landmark"], "n": [52, 200],
                            "rejection_rate": [0.1234, np.nan], "hr_at_mean": [0.6789, 1.0]})
    out = summary_table(summary, ["n", "label", "rejection_rate", "hr_at_mean"],
                        labels={"rejection_rate": "Type I error (nominal 1%)"})
    assert list(out.columns) == ["Patients", "Method", "Type I error (nominal 1%)",
                                 "Hazard ratio at the mean"]
    assert out.to_dict("list") == {"Patients": ["52", "200"], "Method": ["Naive", "Landmark"],
                                   "Type I error (nominal 1%)": ["0.123", ""],
                                   "Hazard ratio at the mean": ["0.68", "1.00"]}


def test_cutpoint_sweep_p_axis_comes_from_the_data_and_reads_as_numbers():
    """Issue 16: smallest p 0.02-0.03 -> the axis ends at 0.01-0.02 (not 1e-4), ticks "0.05"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ctcbook.report.study_figures import plot_cutpoint_sweep
    from ctcbook.stats.cutpoints import maxstat_candidates

    sweep = _small_sweep()
    axes = plot_cutpoint_sweep(sweep, best=8.0, paper_cut=5)
    try:
        ax = axes[1]
        lo, hi = ax.get_ylim()
        smallest = sweep["p_value"].min()
        assert hi == 1.0 and smallest / 10 < lo < smallest
        plt.gcf().canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert "0.05" in labels and "1" in labels
        assert not any("e" in label or "10^" in label or "$" in label for label in labels), labels
        assert all(lo <= float(label) <= 1 for label in labels)
        # the thresholds the 10% rule excludes are shaded, and only those
        excluded = ~maxstat_candidates(sweep["n_low"], 50)
        assert excluded.any() and not excluded.all()
        spans = [p for p in axes[0].patches if p.get_label() == "excluded by the 10% rule"
                 or p.get_facecolor()[:3] == matplotlib.colors.to_rgb("0.88")]
        assert spans, "no shaded region"
        inside = np.zeros(len(sweep), dtype=bool)
        for patch in spans:
            x0, x1 = patch.get_x(), patch.get_x() + patch.get_width()
            inside |= (sweep["cutpoint"].to_numpy() > x0) & (sweep["cutpoint"].to_numpy() < x1)
        assert (inside == excluded).all()
        # the legend is below the panels, not over the curves
        legend = axes[-1].get_legend()
        assert legend is not None and axes[0].get_legend() is None
    finally:
        plt.close("all")


def test_p_value_axis_and_tick_numbers():
    from ctcbook.report.figures import p_number, p_value_axis

    axis = p_value_axis([0.3, 0.023, np.nan])
    assert axis["lo"] == 0.01 and axis["ticks"][0] == 1.0
    assert axis["labels"] == ["1", "0.5", "0.2", "0.1", "0.05", "0.02", "0.01"]
    assert p_value_axis([0.0004])["lo"] == 0.0002
    assert p_value_axis([0.9])["lo"] == 0.02  # the 0.05 line is always on the axis
    assert [p_number(v) for v in (0.001, 0.00002, 1.0)] == ["0.001", "0.00002", "1"]


def test_maxstat_candidates_match_maxstat():
    """The shaded thresholds are exactly those maxstat does not consider (R maxstat's rule)."""
    from ctcbook.stats.cutpoints import logrank_sweep, maxstat, maxstat_candidates

    rng = np.random.default_rng(5)
    marker = rng.integers(0, 40, 52).astype(float)
    time, event = rng.exponential(300, 52), rng.random(52) < 0.7
    res = maxstat(time, event, marker, n_permutations=0)
    sweep = logrank_sweep(time, event, marker, np.unique(marker)[1:])
    mask = maxstat_candidates(sweep["n_low"], 52)
    assert set(sweep.loc[mask, "n_low"]) == set(res.table["n_low"])
