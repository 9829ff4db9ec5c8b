"""The cohort's figures, drawn by seaborn: CTC counts, their change, HER2 concordance.

Each ``plot_*`` function takes the one-row-per-patient table of
:func:`ctcbook.cohort.rules.patient_table` (or a result computed from it), draws on ``ax``
(a new figure when ``None``) and returns the Axes. Colours come from the book's theme
(:func:`ctcbook.report.figures.style`, the Okabe-Ito palette).

CTC counts are 0, 1, 2, ... with a long right tail, so they are shown on a log axis of
``count + 1`` (a count of zero sits at 1), with ticks labelled as counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import NullLocator

from ctcbook.report.figures import PALETTE

#: Counts labelled on the log ``count + 1`` axes.
COUNT_TICKS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def _count_axis(ax: Axes, top: float, *, which: str = "x") -> None:
    """Label a log ``count + 1`` axis with the counts themselves (0, 1, 2, 5, 10, ...)."""
    ticks = [c for c in COUNT_TICKS if c <= max(top, 10)]
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_ticks([c + 1 for c in ticks], [f"{c:,}" for c in ticks])
    axis.set_minor_locator(NullLocator())


def plot_ctc_distribution(
    table: pd.DataFrame,
    *,
    timepoints: Sequence[str] = ("baseline", "first_follow_up"),
    ax: Axes | None = None,
) -> Axes:
    """Histogram of CTC counts per 7.5 mL at each timepoint, on a log axis (seaborn).

    Bins hold 0, 1, 2, 3-4 and then widening ranges from 5 up, so the CellSearch threshold
    (>= 5) falls on a bin edge and is drawn as a dashed line.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table (columns ``ctc_<timepoint>``).
    timepoints : sequence of str
        Which timepoints to show, side by side in each bin.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8))
    names = {tp: f"{tp.replace('_', ' ')} (n={table[f'ctc_{tp}'].notna().sum():,})"
             for tp in timepoints}
    long = pd.concat([pd.DataFrame({"count": table[f"ctc_{tp}"].dropna().to_numpy(float),
                                    "timepoint": names[tp]}) for tp in timepoints],
                     ignore_index=True)
    top = float(long["count"].max()) if len(long) else 1.0
    # bin edges on the count + 1 scale: {0}, {1}, {2}, {3, 4}, then widening bins from 5
    edges = np.concatenate([[0.5, 1.5, 2.5, 3.5, 5.5],
                            np.geomspace(10.5, max(top, 10) * 1.5 + 1, 7)])
    sns.histplot(long.assign(shifted=long["count"] + 1), x="shifted", hue="timepoint",
                 hue_order=list(names.values()), bins=np.log10(edges), log_scale=True,
                 multiple="dodge", shrink=0.85, palette=list(PALETTE[:len(timepoints)]),
                 alpha=0.9, ax=ax)
    _count_axis(ax, top)
    ax.axvline(5.5, color="0.3", ls="--", lw=1)
    ax.text(5.7, 0.97, "≥ 5: CTC-positive", transform=ax.get_xaxis_transform(), va="top",
            fontsize=8.5)
    ax.set_xlabel("CTCs per 7.5 mL of blood (log scale; bins 0, 1, 2, 3-4, 5-9, ...)")
    ax.set_ylabel("Patients")
    legend = ax.get_legend()
    if legend is not None:
        legend.set_title(None)
    return ax


def plot_paired_counts(table: pd.DataFrame, marker: str = "her2_pos_first_follow_up",
                       labels: dict | None = None, ax: Axes | None = None,
                       max_patients: int = 300, seed: int = 0) -> Axes:
    """Each patient's CTC count at baseline and first follow-up, joined by a line (seaborn).

    seaborn draws one line per patient (``units``), which costs about 5 ms a patient and
    becomes an unreadable blob long before 20,000; above ``max_patients`` patients a
    seeded random sample of them is drawn and the legend says so.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table (``patient_id``, ``ctc_baseline``,
        ``ctc_first_follow_up`` and ``marker``); patients without both counts are left out.
    marker : str
        A 0/1 column that colours the lines (vermillion for 1).
    labels : dict, optional
        Legend label of each value of ``marker``.
    ax : matplotlib Axes, optional
    max_patients : int
        Most patients drawn; a larger cohort is sampled (without replacement).
    seed : int
        Seed of that sample.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    labels = {0.0: "no HER2+ CTCs at first follow-up", 1.0: "HER2+ CTCs at first follow-up",
              **(labels or {})}
    pair = table.dropna(subset=["ctc_baseline", "ctc_first_follow_up"])
    n_pairs = len(pair)
    if n_pairs > max_patients:
        pair = pair.sample(max_patients, random_state=seed)
    long = pair.melt(id_vars=["patient_id", marker],
                     value_vars=["ctc_baseline", "ctc_first_follow_up"],
                     var_name="draw", value_name="count")
    long["draw"] = long["draw"].map({"ctc_baseline": "Baseline",
                                     "ctc_first_follow_up": "First follow-up"})
    long["group"] = long[marker].map(labels).fillna("no result")
    order = [labels[0.0], labels[1.0]] + (["no result"] if (long["group"] == "no result").any()
                                          else [])
    colours = dict(zip(order, [PALETTE[0], PALETTE[1], "0.6"], strict=False))
    sns.lineplot(long.assign(shifted=long["count"] + 1), x="draw", y="shifted", hue="group",
                 hue_order=order, palette=colours, units="patient_id", estimator=None,
                 marker="o", markersize=4, alpha=0.6, lw=1, sort=False, ax=ax)
    ax.set_yscale("log")
    _count_axis(ax, float(long["count"].max()) if len(long) else 1.0, which="y")
    ax.axhline(5.5, color="0.3", ls="--", lw=1)
    ax.set_xlabel("")
    ax.set_ylabel("CTCs per 7.5 mL (log scale)")
    ax.legend(loc="upper right", title=None if n_pairs <= max_patients else
              f"a random {max_patients:,} of {n_pairs:,} patients")
    return ax


def plot_her2_concordance(counts: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The HER2 concordance table as an annotated heatmap (seaborn).

    Parameters
    ----------
    counts : pandas.DataFrame
        A table of counts, e.g. ``her2_concordance(...).table`` (primary tumour status in
        rows, HER2+ CTCs in columns).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Each cell shows its count; darker cells hold more patients.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.2))
    sns.heatmap(counts.astype(int), annot=True, fmt=",d", cmap="Blues", cbar=False,
                linewidths=1, linecolor="white", square=False, annot_kws={"fontsize": 12},
                ax=ax)
    ax.set_xlabel(counts.columns.name or "CTCs")
    ax.set_ylabel(counts.index.name or "Primary tumour")
    ax.tick_params(axis="y", rotation=0)
    ax.grid(False)
    return ax
