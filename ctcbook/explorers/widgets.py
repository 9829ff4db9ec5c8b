"""The live explorer for Jupyter: ipywidgets controls wired to :func:`ctcbook.explore`.

``explorer_widget(cohort)`` in a notebook cell shows the controls (CTC threshold, HER2
rule, timepoint, endpoint, grouping), the Kaplan-Meier figure, the numbers and the risk
table; every move recomputes with :func:`ctcbook.explorers.core.explore` and redraws. Plain
ipywidgets (an ``Image`` and two ``HTML`` widgets): it works in JupyterLab and Notebook 7
without ipympl. This is the only module of the package that imports ipywidgets.

Speed: one matplotlib figure (Agg, no pyplot) is kept for the life of the widget and
updated in place (:class:`LiveFigure`); ``benchmarks/bench_explore.py`` measures a move.
"""

from __future__ import annotations

import html
import io
import textwrap
import time
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ctcbook.explorers.core import (
    ENDPOINT_CHOICES,
    GROUPING_CHOICES,
    HER2_RULE_CHOICES,
    THRESHOLD_RANGE,
    TIMEPOINT_CHOICES,
    Exploration,
    explore,
    timepoints_for,
)
from ctcbook.explorers.exploration import format_median
from ctcbook.report.figures import PALETTE
from ctcbook.report.tables import p_text

__all__ = ["explorer_widget", "ExplorerWidget", "LiveFigure"]

#: Resolution of the live figure (dots per inch): readable, and fast to render and send.
LIVE_DPI = 80
_MAX_GROUPS = 4


class LiveFigure:
    """One Kaplan-Meier figure whose artists are updated in place for each exploration.

    Parameters
    ----------
    dpi : int
        Resolution of the rendered PNG.

    Notes
    -----
    Same look as :func:`ctcbook.report.figures.plot_km` (palette, step curves, 95% bands,
    censoring ticks, legend with n) without the in-figure title, note and risk table,
    which the widget shows as HTML (each text in a matplotlib figure costs about a
    millisecond to render). For the same reason the static part (axes, grid, tick labels,
    axis labels) is rendered once per time axis and kept as a bitmap; a move restores it
    and draws only the curves, bands, marks, legend and message on top (matplotlib's
    blitting), then encodes a PNG with fast zlib settings.
    """

    def __init__(self, dpi: int = LIVE_DPI) -> None:
        self.figure = Figure(figsize=(7.0, 3.6), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.09, right=0.98, top=0.97, bottom=0.14)
        ax = self.ax = self.figure.add_subplot()
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("Survival probability")
        self.lines = [ax.plot([], [], drawstyle="steps-post", color=PALETTE[k], lw=1.8,
                              animated=True)[0] for k in range(_MAX_GROUPS)]
        self.marks = [ax.plot([], [], ls="none", marker="|", ms=8, mew=1.4, color=PALETTE[k],
                              animated=True)[0] for k in range(_MAX_GROUPS)]
        self.bands: list[Any] = []
        self.legend: Any = None
        self.message = ax.text(0.5, 0.55, "", transform=ax.transAxes, ha="center", va="center",
                               fontsize=9, color="0.15", animated=True,
                               bbox={"boxstyle": "round", "fc": "white", "ec": "0.6",
                                     "alpha": 0.92})
        self._background: Any = None
        self._background_key: tuple | None = None

    def update(self, result: Exploration) -> None:
        """Show ``result``: curves, bands, censoring marks, legend, time axis, message."""
        ax = self.ax
        for band in self.bands:
            band.remove()
        self.bands = []
        handles = []
        curves = result.curves
        for k in range(_MAX_GROUPS):
            line, marks = self.lines[k], self.marks[k]
            sub = curves[curves["group"] == k] if len(curves) else curves
            if k >= len(result.groups) or not len(sub):
                line.set_data([], [])
                marks.set_data([], [])
                continue
            t = sub["time"].to_numpy()
            s = sub["survival"].to_numpy()
            line.set_data(t, s)
            line.set_label(f"{result.groups['label'].iloc[k]} (n={int(result.groups['n'].iloc[k])})")
            cens = sub["censored"].to_numpy() > 0
            marks.set_data(t[cens], s[cens])
            band = ax.fill_between(t, sub["ci_lower"].to_numpy(), sub["ci_upper"].to_numpy(),
                                   step="post", color=PALETTE[k], alpha=0.15, lw=0)
            band.set_animated(True)
            self.bands.append(band)
            handles.append(line)
        if self.legend is not None:
            self.legend.remove()
            self.legend = None
        if handles:
            self.legend = ax.legend(handles=handles, loc="lower left")
            self.legend.set_animated(True)
        key = (result.max_months, result.ticks, result.xlabel)
        if key != self._background_key:
            ax.set_xlim(0, result.max_months)
            ax.set_xticks(result.ticks)
            ax.set_xlabel(result.xlabel)
            self._background = None
            self._background_key = key
        # over an empty plot only; with curves the note is in the HTML under the figure
        self.message.set_text(textwrap.fill(result.message or "", 70))
        self.message.set_visible(bool(result.message) and not handles)

    def render(self) -> None:
        """Render: the cached static part, then the artists that change."""
        if self._background is None:
            self.canvas.draw()  # animated artists are skipped
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        ax = self.ax
        for artist in [*self.bands, *self.lines, *self.marks, self.legend, self.message]:
            if artist is not None and artist.get_visible():
                ax.draw_artist(artist)

    def png_from_canvas(self) -> bytes:
        """Encode the last rendering as PNG (zlib level 1: fast, the image is small)."""
        from PIL import Image

        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw",
                                 "RGBA", 0, 1)
        out = io.BytesIO()
        image.save(out, format="png", compress_level=1)
        return out.getvalue()


def numbers_html(result: Exploration) -> str:
    """The numbers panel: n, events and median per group, log-rank p, hazard ratio."""
    esc = html.escape
    rows = []
    for k, row in enumerate(result.groups.itertuples()):
        colour = PALETTE[k % len(PALETTE)]
        rows.append(
            f"<tr><th scope='row' style='text-align:left;color:{colour}'>{esc(row.label)}</th>"
            f"<td>{row.n}</td><td>{row.events}</td>"
            f"<td>{esc(format_median(row.median, row.median_lower, row.median_upper))}</td></tr>")
    hr = "–"
    if np.isfinite(result.hazard_ratio):
        hr = f"{result.hazard_ratio:.2f} (95% CI {result.hr_lower:.2f} to {result.hr_upper:.2f})"
    df = f", {result.df} df" if result.df > 1 else ""
    excluded = f"{result.n} analysed, {result.n_excluded} without a draw at this timepoint"
    if result.n_not_at_risk:
        excluded += f", {result.n_not_at_risk} not event-free at the landmark"
    message = (f"<p role='status' style='color:#8a3b00'><strong>Note:</strong> "
               f"{esc(result.message)}</p>" if result.message else "")
    return (
        "<div style='font-size:13px;line-height:1.4'>"
        "<table style='border-collapse:collapse'><thead><tr><th></th><th>n</th><th>events</th>"
        "<th>median (months)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f"<p>Log-rank <strong>{esc(p_text(result.p_value))}</strong>{df}; "
        f"hazard ratio (Cox, positive vs negative) = <strong>{esc(hr)}</strong>. "
        f"Patients: {esc(excluded)}.</p>{message}"
        f"<p style='color:#555;font-size:12px'>{esc(result.caption)}</p></div>"
    )


def risk_html(result: Exploration) -> str:
    """The KMunicate risk table (at risk, censored, events) at the figure's ticks."""
    if not len(result.risk):
        return ""
    esc = html.escape
    ticks = list(result.ticks)
    head = "".join(f"<th>{t:g}</th>" for t in ticks)
    body = []
    for k, row in enumerate(result.groups.itertuples()):
        sub = result.risk[result.risk["group"] == row.group]
        if not len(sub):
            continue
        colour = PALETTE[k % len(PALETTE)]
        body.append(f"<tr><th colspan='{len(ticks) + 1}' style='text-align:left;color:{colour}'>"
                    f"{esc(row.label)}</th></tr>")
        for column, title in (("at_risk", "At risk"), ("censored", "Censored"),
                              ("events", "Events")):
            cells = "".join(f"<td>{int(v)}</td>" for v in sub[column])
            body.append(f"<tr><th scope='row' style='text-align:left;font-weight:normal'>"
                        f"{title}</th>{cells}</tr>")
    return (
        "<table style='border-collapse:collapse;font-size:12px;text-align:right'>"
        f"<caption style='text-align:left'>Numbers at risk, censored and with events "
        f"(cumulative) at each month</caption><thead><tr><th>Months</th>{head}</tr></thead>"
        "<tbody>" + "".join(body) + "</tbody></table>"
    )


class ExplorerWidget(widgets.VBox):
    """The live explorer: controls, figure, numbers, risk table (see :func:`explorer_widget`).

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        ``threshold``, ``timepoint``, ``her2_rule``, ``endpoint``, ``grouping``.
    image : ipywidgets.Image
        The figure (PNG).
    numbers, risk_table : ipywidgets.HTML
    result : Exploration
        The exploration currently shown.
    timings : list of dict
        Per update: seconds spent in ``explore``, updating the artists, rendering and
        PNG encoding (what ``benchmarks/bench_explore.py`` reports).
    """

    def __init__(self, cohort: Any, *, threshold: int, timepoint: str, her2_rule: str,
                 endpoint: str, grouping: str, dpi: int = LIVE_DPI) -> None:
        self.cohort = cohort
        self.live = LiveFigure(dpi=dpi)
        self.timings: list[dict[str, float]] = []
        lo, hi = THRESHOLD_RANGE
        style = {"description_width": "110px"}
        # buttons as wide as their label: the default fixed width cuts long labels
        # ("≥ 30% of CTCs H…", "≥ 50% of CTCs H…", "Progression-free …") with an ellipsis
        buttons = {**style, "button_width": "auto"}
        layout = widgets.Layout(width="auto")
        self.controls = {
            "grouping": widgets.ToggleButtons(
                options=[(v, k) for k, v in GROUPING_CHOICES.items()], value=grouping,
                description="Group by", style=buttons),
            "threshold": widgets.IntSlider(
                value=int(threshold), min=lo, max=hi, step=1, description="CTC threshold",
                continuous_update=True, style=style, layout=widgets.Layout(width="480px")),
            "her2_rule": widgets.ToggleButtons(
                options=[(v, k) for k, v in HER2_RULE_CHOICES.items()], value=her2_rule,
                description="HER2+ CTC rule", style=buttons),
            "timepoint": widgets.Dropdown(
                options=[(TIMEPOINT_CHOICES[k], k) for k in timepoints_for(grouping)],
                value=timepoint, description="Timepoint", style=style, layout=layout),
            "endpoint": widgets.ToggleButtons(
                options=[(v, k) for k, v in ENDPOINT_CHOICES.items()], value=endpoint,
                description="Endpoint", style=buttons),
        }
        self.title = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="700px"))
        self.numbers = widgets.HTML()
        self.risk_table = widgets.HTML()
        super().__init__(children=[*self.controls.values(), self.title, self.image, self.numbers,
                                   self.risk_table])
        self._sync_enabled()
        for name, control in self.controls.items():
            control.observe(self._on_change, names="value", type="change")
            control.add_class(f"ctcbook-{name}")
        self.refresh()

    def _sync_enabled(self) -> None:
        grouping = self.controls["grouping"].value
        self.controls["threshold"].disabled = grouping != "ctc_count"
        self.controls["her2_rule"].disabled = grouping != "her2_ctc"

    def _on_change(self, change: dict) -> None:
        if change["owner"] is self.controls["grouping"]:
            tp = self.controls["timepoint"]
            allowed = timepoints_for(change["new"])
            current = tp.value if tp.value in allowed else "first_follow_up"
            with tp.hold_trait_notifications(), self.hold_sync():
                self._updating = True
                try:
                    tp.options = [(TIMEPOINT_CHOICES[k], k) for k in allowed]
                    tp.value = current
                finally:
                    self._updating = False
            self._sync_enabled()
        if getattr(self, "_updating", False):
            return
        self.refresh()

    def choices(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute with the current choices and redraw (never raises at the reader)."""
        t0 = time.perf_counter()
        try:
            result = explore(self.cohort, **self.choices())
        except ValueError as err:  # unreachable through the controls; shown, not raised
            self.numbers.value = f"<p role='alert'>{html.escape(str(err))}</p>"
            return
        t1 = time.perf_counter()
        self.live.update(result)
        t2 = time.perf_counter()
        self.live.render()
        t3 = time.perf_counter()
        png = self.live.png_from_canvas()
        t4 = time.perf_counter()
        self.result = result
        self.image.value = png
        self.image.description = result.title
        self.title.value = f"<strong>{html.escape(result.title)}</strong>"
        self.numbers.value = numbers_html(result)
        self.risk_table.value = risk_html(result)
        t5 = time.perf_counter()
        self.timings.append({"explore": t1 - t0, "artists": t2 - t1, "render": t3 - t2,
                             "png": t4 - t3, "widgets": t5 - t4, "total": t5 - t0})


def explorer_widget(
    cohort: Any = None,
    threshold: int = 5,
    timepoint: str = "first_follow_up",
    her2_rule: str = ">=1",
    endpoint: str = "pfs",
    grouping: str = "her2_ctc",
    *,
    dpi: int = LIVE_DPI,
) -> ExplorerWidget:
    """The live explorer: change the paper's choices and see the survival comparison.

    Parameters
    ----------
    cohort : Cohort, optional
        The cohort; default :func:`ctcbook.load_cohort` (``$CTCBOOK_DATA`` or the shipped
        synthetic cohort).
    threshold, timepoint, her2_rule, endpoint, grouping
        Initial choices, as in :func:`ctcbook.explorers.core.explore` (the paper's by default).
    dpi : int, default 80
        Resolution of the figure.

    Returns
    -------
    ExplorerWidget
        An ``ipywidgets.VBox``; the last expression of a cell displays it.

    Raises
    ------
    ValueError
        If an initial choice is not allowed (the message lists the allowed values).

    Examples
    --------
    >>> import ctcbook as cb
    >>> w = cb.explorer_widget(cb.simulate_cohort(52, seed=1))
    >>> w.controls["threshold"].value
    5
    """
    from ctcbook.cohort.io import load_cohort

    if cohort is None:
        cohort = load_cohort()
    explore(cohort, threshold, timepoint, her2_rule, endpoint, grouping)  # validates
    if timepoint not in timepoints_for(grouping):
        raise ValueError(f"timepoint {timepoint!r} is not available with grouping {grouping!r}; "
                         f"use one of {', '.join(map(repr, timepoints_for(grouping)))}")
    return ExplorerWidget(cohort, threshold=threshold, timepoint=timepoint, her2_rule=her2_rule,
                          endpoint=endpoint, grouping=grouping, dpi=dpi)
