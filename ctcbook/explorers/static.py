"""Kernel-free explorers for the static HTML book.

The book's HTML has no Python kernel, so the explorers are precomputed at build time:
:func:`explorer_data` runs :func:`ctcbook.explorers.core.explore` over a grid of choices and
keeps the numbers and the Kaplan-Meier step curves; :func:`explorer_html` embeds them in
the page next to a few hundred lines of dependency-free JavaScript
(``assets/explorer.js``, inlined) that draws them as inline SVG: curves, 95%
bands, censoring marks, the KMunicate risk table and the numbers. It works offline and
from ``file://``; nothing is loaded from anywhere.

The page stays small at any number of patients: each curve and its band are thinned to
the points that change the drawn path (:func:`thin_steps`: within ``TOLERANCE`` SVG units,
a few hundred points at most), censoring marks closer than ``MARK_SPACING`` merge, a
curve that repeats across choices is stored once (:func:`encode_curve`, integers as
running sums), and the JSON is deflated and base64-encoded (the browser's
``DecompressionStream`` unpacks it). About 0.1 MB for 52 patients and under 1 MB for
20,000 (``benchmarks/bench_explorer_size.py``).

In the page, the explorer is redrawn for the width it gets (a phone gets a figure at its
real width and the risk table as a table of text), works with the keyboard alone, keeps
its choices in the URL's query (``?threshold=8&timepoint=landmark&endpoint=os``) and
announces the new p-value and hazard ratio in a polite live region.

Three explorers (``kind``):

``"threshold"``
    CTC-count grouping: threshold 1..50 x timepoint (baseline, first follow-up,
    landmark, any draw, change) x endpoint.
``"her2"``
    HER2+ CTC grouping: rule (>=1, >=2, >=30%, >=50%) x timepoint (baseline, first
    follow-up, any, landmark) x endpoint.
``"cutpoint"``
    The naive log-rank p-value across all thresholds (:func:`ctcbook.stats.cutpoints.logrank_sweep`)
    with the p-value corrected for choosing the best threshold
    (:func:`ctcbook.stats.cutpoints.maxstat`: Lausen et al. 1994 and permutations), at baseline
    and first follow-up, for each endpoint; a slider marks the chosen threshold and the
    Kaplan-Meier panel shows it.

In a notebook: ``IPython.display.HTML(explorer_html(cohort, "threshold"))``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import zlib
from importlib import resources
from typing import Any

import numpy as np

from ctcbook.cohort.paper import CTC_THRESHOLD, TIMEPOINT
from ctcbook.explorers.core import (
    ENDPOINT_CHOICES,
    HER2_RULE_CHOICES,
    THRESHOLD_RANGE,
    TIMEPOINT_CHOICES,
    Exploration,
    explore,
)
from ctcbook.report.figures import DAYS_PER_MONTH, PALETTE

__all__ = ["KINDS", "encode_curve", "explorer_data", "explorer_html", "result_payload",
           "thin_steps"]

#: The explorers this module can build.
KINDS = ("threshold", "her2", "cutpoint")

_THRESHOLD_TIMEPOINTS = ("baseline", "first_follow_up", "landmark", "any", "change")
_HER2_TIMEPOINTS = ("baseline", "first_follow_up", "any", "landmark")
_CUTPOINT_TIMEPOINTS = ("baseline", "first_follow_up")
#: Permutations of the maxstat permutation p-value (fixed seed: deterministic pages).
N_PERMUTATIONS = 10_000


def _num(x: Any, digits: int) -> Any:
    """JSON-safe rounded number: NaN -> None, inf -> "NR" (not reached)."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "NR"
    return round(x, digits)


def _array(values: Any, digits: int) -> list:
    return [_num(v, digits) for v in np.asarray(values, dtype=float)]


#: The desktop figure's plot area in SVG units (``explorer.js``: ``drawKM``, 680 wide):
#: curves are thinned for it. A phone redraw is narrower, so never coarser than this.
PLOT_WIDTH = 680.0 - 150.0 - 16.0
PLOT_HEIGHT = 250.0 / 1.02
#: Largest distance (SVG units of the desktop figure) between a thinned curve and the
#: exact step function, and the spacing below which censoring marks merge.
TOLERANCE = 0.5
MARK_SPACING = 1.0
#: Units of the encoded curves: time in 0.01 months, probabilities in 0.001.
TIME_UNIT = 0.01
PROB_UNIT = 0.001


def thin_steps(time: Any, values: Any, max_time: float, tolerance: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Thin right-continuous step functions to the points that change the drawn path.

    ``values`` holds rows (e.g. survival and the two confidence limits) that step at the
    same ``time`` points. Consecutive steps are merged into one while the run they form
    spans at most ``tolerance`` horizontally or vertically (in SVG units of the figure,
    whose time axis ends at ``max_time``); a merged run drops at its first time to the
    value after its last step. Every point of the drawn staircase then lies within
    ``tolerance`` of the exact one and vice versa (symmetric Hausdorff distance), and a
    curve keeps at most about ``PLOT_HEIGHT / tolerance`` points whatever the number of
    patients. The first and the last points are kept.

    Parameters
    ----------
    time : array of float, increasing
        Step times; the first is the start of the curve.
    values : 2-d array, one row per step function (NaN allowed: read as 0)
    max_time : float
        Right end of the time axis (same unit as ``time``).
    tolerance : float, optional
        In SVG units of the desktop figure's plot area (``PLOT_WIDTH`` x ``PLOT_HEIGHT``);
        default ``TOLERANCE``.

    Returns
    -------
    time, values : numpy arrays
        The thinned steps (values with one row per input row).
    """
    tolerance = TOLERANCE if tolerance is None else float(tolerance)
    t = np.asarray(time, dtype=float)
    v = np.nan_to_num(np.atleast_2d(np.asarray(values, dtype=float)), nan=0.0)
    n = len(t)
    if n <= 2:
        return t.copy(), v.copy()
    x = (t * (PLOT_WIDTH / max(float(max_time), 1e-12))).tolist()
    ys = (v * PLOT_HEIGHT).T.tolist()  # one list of row values per point
    keep_t, keep_v = [0], [0]  # indices: the time of a run's start, the values of its end
    i = 1
    while i < n:
        lo, hi = list(ys[i]), list(ys[i])
        j = i
        while j + 1 < n:
            row = ys[j + 1]
            new_lo = [min(a, b) for a, b in zip(lo, row, strict=True)]
            new_hi = [max(a, b) for a, b in zip(hi, row, strict=True)]
            span = max(b - a for a, b in zip(new_lo, new_hi, strict=True))
            if x[j + 1] - x[i] <= tolerance or span <= tolerance:
                lo, hi, j = new_lo, new_hi, j + 1
            else:
                break
        keep_t.append(i)
        keep_v.append(j)
        if j == n - 1 and x[j] - x[i] > tolerance:  # keep the curve's full length
            keep_t.append(j)
            keep_v.append(j)
        i = j + 1
    return t[keep_t], v[:, keep_v]


def _thin_marks(times: np.ndarray, max_time: float) -> np.ndarray:
    """Censoring-mark times, merged where they are closer than ``MARK_SPACING`` apart."""
    scale = PLOT_WIDTH / max(float(max_time), 1e-12)
    kept: list[float] = []
    last = -np.inf
    for time in np.asarray(times, dtype=float).tolist():
        if (time - last) * scale >= MARK_SPACING:
            kept.append(time)
            last = time
    return np.asarray(kept)


def _deltas(values: np.ndarray, unit: float) -> list[int]:
    """Integers in ``unit``, first absolute then differences (a running sum decodes them)."""
    ints = np.rint(np.asarray(values, dtype=float) / unit).astype(np.int64)
    return np.diff(ints, prepend=0).tolist()


def encode_curve(curve: Any, max_time: float, thin: bool = True) -> dict[str, list[int]]:
    """One Kaplan-Meier curve with its band and censoring marks, thinned and encoded.

    Parameters
    ----------
    curve : pandas.DataFrame
        One group's rows of :attr:`Exploration.curves` (``time`` in months,
        ``survival``, ``ci_lower``, ``ci_upper``, ``censored``).
    max_time : float
        Right end of the figure's time axis (months).
    thin : bool, default True
        Thin with :func:`thin_steps` (False keeps every step: a reference for tests).

    Returns
    -------
    dict
        ``t`` (times in ``TIME_UNIT`` months), ``s``, ``lo``, ``hi`` (one minus the
        survival and its 95% limits, in ``PROB_UNIT``; a missing limit counts as
        survival 0) and ``c`` (censoring-mark times); every list holds its first value
        and then successive differences.
    """
    time = curve["time"].to_numpy(float)
    values = np.vstack([curve[c].to_numpy(float) for c in ("survival", "ci_lower", "ci_upper")])
    marks = time[curve["censored"].to_numpy() > 0]
    if thin:
        time, values = thin_steps(time, values, max_time)
        marks = _thin_marks(marks, max_time)
    values = 1.0 - np.nan_to_num(values, nan=0.0)
    return {"t": _deltas(time, TIME_UNIT), "s": _deltas(values[0], PROB_UNIT),
            "lo": _deltas(values[1], PROB_UNIT), "hi": _deltas(values[2], PROB_UNIT),
            "c": _deltas(marks, TIME_UNIT)}


class _Store:
    """Results or encoded curves (``thin``: thinned), each sent once: an item equal (as
    JSON) to one already stored, e.g. a curve that repeats across results, gets its index."""

    def __init__(self, thin: bool = True) -> None:
        self.thin = thin
        self.items: list[dict] = []
        self._seen: dict[str, int] = {}

    def add(self, item: dict) -> int:
        text = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if text not in self._seen:
            self._seen[text] = len(self.items)
            self.items.append(item)
        return self._seen[text]


def result_payload(result: Exploration, curves: _Store | None = None) -> dict[str, Any]:
    """The JSON the page needs to draw one exploration (rounded for size).

    ``curves`` is the shared store of encoded curves (:func:`encode_curve`); the payload's
    ``curves`` lists ``[group, index into the store]`` pairs. Without a store, one is
    made for this result alone (its curves are then in ``payload["store"]``).
    """
    own = curves is None
    store = _Store() if curves is None else curves
    groups = []
    for row in result.groups.itertuples():
        groups.append({"label": row.label, "n": int(row.n), "events": int(row.events),
                       "median": _num(row.median, 2), "mlo": _num(row.median_lower, 2),
                       "mhi": _num(row.median_upper, 2)})
    refs = []
    for g, sub in result.curves.groupby("group", sort=True):
        refs.append([int(g), store.add(encode_curve(sub, result.max_months, store.thin))])
    risk = None
    if len(result.risk):
        risk = []
        for g in result.groups["group"]:
            sub = result.risk[result.risk["group"] == g]
            risk.append(None if not len(sub) else
                        [[int(v) for v in sub[c]] for c in ("at_risk", "censored", "events")])
    payload = {
        "title": result.title, "caption": result.caption, "message": result.message,
        "note": result.note, "xlabel": result.xlabel, "max": _num(result.max_months, 3),
        "ticks": [_num(t, 3) for t in result.ticks], "groups": groups, "curves": refs,
        "risk": risk, "p": _num(result.p_value, 6), "stat": _num(result.statistic, 4),
        "df": int(result.df), "hr": _num(result.hazard_ratio, 4), "lo": _num(result.hr_lower, 4),
        "hi": _num(result.hr_upper, 4), "n": int(result.n), "nx": int(result.n_excluded),
        "nl": int(result.n_not_at_risk),
    }
    if own:
        payload["store"] = store.items
    return payload


def _radio(name: str, label: str, choices: dict[str, str], value: str) -> dict:
    return {"name": name, "label": label, "type": "radio", "value": value,
            "options": [[k, v] for k, v in choices.items()]}


def _select(name: str, label: str, keys: tuple[str, ...], value: str) -> dict:
    return {"name": name, "label": label, "type": "select", "value": value,
            "options": [[k, TIMEPOINT_CHOICES[k]] for k in keys]}


def _threshold_control() -> dict:
    lo, hi = THRESHOLD_RANGE
    return {"name": "threshold", "label": "CTC threshold (≥)", "type": "range", "min": lo,
            "max": hi, "value": CTC_THRESHOLD, "unit": "CTCs per 7.5 mL"}


def _cutpoints(cohort: Any) -> dict[str, Any]:
    """Naive and corrected p-values across thresholds, per timepoint and endpoint."""
    from ctcbook.cohort.paper import ENDPOINTS
    from ctcbook.cohort.rules import patient_table
    from ctcbook.report.figures import p_value_axis
    from ctcbook.stats.cutpoints import logrank_sweep, maxstat, maxstat_candidates

    table = patient_table(cohort)
    lo, hi = THRESHOLD_RANGE
    thresholds = np.arange(lo, hi + 1)
    out: dict[str, Any] = {}
    for tp in _CUTPOINT_TIMEPOINTS:
        for ep, (tcol, ecol, _) in ENDPOINTS.items():
            sub = table.loc[table[f"ctc_{tp}"].notna()]
            time, event = sub[tcol].to_numpy(float), sub[ecol].to_numpy(float)
            marker = sub[f"ctc_{tp}"].to_numpy(float)
            sweep = logrank_sweep(time, event, marker, thresholds)
            entry: dict[str, Any] = {
                "thresholds": [int(t) for t in thresholds],
                "p": _array(sweep["p_value"], 6), "stat": _array(sweep["statistic"], 4),
                "n_high": [int(v) for v in sweep["n_high"]],
                "n_low": [int(v) for v in sweep["n_low"]],
                "best": None, "M": None, "p_lau94": None, "p_perm": None,
                "n_perm": N_PERMUTATIONS, "maxstat_message": None,
            }
            try:
                ms = maxstat(time, event, marker, n_permutations=N_PERMUTATIONS, seed=0)
                above = np.unique(marker[marker > ms.cutpoint])
                entry.update({"best": int(above[0]) if above.size else None,
                              "M": _num(ms.statistic, 4), "p_lau94": _num(ms.p_lau94, 6),
                              "p_perm": _num(ms.p_permutation, 6)})
            except ValueError as err:
                entry["maxstat_message"] = f"No corrected p-value: {err}."
            # the drawing's p axis, chosen from the data (ticks as numbers), and the
            # thresholds the 10% rule keeps out of the search (shaded)
            entry["axis"] = p_value_axis(sweep["p_value"],
                                         also=[0.05] + ([entry["p_lau94"]] if entry["p_lau94"] else []))
            entry["candidate"] = [bool(v) for v in maxstat_candidates(sweep["n_low"], len(sub))]
            out[f"{tp}|{ep}"] = entry
    return out


def explorer_data(cohort: Any, kind: str = "threshold", thin: bool = True) -> dict[str, Any]:
    """Precompute one explorer: controls, the grid of results and its index.

    Parameters
    ----------
    cohort : Cohort
        The cohort (a synthetic one is said so in every caption).
    kind : {"threshold", "her2", "cutpoint"}
        Which explorer (see the module docstring).
    thin : bool, default True
        Thin the curves to what the figure can show (:func:`thin_steps`); False keeps
        every step (a reference for the tests).

    Returns
    -------
    dict
        JSON-ready: ``controls`` (name, label, type, options, initial value), ``key``
        (the control names whose values, joined by ``"|"``, index ``index``),
        ``results`` (deduplicated payloads of :func:`result_payload`), ``index``,
        ``curves`` (the shared store of :func:`encode_curve` the results point into),
        ``units``, ``palette``, ``ylabel`` and, for "cutpoint", ``cutpoints`` and
        ``cutKey``.

    Raises
    ------
    ValueError
        If ``kind`` is not one of ``KINDS``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    results, curves, index = _Store(), _Store(thin), {}

    def add(key: str, result: Exploration) -> None:
        index[key] = results.add(result_payload(result, curves))

    endpoint = _radio("endpoint", "Endpoint", ENDPOINT_CHOICES, "pfs")
    data: dict[str, Any] = {"palette": list(PALETTE), "ylabel": "Survival probability",
                            "days_per_month": DAYS_PER_MONTH}
    lo, hi = THRESHOLD_RANGE
    if kind == "her2":
        data["controls"] = [_radio("her2_rule", "HER2+ CTC rule", HER2_RULE_CHOICES, ">=1"),
                            _select("timepoint", "Timepoint", _HER2_TIMEPOINTS, TIMEPOINT),
                            endpoint]
        data["key"] = ["her2_rule", "timepoint", "endpoint"]
        data["controlsLabel"] = "Choices of the HER2+ CTC explorer"
        for rule in HER2_RULE_CHOICES:
            for tp in _HER2_TIMEPOINTS:
                for ep in ENDPOINT_CHOICES:
                    add(f"{rule}|{tp}|{ep}", explore(cohort, CTC_THRESHOLD, tp, rule, ep,
                                                           "her2_ctc"))
    else:
        tps = _THRESHOLD_TIMEPOINTS if kind == "threshold" else _CUTPOINT_TIMEPOINTS
        data["controls"] = [_threshold_control(), _select("timepoint", "Timepoint", tps, TIMEPOINT),
                            endpoint]
        data["key"] = ["threshold", "timepoint", "endpoint"]
        data["controlsLabel"] = ("Choices of the CTC threshold explorer" if kind == "threshold"
                                 else "Choices of the cutpoint explorer")
        for th in range(lo, hi + 1):
            for tp in tps:
                for ep in ENDPOINT_CHOICES:
                    add(f"{th}|{tp}|{ep}", explore(cohort, th, tp, ">=1", ep, "ctc_count"))
        if kind == "cutpoint":
            data["cutpoints"] = _cutpoints(cohort)
            data["cutKey"] = ["timepoint", "endpoint"]
    data["results"] = results.items
    data["index"] = index
    data["curves"] = curves.items
    data["units"] = {"time": TIME_UNIT, "prob": PROB_UNIT}
    return data


def _asset(name: str) -> str:
    return resources.files("ctcbook.explorers").joinpath("assets", name).read_text(encoding="utf-8")


_INTRO = {
    "threshold": "Move the threshold, change the timepoint or the endpoint: the patients are "
                 "split into those with fewer and those with at least that many CTCs per 7.5 mL.",
    "her2": "Change the rule that makes a draw ‘HER2-positive’, the timepoint or the endpoint.",
    "cutpoint": "The naive log-rank p-value at every CTC threshold, with the p-value corrected "
                "for picking the best one. The slider marks a threshold; its Kaplan-Meier "
                "curves are below.",
}


def _data_script(data: dict, compress: bool) -> str:
    """The data element: deflated JSON in base64 (``compress``), else JSON safe in a script."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not compress:  # no "</" sequence may close the element
        text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
        return f"<script type='application/json' class='ctcx-data'>{text}</script>"
    packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    return f"<script type='text/plain' class='ctcx-data' data-encoding='deflate'>{packed}</script>"


def explorer_html(cohort: Any = None, kind: str = "threshold", *, thin: bool = True,
                  compress: bool = True) -> str:
    """A self-contained HTML fragment: the static explorer ``kind`` for ``cohort``.

    Parameters
    ----------
    cohort : Cohort, optional
        Default :func:`ctcbook.load_cohort` (``$CTCBOOK_DATA`` or the shipped cohort).
    kind : {"threshold", "her2", "cutpoint"}
    thin : bool, default True
        Thin the curves to what the figure shows (see :func:`explorer_data`).
    compress : bool, default True
        Embed the data deflated (zlib) and base64-encoded, unpacked in the page by the
        browser's ``DecompressionStream``; False embeds plain JSON.

    Returns
    -------
    str
        A ``<div class="ctcx">`` with inline CSS, the precomputed data and the inline
        script; display it with ``IPython.display.HTML``. It loads nothing from anywhere.
        Its size is bounded whatever the number of patients (see the module docstring).

    Examples
    --------
    >>> import ctcbook as cb
    >>> page = cb.explorer_html(cb.simulate_cohort(52, seed=1), "her2")
    >>> page.startswith("<div")
    True
    """
    from ctcbook.cohort.io import load_cohort

    if cohort is None:
        cohort = load_cohort()
    data = explorer_data(cohort, kind, thin=thin)
    synthetic = bool(getattr(cohort, "synthetic", False))
    label = "synthetic cohort" if synthetic else "cohort"
    root = f"ctcx-{kind}"
    esc = html.escape
    cut = ""
    if kind == "cutpoint":
        cut = (
            f"<div class='ctcx-scroll ctcx-cutbox' role='region' tabindex='0' "
            f"aria-labelledby='{root}-ct'>"
            f"<svg class='ctcx-cutplot' role='img' aria-labelledby='{root}-ct {root}-cd' "
            f"xmlns='http://www.w3.org/2000/svg'><title id='{root}-ct'>Naive log-rank p-value "
            f"at every CTC threshold ({label})</title><desc id='{root}-cd'></desc></svg></div>"
            "<div class='ctcx-cutnumbers'></div>"
        )
    figcaption = (f"Interactive explorer precomputed from the {label} ({getattr(cohort, 'n', '')}"
                  " patients); it runs in the page, without a Python kernel or network.")
    if synthetic:
        figcaption += " Synthetic cohort: the numbers are not evidence about real patients."
    return (
        f"<div class='ctcx' id='{root}' data-kind='{kind}'>"
        f"<style>{_asset('explorer.css')}</style>"
        f"<p class='ctcx-intro'>{esc(_INTRO[kind])}</p>"
        "<p class='ctcx-urlnote' role='status' hidden></p>"
        f"{cut}"
        "<div class='ctcx-title'></div>"
        "<p class='ctcx-figmsg' hidden></p>"
        f"<div class='ctcx-figure'><svg class='ctcx-plot' role='img' "
        f"aria-labelledby='{root}-t {root}-d' xmlns='http://www.w3.org/2000/svg'>"
        f"<title id='{root}-t'></title><desc id='{root}-d'></desc></svg></div>"
        f"<div class='ctcx-scroll ctcx-riskbox' role='region' tabindex='0' "
        f"aria-label='Numbers at risk' hidden></div>"
        "<div class='ctcx-numbers'></div>"
        "<p class='ctcx-caption'></p>"
        "<p class='ctcx-live ctcx-sr' role='status' aria-live='polite' aria-atomic='true'></p>"
        "<p class='ctcx-share'><a class='ctcx-link' href='?'>Link to this view</a>: copy it "
        "to open these choices again (a reload keeps them too).</p>"
        f"<p class='ctcx-figcaption'>{esc(figcaption)}</p>"
        "<noscript><p>This explorer needs JavaScript; the chapters show the paper's "
        "choices as static figures.</p></noscript>"
        f"{_data_script(data, compress)}"
        f"<script>{_asset('explorer.js')}</script>"
        "</div>"
    )
