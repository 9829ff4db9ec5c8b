"""What :func:`ctcbook.explorers.core.explore` returns: the :class:`Exploration` of one set
of choices, its figure, its text (caption, summary, medians) and the empty result of a
choice that cannot be analysed."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.report.tables import p_text

__all__ = ["Exploration", "figure_size", "layout_for_risk_table", "format_median", "caption",
           "empty_exploration"]


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class Exploration:
    """The survival comparison for one set of choices (returned by :func:`explore`).

    Attributes
    ----------
    threshold, timepoint, her2_rule, endpoint, grouping
        The choices (``her2_rule`` as its short name or label).
    groups : pandas.DataFrame
        One row per group, in display order: ``group`` (0 = marker-negative,
        1 = marker-positive; 0..3 for the "change" categories), ``label``, ``n``,
        ``events``, ``median``, ``median_lower``, ``median_upper`` (months, 95% CI;
        ``inf`` = not reached, NaN for an empty group).
    curves : pandas.DataFrame
        Kaplan-Meier estimate per non-empty group, starting at (0, 1): ``group``,
        ``label``, ``time`` (months), ``survival``, ``ci_lower``, ``ci_upper`` (95%
        log-log), ``at_risk``, ``events``, ``censored`` (rows with ``censored > 0`` are
        the censoring marks).
    risk : pandas.DataFrame
        KMunicate risk table at ``ticks``: ``group``, ``label``, ``time`` (months),
        ``at_risk``, ``censored``, ``events`` (cumulative).
    statistic, df, p_value : float, int, float
        Log-rank chi-square test of equal survival across the non-empty groups (NaN when
        fewer than two groups are non-empty).
    hazard_ratio, hr_lower, hr_upper : float
        Cox model (Efron ties), marker-positive vs marker-negative, with 95% Wald
        interval; NaN for the four "change" groups and when the model cannot be fitted.
    n : int
        Patients analysed.
    n_excluded : int
        Patients without a draw at the chosen timepoint (not analysed).
    n_not_at_risk : int
        Landmark analysis only: patients with a first follow-up draw who had already
        had the event (or were censored) by the landmark day, so are not analysed.
    message : str or None
        None, or a plain sentence explaining why something could not be computed.
    title, caption : str
        For the figure; the caption says "synthetic cohort" for a synthetic cohort.
    ticks : tuple of float
        Time-axis ticks (months) of the figure and the risk table.
    max_months : float
        Right end of the time axis.
    synthetic : bool
        Whether the cohort is synthetic.
    """

    threshold: int
    timepoint: str
    her2_rule: str
    endpoint: str
    grouping: str
    groups: pd.DataFrame = field(repr=False)
    curves: pd.DataFrame = field(repr=False)
    risk: pd.DataFrame = field(repr=False)
    statistic: float
    df: int
    p_value: float
    hazard_ratio: float
    hr_lower: float
    hr_upper: float
    n: int
    n_excluded: int
    n_not_at_risk: int
    message: str | None
    title: str
    caption: str
    ticks: tuple[float, ...] = field(repr=False)
    max_months: float = field(repr=False)
    synthetic: bool = field(repr=False)
    xlabel: str = field(repr=False, default="Months since baseline blood draw")
    # analysed patients (days, event, group code): what the figure is drawn from
    data: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def note(self) -> str:
        """The short text shown in the figure: log-rank p and hazard ratio."""
        parts = []
        if np.isfinite(self.p_value):
            parts.append(f"log-rank {p_text(self.p_value)}")
        if np.isfinite(self.hazard_ratio):
            parts.append(
                f"HR {self.hazard_ratio:.2f} ({self.hr_lower:.2f}–{self.hr_upper:.2f})"
            )
        return "\n".join(parts)

    def draw(self, ax: Any = None) -> Any:
        """Draw the Kaplan-Meier figure with :func:`ctcbook.report.figures.plot_km` on ``ax``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (it is not cleared); a new, non-pyplot figure when None.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ctcbook.report.figures import plot_km

        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=figure_size(len(self.groups)))
            ax = fig.add_subplot()
        layout_for_risk_table(ax.figure, len(self.groups))
        labels = dict(zip(self.groups["group"], self.groups["label"], strict=True))
        order = list(self.groups["group"])
        if len(self.data):
            plot_km(
                self.data["days"].to_numpy(), self.data["event"].to_numpy(),
                self.data["group"].to_numpy(), order=order, labels=labels, ax=ax,
                max_months=self.max_months, note=self.note or None,
            )
        ax.set_xlabel(self.xlabel)
        ax.set_title(self.title, fontsize=10, loc="left")
        if self.message and not len(self.curves):
            ax.text(0.5, 0.5, textwrap.fill(self.message, 70), transform=ax.transAxes,
                    ha="center", va="center", fontsize=9, color="0.15",
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.9})
        elif self.message:  # never over the curves: under the title, above the plot
            text = textwrap.fill(self.message, 100)
            ax.text(0.0, 1.01, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=8,
                    color="#8a3b00")
            ax.set_title(self.title, fontsize=10, loc="left", pad=6 + 11 * len(text.splitlines()))
        return ax

    @cached_property
    def figure(self) -> Any:
        """The Kaplan-Meier figure (a matplotlib Figure, drawn on first access)."""
        return self.draw().figure

    def summary(self) -> str:
        """One plain-text paragraph with the numbers (what the widgets show)."""
        lines = [self.title]
        for row in self.groups.itertuples():
            lines.append(f"  {row.label}: n = {row.n:,}, events = {row.events:,}, "
                         f"median {format_median(row.median, row.median_lower, row.median_upper)}")
        lines.append("  " + (self.note.replace("\n", "; ") or "no test"))
        if self.message:
            lines.append("  " + self.message)
        return "\n".join(lines)


def figure_size(n_groups: int) -> tuple[float, float]:
    """Figure size (inches) for a Kaplan-Meier plot with a risk table of ``n_groups`` groups."""
    return (7.0, 3.4 + 0.62 * max(n_groups, 1))


def layout_for_risk_table(fig: Any, n_groups: int) -> None:
    """Margins that leave room for ``plot_km``'s risk table under the axes."""
    lines = 4 * max(n_groups, 1)
    extent = 0.22 + 0.065 * (lines - 1) + 0.08  # below the axes, in axes heights
    top = 0.92
    height = (top - 0.01) / (1.0 + extent)
    fig.subplots_adjust(left=0.19, right=0.97, top=top, bottom=top - height)


def format_median(median: float, lower: float, upper: float) -> str:
    """Median survival (months) with its 95% CI as text; ``inf`` is "not reached"."""
    def one(x: float) -> str:
        if isinstance(x, float) and math.isnan(x):
            return "–"
        return "not reached" if math.isinf(x) else f"{x:.1f}"

    if isinstance(median, float) and math.isnan(median):
        return "–"
    return f"{one(median)} months (95% CI {one(lower)} to {one(upper)})"


def caption(endpoint_label: str, phrase: str, timepoint: str, n: int, n_excluded: int,
            n_not_at_risk: int, p: float, df: int, hr: float, lo: float, hi: float,
            synthetic: bool, k: int) -> str:
    """The figure caption of an exploration (says "synthetic cohort" for a synthetic one)."""
    text = (f"Kaplan-Meier estimates of {endpoint_label.lower()} by {phrase}, with 95% "
            f"confidence bands, censoring marks and numbers at risk; {n:,} patients analysed")
    if n_excluded:
        what = "any draw" if timepoint == "any" else (
            "both draws" if timepoint == "change" else
            "a baseline draw" if timepoint == "baseline" else "a first follow-up draw")
        text += f", {n_excluded:,} without {what} left out"
    if n_not_at_risk:
        text += f", {n_not_at_risk:,} with the event or censored by the landmark left out"
    text += "."
    if np.isfinite(p):
        text += f" Log-rank {p_text(p)}" + (f" ({df} df)" if df > 1 else "")
        if np.isfinite(hr):
            text += f"; Cox hazard ratio {hr:.2f} (95% CI {lo:.2f} to {hi:.2f})"
        elif k > 2:
            text += "; no single hazard ratio for more than two groups"
        text += "."
    text += " Synthetic cohort: not real patients." if synthetic else ""
    return text


def empty_exploration(threshold: int, timepoint: str, rule_name: str, endpoint: str,
                      grouping: str, synthetic: bool, n_total: int, message: str,
                      title: str) -> Exploration:
    """The result of choices that cannot be analysed: no groups, NaN numbers, ``message``."""
    groups = pd.DataFrame({c: [] for c in ("group", "label", "n", "events", "median",
                                           "median_lower", "median_upper")})
    curves = pd.DataFrame({c: [] for c in ("group", "label", "time", "survival", "ci_lower",
                                           "ci_upper", "at_risk", "events", "censored")})
    risk = pd.DataFrame({c: [] for c in ("group", "label", "time", "at_risk", "censored", "events")})
    nan = float("nan")
    caption = message + (" Synthetic cohort: not real patients." if synthetic else "")
    return Exploration(
        threshold=threshold, timepoint=timepoint, her2_rule=rule_name, endpoint=endpoint,
        grouping=grouping, groups=groups, curves=curves, risk=risk, statistic=nan, df=0,
        p_value=nan, hazard_ratio=nan, hr_lower=nan, hr_upper=nan, n=0, n_excluded=n_total,
        n_not_at_risk=0, message=message, title=title, caption=caption, ticks=(0.0,),
        max_months=12.0, synthetic=synthetic,
        data=pd.DataFrame({"days": [], "event": [], "group": []}),
    )
