"""Kernel-free explorers for the static HTML book.

The book's HTML has no Python kernel, so the explorers are precomputed at build time:
:func:`explorer_data` runs :func:`ctcbook.exploration.explore` over a grid of choices and
keeps the numbers and the Kaplan-Meier step curves (a few hundred kB of JSON for 52
patients); :func:`explorer_html` embeds them in the page as
``<script type="application/json">`` next to a few hundred lines of dependency-free
JavaScript (``explorer_assets/explorer.js``, inlined) that draws them as inline SVG: curves, 95%
bands, censoring marks, the KMunicate risk table and the numbers. It works offline and
from ``file://``; nothing is loaded from anywhere.

Three explorers (``kind``):

``"threshold"``
    CTC-count grouping: threshold 1..50 x timepoint (baseline, first follow-up,
    landmark, any draw, change) x endpoint.
``"her2"``
    HER2+ CTC grouping: rule (>=1, >=2, >=30%, >=50%) x timepoint (baseline, first
    follow-up, any, landmark) x endpoint.
``"cutpoint"``
    The naive log-rank p-value across all thresholds (:func:`ctcbook.cutpoints.logrank_sweep`)
    with the p-value corrected for choosing the best threshold
    (:func:`ctcbook.cutpoints.maxstat`: Lausen et al. 1994 and permutations), at baseline
    and first follow-up, for each endpoint; a slider marks the chosen threshold and the
    Kaplan-Meier panel shows it.

In a notebook: ``IPython.display.HTML(explorer_html(cohort, "threshold"))``.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from typing import Any

import numpy as np

from .exploration import (
    ENDPOINT_CHOICES,
    HER2_RULE_CHOICES,
    THRESHOLD_RANGE,
    TIMEPOINT_CHOICES,
    Exploration,
    explore,
)
from .paper import CTC_THRESHOLD, TIMEPOINT
from .plotting import DAYS_PER_MONTH, PALETTE

__all__ = ["KINDS", "explorer_data", "explorer_html", "result_payload"]

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


def result_payload(result: Exploration) -> dict[str, Any]:
    """The JSON the page needs to draw one exploration (rounded for size)."""
    groups = []
    for row in result.groups.itertuples():
        groups.append({"label": row.label, "n": int(row.n), "events": int(row.events),
                       "median": _num(row.median, 2), "mlo": _num(row.median_lower, 2),
                       "mhi": _num(row.median_upper, 2)})
    curves = []
    for g, sub in result.curves.groupby("group", sort=True):
        censored = np.flatnonzero(sub["censored"].to_numpy() > 0)
        curves.append({"g": int(g), "t": _array(sub["time"], 3), "s": _array(sub["survival"], 4),
                       "lo": _array(sub["ci_lower"], 4), "hi": _array(sub["ci_upper"], 4),
                       "c": [int(i) for i in censored]})
    risk = None
    if len(result.risk):
        risk = []
        for g in result.groups["group"]:
            sub = result.risk[result.risk["group"] == g]
            risk.append(None if not len(sub) else
                        [[int(v) for v in sub[c]] for c in ("at_risk", "censored", "events")])
    return {
        "title": result.title, "caption": result.caption, "message": result.message,
        "note": result.note, "xlabel": result.xlabel, "max": _num(result.max_months, 3),
        "ticks": [_num(t, 3) for t in result.ticks], "groups": groups, "curves": curves,
        "risk": risk, "p": _num(result.p_value, 6), "stat": _num(result.statistic, 4),
        "df": int(result.df), "hr": _num(result.hazard_ratio, 4), "lo": _num(result.hr_lower, 4),
        "hi": _num(result.hr_upper, 4), "n": int(result.n), "nx": int(result.n_excluded),
        "nl": int(result.n_not_at_risk),
    }


class _Results:
    """Deduplicated payloads: identical results (e.g. thresholds above every count) share one."""

    def __init__(self) -> None:
        self.results: list[dict] = []
        self.index: dict[str, int] = {}
        self._seen: dict[str, int] = {}

    def add(self, key: str, result: Exploration) -> None:
        payload = result_payload(result)
        text = json.dumps(payload, sort_keys=True)
        if text not in self._seen:
            self._seen[text] = len(self.results)
            self.results.append(payload)
        self.index[key] = self._seen[text]


def _radio(name: str, label: str, choices: dict[str, str], value: str) -> dict:
    return {"name": name, "label": label, "type": "radio", "value": value,
            "options": [[k, v] for k, v in choices.items()]}


def _select(name: str, label: str, keys: tuple[str, ...], value: str) -> dict:
    return {"name": name, "label": label, "type": "select", "value": value,
            "options": [[k, TIMEPOINT_CHOICES[k]] for k in keys]}


def _threshold_control() -> dict:
    lo, hi = THRESHOLD_RANGE
    return {"name": "threshold", "label": "CTC threshold (≥)", "type": "range", "min": lo,
            "max": hi, "value": CTC_THRESHOLD}


def _cutpoints(cohort: Any) -> dict[str, Any]:
    """Naive and corrected p-values across thresholds, per timepoint and endpoint."""
    from .cutpoints import logrank_sweep, maxstat, maxstat_candidates
    from .markers import patient_table
    from .paper import ENDPOINTS
    from .plotting import p_value_axis

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


def explorer_data(cohort: Any, kind: str = "threshold") -> dict[str, Any]:
    """Precompute one explorer: controls, the grid of results and its index.

    Parameters
    ----------
    cohort : Cohort
        The cohort (a synthetic one is said so in every caption).
    kind : {"threshold", "her2", "cutpoint"}
        Which explorer (see the module docstring).

    Returns
    -------
    dict
        JSON-ready: ``controls`` (name, label, type, options, initial value), ``key``
        (the control names whose values, joined by ``"|"``, index ``index``),
        ``results`` (deduplicated payloads of :func:`result_payload`), ``index``,
        ``palette``, ``ylabel`` and, for "cutpoint", ``cutpoints`` and ``cutKey``.

    Raises
    ------
    ValueError
        If ``kind`` is not one of ``KINDS``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    store = _Results()
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
                    store.add(f"{rule}|{tp}|{ep}", explore(cohort, CTC_THRESHOLD, tp, rule, ep,
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
                    store.add(f"{th}|{tp}|{ep}", explore(cohort, th, tp, ">=1", ep, "ctc_count"))
        if kind == "cutpoint":
            data["cutpoints"] = _cutpoints(cohort)
            data["cutKey"] = ["timepoint", "endpoint"]
    data["results"] = store.results
    data["index"] = store.index
    return data


def _asset(name: str) -> str:
    return resources.files("ctcbook").joinpath("explorer_assets", name).read_text(encoding="utf-8")


def _json_for_script(data: dict) -> str:
    """JSON safe inside <script>: no "</" sequence can close the element."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


_INTRO = {
    "threshold": "Move the threshold, change the timepoint or the endpoint: the patients are "
                 "split into those with fewer and those with at least that many CTCs per 7.5 mL.",
    "her2": "Change the rule that makes a draw ‘HER2-positive’, the timepoint or the endpoint.",
    "cutpoint": "The naive log-rank p-value at every CTC threshold, with the p-value corrected "
                "for picking the best one. The slider marks a threshold; its Kaplan-Meier "
                "curves are below.",
}


def explorer_html(cohort: Any = None, kind: str = "threshold") -> str:
    """A self-contained HTML fragment: the static explorer ``kind`` for ``cohort``.

    Parameters
    ----------
    cohort : Cohort, optional
        Default :func:`ctcbook.load_cohort` (``$CTCBOOK_DATA`` or the shipped cohort).
    kind : {"threshold", "her2", "cutpoint"}

    Returns
    -------
    str
        A ``<div class="ctcx">`` with inline CSS, the precomputed JSON and the inline
        script; display it with ``IPython.display.HTML``. It loads nothing from anywhere.

    Examples
    --------
    >>> import ctcbook as cb
    >>> page = cb.explorer_html(cb.simulate_cohort(52, seed=1), "her2")
    >>> page.startswith("<div")
    True
    """
    from .cohort import load_cohort

    if cohort is None:
        cohort = load_cohort()
    data = explorer_data(cohort, kind)
    synthetic = bool(getattr(cohort, "synthetic", False))
    label = "synthetic cohort" if synthetic else "cohort"
    root = f"ctcx-{kind}"
    esc = html.escape
    cut = ""
    if kind == "cutpoint":
        cut = (
            f"<svg class='ctcx-cutplot' role='img' aria-labelledby='{root}-ct {root}-cd' "
            f"xmlns='http://www.w3.org/2000/svg'><title id='{root}-ct'>Naive log-rank p-value "
            f"at every CTC threshold ({label})</title><desc id='{root}-cd'></desc></svg>"
            "<div class='ctcx-cutnumbers' aria-live='polite'></div>"
        )
    figcaption = (f"Interactive explorer precomputed from the {label} ({getattr(cohort, 'n', '')}"
                  " patients); it runs in the page, without a Python kernel or network.")
    if synthetic:
        figcaption += " Synthetic cohort: the numbers are not evidence about real patients."
    return (
        f"<div class='ctcx' id='{root}' data-kind='{kind}'>"
        f"<style>{_asset('explorer.css')}</style>"
        f"<p class='ctcx-intro'>{esc(_INTRO[kind])}</p>"
        f"{cut}"
        f"<div class='ctcx-title' aria-live='polite'></div>"
        f"<svg class='ctcx-plot' role='img' aria-labelledby='{root}-t {root}-d' "
        f"xmlns='http://www.w3.org/2000/svg'><title id='{root}-t'></title>"
        f"<desc id='{root}-d'></desc></svg>"
        "<div class='ctcx-numbers' aria-live='polite'></div>"
        "<p class='ctcx-caption'></p>"
        f"<p class='ctcx-figcaption'>{esc(figcaption)}</p>"
        "<noscript><p>This explorer needs JavaScript; the chapters show the paper's "
        "choices as static figures.</p></noscript>"
        f"<script type='application/json' class='ctcx-data'>{_json_for_script(data)}</script>"
        f"<script>{_asset('explorer.js')}</script>"
        "</div>"
    )
