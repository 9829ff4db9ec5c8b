"""Figures for the book: its theme, and the survival figures (Kaplan-Meier with KMunicate
risk tables, forest plots, RMST, Simon-Makuch curves, Schoenfeld residuals).

Every ``plot_*`` function draws on ``ax`` (a new figure when ``None``) and returns the
Axes, lifelines-style. Statistics come from :mod:`ctcbook.stats`; nothing here computes a
test. The cohort's distributions are drawn by seaborn in
:mod:`ctcbook.report.cohort_figures`, the simulation and resampling figures in
:mod:`ctcbook.report.study_figures`.

References
----------
.. [1] Morris TP, Jarvis CI, Cragg W, et al. Proposals on Kaplan-Meier plots in medical
   research and a survey of stakeholder views: KMunicate. BMJ Open 2019;9:e030215.
   doi:10.1136/bmjopen-2019-030215
.. [2] Okabe M, Ito K. Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people. 2008.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ctcbook.cohort.paper import DAYS_PER_MONTH
from ctcbook.report.tables import p_text

#: Okabe-Ito colour-blind-safe palette (blue, vermillion, bluish green, orange, ...).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")


def style() -> None:
    """Apply the book's figure theme: seaborn's ``set_theme`` with the Okabe-Ito palette.

    ``sns.set_theme`` sets seaborn's white-grid style, its sizes and :data:`PALETTE` as
    the colour cycle (so seaborn's ``hue`` and matplotlib's default colours are the same
    colour-blind-safe seven [2]_); the book then drops the top and right spines and
    lightens the grid.
    In a Jupyter kernel it also lets the numbers the notebook glues fill the text's
    ``{eval}`` roles, as the book does (:func:`ctcbook.report.glue.show_glued_values`).
    """
    import seaborn as sns

    from ctcbook.report.glue import show_glued_values

    show_glued_values()
    sns.set_theme(
        context="notebook", style="whitegrid", palette=list(PALETTE), font="DejaVu Sans",
        rc={
            "axes.spines.top": False,
            "axes.spines.right": False,
            "grid.alpha": 0.25,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "figure.figsize": (7.0, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
        },
    )


def month_ticks(max_months: float) -> np.ndarray:
    """Sensible ticks for a time axis in months: every 3, 6 or 12 months."""
    step = 3 if max_months <= 24 else 6 if max_months <= 48 else 12
    return np.arange(0, max_months + step, step)


def p_number(p: float) -> str:
    """A p-value tick label as a plain number: ``0.05``, ``0.001``, ``1`` (never ``1e-2``).

    The shortest decimal that reads back as ``p`` (numpy's ``format_float_positional``).

    >>> [p_number(v) for v in (1.0, 0.5, 0.05, 0.002, 0.00001)]
    ['1', '0.5', '0.05', '0.002', '0.00001']
    """
    return np.format_float_positional(p, trim="-")


def p_value_axis(p_values, *, also: Sequence[float] = (0.05,)) -> dict:
    """A log p-value axis chosen from the data: its lower end and its ticks as numbers.

    The axis runs from 1 down to the 1-2-5 step just below the smallest p-value shown
    (and ``also``, e.g. the 0.05 line and a corrected p-value), so a smallest p of 0.023
    gives an axis down to 0.01, not 1e-4. Ticks follow 1, 0.5, 0.2, 0.1, 0.05, ...; when
    that gives more than 8, only decades and 0.05 are kept (and the lower end, when it is at
    least 3 times below the last of them, so no two labels touch).

    Parameters
    ----------
    p_values : array-like of float
        The p-values drawn (NaN and values <= 0 are ignored).
    also : sequence of float
        Further values the axis must show.

    Returns
    -------
    dict
        ``lo`` (the lower end), ``ticks`` (descending, from 1) and ``labels``
        (:func:`p_number` of each tick).
    """
    values = np.asarray([*np.asarray(p_values, dtype=float).ravel(), *also], dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    smallest = float(values.min()) if values.size else 0.05
    smallest = max(min(smallest, 1.0), 1e-12)
    steps = []
    decade = 1.0
    while True:
        for m in (1.0, 0.5, 0.2):
            steps.append(round(m * decade, 15))
        if steps[-1] <= smallest / 1.3:
            break
        decade /= 10
    # the step just below the smallest value, with a little room (not at the very edge)
    lo = next(v for v in steps if v <= smallest / 1.3)
    ticks = [v for v in steps if v >= lo]
    if len(ticks) > 8:
        ticks = [v for v in ticks if np.isclose(np.log10(v), round(np.log10(v))) or v == 0.05]
        if ticks[-1] >= 3 * lo:  # the lower end, unless its label would touch the last one
            ticks.append(lo)
    return {"lo": lo, "ticks": ticks, "labels": [p_number(v) for v in ticks]}


def plot_km(
    time: Sequence[float],
    event: Sequence[int],
    group: Sequence | None = None,
    *,
    order: Sequence | None = None,
    labels: dict | None = None,
    ax: Axes | None = None,
    risk_table: bool = True,
    ci: bool = True,
    max_months: float | None = None,
    ylabel: str = "Survival probability",
    note: str | None = None,
) -> Axes:
    """Kaplan-Meier curves with 95% bands, censoring marks and a KMunicate risk table.

    Parameters
    ----------
    time, event : array-like
        Follow-up in **days** and event indicator (1 = event). Shown in months.
    group : array-like, optional
        Group of each patient; one curve per group (one curve when ``None``).
    order : sequence, optional
        Order of the groups (legend, colours, table rows).
    labels : dict, optional
        Display label per group.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.
    risk_table : bool
        Draw numbers at risk, censored and with events under the axis (KMunicate).
    ci : bool
        Draw pointwise 95% confidence bands (log-log).
    max_months : float, optional
        Right end of the time axis.
    ylabel : str
        Label of the survival axis.
    note : str, optional
        Text placed in the upper right (e.g. log-rank p and hazard ratio).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from lifelines import KaplanMeierFitter

    from ctcbook.stats.survival import risk_table as make_risk_table

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    groups = np.zeros(len(time), dtype=int) if group is None else np.asarray(group)
    if order is None:
        order = list(pd.unique(groups))
        try:
            order = sorted(order)
        except TypeError:
            pass
    labels = labels or {}
    if ax is None:
        # the risk table needs 40 pt + 4 lines of 11 pt per group under the axis
        table_in = (48.0 + 44.0 * len(order)) / 72.0 if risk_table else 0.0
        fig, ax = plt.subplots(figsize=(7.0, 3.4 + table_in))
        if risk_table:
            fig.subplots_adjust(bottom=(table_in + 0.1) / (3.4 + table_in), top=0.97, left=0.2)
    months = time / DAYS_PER_MONTH
    if max_months is None:
        max_months = float(np.nanmax(months)) if len(months) else 12.0
    for k, g in enumerate(order):
        mask = groups == g
        if not mask.any():
            continue
        label = labels.get(g, str(g)) if group is not None else labels.get(g, "All patients")
        kmf = KaplanMeierFitter(label=f"{label} (n={mask.sum():,})").fit(months[mask], event[mask])
        kmf.plot_survival_function(
            ax=ax, ci_show=ci, ci_alpha=0.15, ci_no_lines=True, show_censors=True,
            censor_styles={"marker": "|", "ms": 8, "mew": 1.4}, color=PALETTE[k % len(PALETTE)],
            lw=1.8,
        )
    ax.set_xlim(0, max_months)
    ax.set_ylim(0, 1.02)
    ticks = month_ticks(max_months)
    ax.set_xticks(ticks[ticks <= max_months])
    ax.set_xlabel("Months since baseline blood draw")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left")
    if note:
        ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=9)
    if risk_table:
        shown = [t for t in ax.get_xticks() if 0 <= t <= max_months]
        table = make_risk_table(months, event, groups, shown)
        _draw_risk_table(ax, table, order, labels if group is not None else {}, shown)
    return ax


def _draw_risk_table(ax: Axes, table: pd.DataFrame, order, labels, times) -> None:
    """Write numbers at risk (censored, events) under ``ax``, aligned with its ticks.

    Rows are laid out in points below the axis (not in axes fractions), so the table
    stays compact and legible whatever the height of the plot; row titles sit left of
    the axis, clear of the values at time 0.
    """
    from matplotlib.transforms import offset_copy

    rows = [("at_risk", "At risk"), ("censored", "Censored"), ("events", "Events")]
    fig = ax.figure
    values_tf = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    line_pt, start_pt = 11.0, 40.0  # line spacing; first line below the axis (under its label)

    def at(base, line: int, dx: float = 0.0):
        return offset_copy(base, fig=fig, x=dx, y=-(start_pt + line_pt * line), units="points")

    line = 0
    for k, g in enumerate(order):
        sub = table[table["group"] == g].set_index("time")
        if sub.empty:
            continue
        colour = PALETTE[k % len(PALETTE)]
        name = labels.get(g, str(g)) if labels else "All patients"
        ax.text(0.0, 0.0, name, transform=at(ax.transAxes, line, dx=-14), ha="right",
                va="center", fontsize=8.5, color=colour, fontweight="bold")
        line += 1
        for column, title in rows:
            ax.text(0.0, 0.0, title, transform=at(ax.transAxes, line, dx=-14), ha="right",
                    va="center", fontsize=8)
            for t in times:
                value = sub[column].get(t, np.nan) if t in sub.index else np.nan
                text = "" if pd.isna(value) else f"{int(value):,}"
                ax.text(t, 0.0, text, transform=at(values_tf, line), ha="center",
                        va="center", fontsize=8, color=colour)
            line += 1


def plot_forest(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Forest plot of hazard ratios with 95% confidence intervals on a log axis.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per estimate with columns ``hr``, ``hr_lower``, ``hr_upper`` and a
        ``label`` (else the index is used); optional ``model`` (one colour and marker per
        model, rows of the same label drawn just above one another) and ``p``
        (written at the right). Rows with a NaN hazard ratio are listed as
        "not estimable". :func:`ctcbook.report.tables.cox_table` returns this format.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    df = summary.reset_index(drop="label" in summary.columns)
    if "label" not in df.columns:
        df = df.rename(columns={df.columns[0]: "label"})
    if df.empty:
        raise ValueError("summary has no rows to plot")
    models = list(pd.unique(df["model"])) if "model" in df.columns else [None]
    labels = list(pd.unique(df["label"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 1.0 + 0.45 * len(labels) * max(1, len(models) * 0.7)))
    width = 0.36
    offsets = np.linspace(width / 2, -width / 2, len(models)) if len(models) > 1 else [0.0]
    finite = df[["hr", "hr_lower", "hr_upper"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    lo = min(0.5, float(finite.min()) / 1.3) if finite.size else 0.5
    hi = max(2.0, float(finite.max()) * 1.3) if finite.size else 2.0
    markers = ("o", "s", "D", "^")
    for k, model in enumerate(models):
        sub = df if model is None else df[df["model"] == model]
        y = np.array([len(labels) - 1 - labels.index(lab) for lab in sub["label"]]) + offsets[k]
        hr = sub["hr"].to_numpy(dtype=float)
        ok = np.isfinite(hr)
        colour = PALETTE[k % len(PALETTE)]
        ax.errorbar(
            hr[ok], y[ok],
            xerr=[hr[ok] - sub["hr_lower"].to_numpy(float)[ok],
                  sub["hr_upper"].to_numpy(float)[ok] - hr[ok]],
            fmt=markers[k % len(markers)], color=colour, ms=6, capsize=3, lw=1.5,
            label=None if model is None else str(model),
        )
        for yy in y[~ok]:
            ax.text(1.0, yy, "not estimable", ha="center", va="center", fontsize=8, color=colour)
        if "p" in sub.columns:
            trans = mpl.transforms.blended_transform_factory(ax.transAxes, ax.transData)
            for yy, p in zip(y, sub["p"].to_numpy(dtype=float), strict=True):
                text = p_text(p) if np.isfinite(p) else ""
                ax.text(1.02, yy, text, transform=trans, ha="left", va="center", fontsize=8,
                        color=colour)
    ax.axvline(1.0, color="0.4", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.set_yticks(np.arange(len(labels))[::-1], labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Hazard ratio (95% CI, log scale)")
    if models != [None]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(models))
    return ax


def plot_schoenfeld(residuals: pd.DataFrame, covariate: str, ax=None, time_scale: float = 1.0,
                    label: str | None = None):
    """Scaled Schoenfeld residuals of one covariate against time, with a smooth trend.

    Parameters
    ----------
    residuals : pandas.DataFrame
        From :func:`ctcbook.stats.modelcheck.schoenfeld_residuals`.
    covariate : str
    ax : matplotlib Axes, optional
    time_scale : float
        Divide times by this (e.g. 30.4375 for months).
    label : str, optional
        Axis label for the covariate.

    Returns
    -------
    matplotlib.axes.Axes
        Points: beta + scaled residual at each event; solid line: a running mean (a
        third of the events wide); dashed line: the fitted (constant) coefficient. Under
        proportional hazards the trend is flat around the dashed line.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    d = residuals.sort_values("time")
    t = d["time"].to_numpy() / time_scale
    y = d[covariate].to_numpy()
    beta = float(np.mean(y))  # residuals sum to zero: the mean is the coefficient
    ax.scatter(t, y, s=14, color=PALETTE[0], alpha=0.7, label="β + scaled residual")
    width = max(3, len(y) // 3)
    trend = pd.Series(y).rolling(width, center=True, min_periods=max(2, width // 2)).mean()
    ax.plot(t, trend, color=PALETTE[1], lw=2, label="running mean")
    ax.axhline(beta, color="0.3", ls="--", lw=1, label="fitted β")
    ax.set_xlabel("Time (months)" if time_scale != 1.0 else "Time")
    ax.set_ylabel(f"β(t): {label or covariate}")
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax


def plot_rmst(time, event, group, tau: float, labels: dict | None = None, ax=None):
    """Kaplan-Meier curves of two groups with the RMST (area up to tau) shaded.

    Returns the Axes; group 0 first, in the book's palette.

    References
    ----------
    .. [1] Royston P, Parmar MKB. Restricted mean survival time: an alternative to the
       hazard ratio. BMC Med Res Methodol 2013;13:152. doi:10.1186/1471-2288-13-152
    """
    from lifelines import KaplanMeierFitter

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    labels = {0: "group 0", 1: "group 1", **(labels or {})}
    t, e, g = (np.asarray(a, dtype=float) for a in (time, event, group))
    for i, value in enumerate((0, 1)):
        kmf = KaplanMeierFitter(label=labels[value]).fit(t[g == value], e[g == value])
        kmf.plot_survival_function(ax=ax, ci_show=False, color=PALETTE[i], lw=2)
        area = kmf.survival_function_at_times(np.r_[kmf.timeline[kmf.timeline < tau], tau])
        ax.fill_between(area.index, area, step="post", color=PALETTE[i], alpha=0.18)
    ax.axvline(tau, color="0.3", ls="--", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("")  # not lifelines' "timeline": the time unit is the caller's
    ax.set_ylabel("Survival probability")
    ax.legend(loc="upper right", frameon=False)
    return ax


def plot_simon_makuch(curves: pd.DataFrame, labels: dict | None = None, ax=None,
                      time_scale: float = 1.0, min_at_risk: int = 1):
    """Draw :func:`ctcbook.stats.timevarying.simon_makuch` curves as steps; group 0 first, in the book's palette.

    ``min_at_risk`` leaves out the part of a curve where fewer patients are at risk.
    Returns the Axes.

    References
    ----------
    .. [1] Simon R, Makuch RW. Stat Med 1984;3:35-44. doi:10.1002/sim.4780030106
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    labels = {0: "group 0", 1: "group 1", **(labels or {})}
    for i, grp in enumerate((0, 1)):
        c = curves[(curves["group"] == grp) & (curves["at_risk"] >= min_at_risk)]
        if c.empty:
            continue
        x = c["time"].to_numpy() / time_scale
        y = c["survival"].to_numpy()
        if grp == 0:  # everyone starts in group 0 at time zero
            x, y = np.r_[0.0, x], np.r_[1.0, y]
        ax.step(x, y, where="post", color=PALETTE[i], lw=2, label=labels[grp])
        cens = c[c["censored"] > 0]
        ax.plot(cens["time"] / time_scale, cens["survival"], "|", color=PALETTE[i], ms=7)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_ylabel("Survival probability")
    ax.set_xlabel("Time (months)" if time_scale != 1.0 else "Time")
    ax.legend(loc="upper right", frameon=False)
    return ax
