"""Figures of the simulation and resampling chapters: cutpoint sweeps, bootstrap and
leave-one-out distributions (seaborn), power curves with Monte Carlo intervals (seaborn).

Each ``plot_*`` function draws on the Axes it is given (a new figure when ``None``) and
returns them; the results it draws come from :mod:`ctcbook.stats` and
:mod:`ctcbook.simulation` as DataFrames or result objects (no import of the simulation
layer here).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
)

from ctcbook.report.figures import PALETTE, p_value_axis
from ctcbook.stats.cutpoints import maxstat_candidates


def _p_axis(ax: Any, p_values: Any, also: Any = (0.05,)) -> None:
    """A log p-value y axis from 1 down to just below the smallest p, ticks as numbers."""
    p_axis = p_value_axis(p_values, also=also)
    ax.set_ylim(p_axis["lo"], 1.0)
    ax.yaxis.set_major_locator(FixedLocator(p_axis["ticks"]))
    ax.yaxis.set_major_formatter(FixedFormatter(p_axis["labels"]))
    ax.yaxis.set_minor_locator(NullLocator())


def plot_cutpoint_sweep(sweep: pd.DataFrame, best: float | None = None, *, xlabel: str = "Threshold",
                        paper_cut: float | None = None, min_prop: float | None = 0.1,
                        axes: Any = None) -> Any:
    """Log-rank statistic, naive p-value and hazard ratio against the threshold.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`ctcbook.stats.cutpoints.logrank_sweep` (``cutpoint``, ``statistic``,
        ``p_value``, ``hazard_ratio``, ``n_low``, ``n_high``); the high group is
        ``marker >= cutpoint``. Cutpoints are positive counts: the x axis is logarithmic
        (ticks 1, 2, 5, 10, ... labelled as plain numbers) and starts just below the
        smallest one.
    best : float, optional
        The maximally selected threshold (marked in vermillion).
    xlabel : str
    paper_cut : float, optional
        A conventional threshold (e.g. 5), marked with a dashed line.
    min_prop : float or None
        Thresholds that leave fewer than this share of the patients in one group (the
        10% rule of :func:`ctcbook.stats.cutpoints.maxstat`) are shaded grey: the search for
        ``best`` never considers them, so a lower p-value there is not a contender.
        None: no shading.
    axes : sequence of three Axes, optional

    Returns
    -------
    numpy.ndarray of matplotlib Axes

    Notes
    -----
    The p-value axis is chosen from the data (:func:`ctcbook.report.figures.p_value_axis`)
    and labelled with numbers (0.05, not 1e-2). The legend sits below the threshold axis, away
    from the curves.
    """
    if axes is None:
        _, axes = plt.subplots(3, 1, figsize=(7.0, 6.8), sharex=True)
    x = sweep["cutpoint"].to_numpy(dtype=float)
    excluded = np.zeros(x.size, dtype=bool)
    if min_prop is not None and {"n_low", "n_high"} <= set(sweep.columns):
        n = int((sweep["n_low"] + sweep["n_high"]).max())
        excluded = ~maxstat_candidates(sweep["n_low"], n, min_prop, 1 - min_prop)
    # contiguous runs of excluded thresholds, each shaded from midpoint to midpoint (log x)
    lo_x = x[0] / 1.25 if x.size else 1.0
    hi_x = x[-1] * 1.25 if x.size else 10.0
    bounds = np.concatenate([[lo_x], np.sqrt(x[1:] * x[:-1]), [hi_x]])
    step = np.diff(np.concatenate([[0], excluded.astype(int), [0]]))  # +1 starts, -1 ends a run
    runs = list(zip(bounds[step == 1], bounds[step == -1], strict=True))
    panels = [("statistic", "Log-rank χ²", False), ("p_value", "Naive p-value\n(log scale)", True),
              ("hazard_ratio", "Hazard ratio, Peto\nexp((O−E)/V), high vs low", True)]
    for ax, (col, label, log) in zip(axes, panels, strict=True):
        for k, (a, b) in enumerate(runs):
            ax.axvspan(a, b, color="0.88", lw=0, zorder=0,
                       label=f"excluded by the {min_prop:.0%} rule" if k == 0 else None)
        ax.plot(x, sweep[col], marker="o", ms=3.5, lw=1.2, color=PALETTE[0], zorder=2)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(label)
        if best is not None:
            ax.axvline(best, color=PALETTE[1], lw=1.5, label="maximally selected", zorder=3)
        if paper_cut is not None:
            ax.axvline(paper_cut, color="0.3", ls="--", lw=1, label=f"≥ {paper_cut:g}", zorder=3)
    _p_axis(axes[1], sweep["p_value"])
    axes[1].axhline(0.05, color="0.5", ls=":", lw=1)
    axes[2].axhline(1.0, color="0.5", ls=":", lw=1)
    # the legend below the threshold axis, away from the curves (a title stays free above)
    handles, labels = axes[0].get_legend_handles_labels()
    if labels:
        axes[-1].legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.42),
                        ncol=len(labels), frameon=False)
    # Thresholds are counts >= 1: a log axis from just below the smallest (no negative
    # half, as a symlog axis would show), with plain-number tick labels.
    marks = [v for v in (best, paper_cut) if v is not None]
    finite = np.concatenate([x, np.asarray(marks, dtype=float)])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo = float(finite.min()) if finite.size else 1.0
    hi = float(finite.max()) if finite.size else 10.0
    axes[2].yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes[2].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[2].yaxis.set_minor_formatter(NullFormatter())
    axes[-1].set_xscale("log")
    axes[-1].set_xlim(lo / 1.25, max(hi, lo * 2) * 1.25)
    axes[-1].xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[-1].xaxis.set_minor_formatter(NullFormatter())
    axes[-1].set_xlabel(xlabel)
    return np.asarray(axes)


def plot_stability(boot: Any, sens: pd.DataFrame, *, axes: Any = None) -> Any:
    """Bootstrap distribution of the hazard ratio and the leave-one-out / changed-outcome p-values.

    Left: a seaborn histogram of the hazard ratio over the bootstrap resamples (log axis),
    with the estimate (solid) and the percentile interval (dashed). Right: a seaborn strip
    plot of the log-rank p-value after leaving out or changing one patient, vermillion for
    the patients of group 1, with lines at the p-value of all data and at 0.05.

    Parameters
    ----------
    boot : ctcbook.stats.resampling.BootstrapResult
    sens : pandas.DataFrame
        Output of :func:`ctcbook.stats.resampling.sensitivity`.
    axes : sequence of two Axes, optional

    Returns
    -------
    numpy.ndarray of matplotlib Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.6))
    lhr = boot.replicates["log_hr"].to_numpy()
    finite = np.exp(lhr[np.isfinite(lhr)])
    hr = boot.summary.set_index("quantity").loc["hazard_ratio"]
    sns.histplot(x=finite, bins=40, log_scale=True, color=PALETTE[0], alpha=0.8, ax=axes[0])
    for v, ls in ((hr["estimate"], "-"), (hr["ci_lower"], "--"), (hr["ci_upper"], "--")):
        if np.isfinite(v) and v > 0:
            axes[0].axvline(v, color=PALETTE[1], ls=ls, lw=1.3)
    axes[0].axvline(1.0, color="0.4", ls=":", lw=1)
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[0].set_xlabel("Hazard ratio in a bootstrap resample")
    axes[0].set_ylabel("Resamples")
    base = sens.loc[sens["change"] == "none", "p_value"].iloc[0]
    varied = sens[sens["change"] != "none"].assign(
        where=lambda d: d["change"].map({"left out": "one patient\nleft out",
                                         "outcome changed": "one outcome\nchanged"}),
        small=lambda d: np.where(d["group"] == 1, "group 1", "group 0"))
    # seaborn jitters with numpy's global generator: seed it for this call only, so the
    # figure is the same on every build and the reader's random state is left as it was
    state = np.random.get_state()  # noqa: NPY002 - seaborn takes no Generator here
    np.random.seed(0)  # noqa: NPY002
    try:
        sns.stripplot(varied, x="where", y="p_value", hue="small",
                      hue_order=["group 0", "group 1"],
                      order=["one patient\nleft out", "one outcome\nchanged"],
                      palette=[PALETTE[0], PALETTE[1]], size=3.5, jitter=0.12,
                      log_scale=(False, True), legend=False, ax=axes[1])
    finally:
        np.random.set_state(state)  # noqa: NPY002
    axes[1].axhline(base, color="0.2", lw=1, label="all data")
    axes[1].axhline(0.05, color="0.5", ls=":", lw=1, label="0.05")
    _p_axis(axes[1], varied["p_value"], also=(0.05, base))
    axes[1].set_xlabel("")
    axes[1].set_ylabel("Log-rank p-value (log scale)")
    axes[1].legend(loc="lower right")
    return np.asarray(axes)


def plot_power(simulated: pd.DataFrame, predicted: pd.DataFrame | None = None, *, ax: Any = None) -> Any:
    """Power against sample size: simulation (points with 95% Monte Carlo bars) and formula.

    The formula's curves are a seaborn ``lineplot`` (one colour per hazard ratio); each
    simulated point carries its 95% Monte Carlo interval, ``power ± 1.96 mc_se``.

    Parameters
    ----------
    simulated : pandas.DataFrame
        ``summary`` of :func:`ctcbook.simulation.studies.simulate_power` (``n``, ``hr``,
        ``power``, ``mc_se``).
    predicted : pandas.DataFrame, optional
        Columns ``n``, ``hr``, ``power`` (e.g. Schoenfeld's on a fine grid), drawn as lines.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.2))
    hrs = sorted(simulated["hr"].unique())
    colours = {h: PALETTE[k % len(PALETTE)] for k, h in enumerate(hrs)}
    if predicted is not None:
        lines = predicted[predicted["hr"].isin(hrs)].assign(
            curve=lambda d: d["hr"].map(lambda h: f"HR {h:g}: Schoenfeld"))
        sns.lineplot(lines, x="n", y="power", hue="curve",
                     palette={f"HR {h:g}: Schoenfeld": colours[h] for h in hrs},
                     hue_order=[f"HR {h:g}: Schoenfeld" for h in hrs], lw=1.4, ax=ax)
    for h in hrs:
        sub = simulated[simulated["hr"] == h]
        ax.errorbar(sub["n"], sub["power"], yerr=1.96 * sub["mc_se"], fmt="o", color=colours[h],
                    ms=4, capsize=2, label=f"HR {h:g}: simulation")
    ax.axhline(0.8, color="0.5", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Patients in the study (all, screened)")
    ax.set_ylabel("Power (two-sided 5%)")
    ax.legend(loc="lower right")
    return ax


def plot_rejection_rates(replications: pd.DataFrame, columns: dict, *, alpha: float = 0.05,
                         hue: str | None = None, ax: Any = None) -> Any:
    """How often each analysis rejects at ``alpha``, with 95% Monte Carlo intervals (seaborn).

    seaborn's ``pointplot`` takes the mean of the 0/1 "rejected" of every simulated study and
    its interval ``mean ± 1.96 se`` (se with ``n - 1``: the binomial Monte Carlo standard
    error times ``sqrt(n / (n - 1))``).

    Parameters
    ----------
    replications : pandas.DataFrame
        One row per simulated study (``StudyResult.replications``) with a p-value column per
        analysis.
    columns : dict
        p-value column -> label of the analysis, in the order shown (top to bottom).
    alpha : float
        The significance level (drawn as a dotted line: where a valid test should sit when
        there is no effect).
    hue : str, optional
        A column of ``replications`` that splits the studies (e.g. the sample size).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.6 + 0.55 * len(columns)))
    ids = [hue] if hue else []
    long = replications[[*columns, *ids]].melt(id_vars=ids, var_name="analysis", value_name="p")
    long["analysis"] = long["analysis"].map(columns)
    long["rejected"] = (long["p"] < alpha).astype(float)
    levels = sorted(long[hue].unique()) if hue else None
    sns.pointplot(long, x="rejected", y="analysis", order=list(columns.values()), hue=hue,
                  hue_order=levels, palette=list(PALETTE[:len(levels)]) if hue else None,
                  color=None if hue else PALETTE[0], errorbar=("se", 1.96), linestyle="none",
                  dodge=0.3 if hue else False, capsize=0.15, err_kws={"linewidth": 1.2}, ax=ax)
    ax.axvline(alpha, color="0.3", ls=":", lw=1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
    ax.set_xlim(left=0)
    ax.set_xlabel(f"Studies with p < {alpha:g} (95% Monte Carlo interval)")
    ax.set_ylabel("")
    return ax
