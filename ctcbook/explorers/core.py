"""One computation behind the explorers: the paper's analysis with any choice changed.

Hayashi et al. (2012) made choices: a CTC threshold of 5, a rule for "HER2-positive
CTCs", the first follow-up draw as the timepoint, PFS and OS as endpoints.
:func:`explore` redoes the survival comparison with any of them changed and returns
everything a reader needs (groups, Kaplan-Meier curves, risk table, log-rank test, Cox
hazard ratio, a plain message when something cannot be computed) as a frozen
:class:`Exploration`. The Jupyter widgets (:mod:`ctcbook.explorers.widgets`) and the static HTML
explorers (:mod:`ctcbook.explorers.static`) both call it; neither computes anything
itself.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.cohort.paper import (
    CTC_THRESHOLD,
    ENDPOINTS,
    TIMEPOINT,
    format_p,  # noqa: F401  (the book's one rule, also for the explorers)
)
from ctcbook.cohort.rules import HER2_RULES, HER2Rule, ctc_positive, her2_positive_ctc
from ctcbook.explorers.exploration import Exploration, caption, empty_exploration
from ctcbook.report.figures import DAYS_PER_MONTH, month_ticks
from ctcbook.stats.survival import ModelError, cox, kaplan_meier, km_quantile, logrank
from ctcbook.stats.survival import risk_table as _risk_table
from ctcbook.stats.timevarying import landmark

__all__ = [
    "Exploration",
    "explore",
    "TIMEPOINT_CHOICES",
    "GROUPING_CHOICES",
    "ENDPOINT_CHOICES",
    "HER2_RULE_CHOICES",
    "THRESHOLD_RANGE",
    "timepoints_for",
]

#: Allowed ``timepoint`` values with their display labels.
TIMEPOINT_CHOICES: dict[str, str] = {
    "baseline": "Baseline",
    "first_follow_up": "First follow-up",
    "landmark": "Landmark at the last first follow-up day",
    "any": "Any draw",
    "change": "Change, baseline to first follow-up",
}
#: Allowed ``grouping`` values with their display labels.
GROUPING_CHOICES: dict[str, str] = {
    "her2_ctc": "HER2+ CTCs",
    "ctc_count": "CTC count",
}
#: Allowed ``endpoint`` values with their display labels.
ENDPOINT_CHOICES: dict[str, str] = {key: value[2] for key, value in ENDPOINTS.items()}
#: The HER2-positive-CTC rules offered by the explorers (``markers.HER2_RULES``).
HER2_RULE_CHOICES: dict[str, str] = {key: rule.label for key, rule in HER2_RULES.items()}
#: The thresholds the explorers offer (CTCs per 7.5 mL).
THRESHOLD_RANGE = (1, 50)

_EVENT_WORD = {"pfs": "progression or death", "os": "death"}


def timepoints_for(grouping: str) -> list[str]:
    """The timepoints that make sense for ``grouping`` ("change" is CTC-count only)."""
    if grouping == "ctc_count":
        return list(TIMEPOINT_CHOICES)
    return [tp for tp in TIMEPOINT_CHOICES if tp != "change"]


# ----------------------------------------------------------------------- the inputs


@dataclass(frozen=True)
class _Inputs:
    """The per-patient arrays every exploration starts from (computed once per cohort)."""

    ctc: dict[str, np.ndarray]
    her2: dict[str, np.ndarray]
    day_follow_up: np.ndarray
    times: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    n: int
    # explore() results already computed on this cohort, by their choices
    results: dict = field(default_factory=dict, compare=False, repr=False)


_CACHE: dict[int, tuple[weakref.ref, _Inputs]] = {}


def _inputs(cohort: Any) -> _Inputs:
    """Counts, days and outcomes per patient; cached per cohort object (cohorts are frozen)."""
    key = id(cohort)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is cohort:
        return hit[1]
    from ctcbook.cohort.rules import patient_table

    table = patient_table(cohort)
    inputs = _Inputs(
        ctc={tp: table[f"ctc_{tp}"].to_numpy(float) for tp in ("baseline", "first_follow_up")},
        her2={tp: table[f"her2_ctc_{tp}"].to_numpy(float) for tp in ("baseline", "first_follow_up")},
        day_follow_up=table["day_first_follow_up"].to_numpy(float),
        times={ep: table[col].to_numpy(float) for ep, (col, _, _) in ENDPOINTS.items()},
        events={ep: table[col].to_numpy(float) for ep, (_, col, _) in ENDPOINTS.items()},
        n=len(table),
    )
    try:
        ref = weakref.ref(cohort, lambda _, key=key: _CACHE.pop(key, None))
    except TypeError:  # not weak-referenceable: do not cache
        return inputs
    _CACHE[key] = (ref, inputs)
    return inputs


def _check_choice(name: str, value: Any, allowed: Any) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _rule_name(rule: HER2Rule) -> str:
    for key, preset in HER2_RULES.items():
        if preset == rule:
            return key
    return rule.label


# ------------------------------------------------------------------------ markers


def _marker(inp: _Inputs, grouping: str, timepoint: str, threshold: int, rule: HER2Rule
            ) -> tuple[np.ndarray, list[str], str]:
    """Group code per patient (NaN = not analysable), group labels, and a phrase for titles."""
    base_c, fu_c = inp.ctc["baseline"], inp.ctc["first_follow_up"]
    base_h, fu_h = inp.her2["baseline"], inp.her2["first_follow_up"]
    # below the threshold: "0" at a threshold of 1 (never "< 1"); "≥ 1 CTC", "≥ 2 CTCs"
    below = "0" if threshold == 1 else f"< {threshold}"
    at_least = f"≥ {threshold}"
    unit = "CTC" if threshold == 1 else "CTCs"
    if grouping == "ctc_count":
        base = ctc_positive(base_c, threshold)
        fu = ctc_positive(fu_c, threshold)
        if timepoint == "change":
            both = ~(np.isnan(base) | np.isnan(fu))
            code = np.where(both, 2 * np.nan_to_num(base) + np.nan_to_num(fu), np.nan)
            # the order of markers.ctc_change_labels: lo -> lo, lo -> hi, hi -> lo, hi -> hi
            labels = [f"{a} → {b}" for a in (below, at_least) for b in (below, at_least)]
            return code, labels, "CTC count at baseline → first follow-up"
        lo, hi = f"{below} CTCs", f"{at_least} {unit}"
        phrase = f"CTC count (≥ {threshold} per 7.5 mL)"
    else:
        base = her2_positive_ctc(base_c, base_h, rule)
        fu = her2_positive_ctc(fu_c, fu_h, rule)
        lo, hi = "No HER2+ CTCs", "HER2+ CTCs"
        # one pair of parentheses: "≥ 50% of CTCs HER2+ (≥ 2 CTCs)" -> "..., ≥ 2 CTCs"
        phrase = "HER2+ CTCs (" + re.sub(r"\s*\((.*)\)$", r", \1", rule.label) + ")"
    if timepoint == "baseline":
        return base, [lo, hi], f"{phrase} at baseline"
    if timepoint in ("first_follow_up", "landmark"):
        where = "first follow-up" if timepoint == "first_follow_up" else "first follow-up (landmark analysis)"
        return fu, [lo, hi], f"{phrase} at {where}"
    # any: positive at any available draw
    draws = np.column_stack([base, fu])
    has = ~np.isnan(draws).all(axis=1)
    pos = (np.nan_to_num(draws, nan=0.0) > 0).any(axis=1)
    code = np.where(has, pos.astype(float), np.nan)
    if grouping == "ctc_count":
        lo, hi = f"{below} CTCs at every draw", f"{at_least} {unit} at any draw"
    else:
        lo, hi = "No HER2+ CTCs at any draw", "HER2+ CTCs at any draw"
    return code, [lo, hi], f"{phrase} at any draw"


# ---------------------------------------------------------------------- explore


def explore(
    cohort: Any,
    threshold: int = CTC_THRESHOLD,
    timepoint: str = TIMEPOINT,
    her2_rule: str | HER2Rule = ">=1",
    endpoint: str = "pfs",
    grouping: str = "her2_ctc",
) -> Exploration:
    """Redo the paper's survival comparison with any of its choices changed.

    Patients are split into groups by a marker (HER2-positive CTCs, or a CTC count at
    or above ``threshold``) at a timepoint; the groups are compared on an endpoint with
    Kaplan-Meier curves, a log-rank test and a Cox model. The defaults are the paper's
    choices: HER2+ CTCs (>= 1 HER2+ CTC) at the first follow-up draw, PFS.

    Parameters
    ----------
    cohort : Cohort
        Anything with ``patients`` and ``ctc`` DataFrames in the cohort format (and
        optionally ``synthetic``).
    threshold : int, default 5
        CTC-positive threshold (CTCs per 7.5 mL), 1 or more. Used by the "ctc_count"
        grouping (ignored by "her2_ctc").
    timepoint : {"first_follow_up", "baseline", "landmark", "any", "change"}
        Which draw defines the groups. "baseline" and "first_follow_up": that draw,
        survival from the baseline draw (as the paper). "landmark": the marker at
        first follow-up, survival measured from the landmark (the last first follow-up
        day of the cohort), only patients still event-free (and under follow-up) then. "any": positive at any available
        draw. "change" (CTC-count grouping only): the four baseline -> first follow-up
        categories of ``patient_table``'s ``ctc_change``, compared with a k-group
        log-rank test and no hazard ratio; with the HER2 grouping it returns a message.
    her2_rule : str or HER2Rule, default ">=1"
        The HER2-positive-CTC rule: a key of ``markers.HER2_RULES`` (">=1", ">=2",
        ">=30%", ">=50%"), any string ``HER2Rule.parse`` accepts, or a rule. Used by
        the "her2_ctc" grouping (ignored by "ctc_count").
    endpoint : {"pfs", "os"}, default "pfs"
        Progression-free or overall survival.
    grouping : {"her2_ctc", "ctc_count"}, default "her2_ctc"
        Group by HER2-positive CTCs or by the CTC count.

    Returns
    -------
    Exploration
        Groups, curves, risk table, log-rank and Cox results, counts, a message for
        degenerate cases, title, caption and a lazily drawn ``figure``.

    Raises
    ------
    ValueError
        If a choice is not one of the allowed values (the message lists them). Valid
        choices never raise: what cannot be computed is NaN and ``message`` says why.

    Notes
    -----
    Groups are coded 0 (marker-negative) and 1 (marker-positive), so the hazard ratio is
    positive vs negative. Results are remembered per cohort object (the same choices
    give the same, read-only result without recomputing), so the explorers'
    precomputation and a notebook asking for the same choices pay once. The landmark analysis follows Anderson, Cain & Gelber (1983):
    conditioning on being event-free at the landmark avoids the guarantee-time bias of
    comparing groups defined by a draw some patients did not live to have. It is
    chapter 14's analysis, :func:`ctcbook.stats.timevarying.landmark` from the last first
    follow-up day (:func:`landmark_day`), so that both report the same numbers. Medians and
    confidence intervals follow :func:`ctcbook.stats.survival.median_survival`; times are in
    months of ``DAYS_PER_MONTH`` days.

    References
    ----------
    .. [1] Hayashi N, Nakamura S, Tokuda Y, et al. Prognostic value of HER2-positive
       circulating tumor cells in patients with metastatic breast cancer. Int J Clin
       Oncol 2012;17:96-104. doi:10.1007/s10147-011-0260-0
    .. [2] Anderson JR, Cain KC, Gelber RD. Analysis of survival by tumor response.
       J Clin Oncol 1983;1:710-719. doi:10.1200/JCO.1983.1.11.710
    .. [3] Morris TP, Jarvis CI, Cragg W, et al. Proposals on Kaplan-Meier plots in
       medical research and a survey of stakeholder views: KMunicate. BMJ Open
       2019;9:e030215. doi:10.1136/bmjopen-2019-030215

    Examples
    --------
    >>> import ctcbook as cb
    >>> result = cb.explore(cb.simulate_cohort(52, seed=1))
    >>> list(result.groups["label"])
    ['No HER2+ CTCs', 'HER2+ CTCs']
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or threshold < 1:
        raise ValueError(f"threshold must be an integer >= 1 (CTCs per 7.5 mL); got {threshold!r}")
    threshold = int(threshold)
    _check_choice("timepoint", timepoint, TIMEPOINT_CHOICES)
    _check_choice("endpoint", endpoint, ENDPOINT_CHOICES)
    _check_choice("grouping", grouping, GROUPING_CHOICES)
    try:
        rule = HER2Rule.parse(her2_rule)
    except ValueError as err:
        raise ValueError(f"her2_rule must be one of {', '.join(map(repr, HER2_RULES))} "
                         f"(or '>=N', '>=P%'); {err}") from None
    rule_name = _rule_name(rule)
    inp = _inputs(cohort)
    key = (threshold, timepoint, rule_name, endpoint, grouping)
    hit = inp.results.get(key)
    if hit is not None:
        return hit
    result = _explore(cohort, inp, threshold, timepoint, rule, rule_name, endpoint, grouping)
    if len(inp.results) >= _MAX_CACHED:
        inp.results.pop(next(iter(inp.results)))
    inp.results[key] = result
    return result


#: explore() results kept per cohort (the explorers' precomputation asks for the same
#: choices more than once; a result is a few kB plus its curves).
_MAX_CACHED = 1024


def _explore(cohort: Any, inp: _Inputs, threshold: int, timepoint: str, rule: HER2Rule,
             rule_name: str, endpoint: str, grouping: str) -> Exploration:
    synthetic = bool(getattr(cohort, "synthetic", False))
    endpoint_label = ENDPOINT_CHOICES[endpoint]

    if grouping == "her2_ctc" and timepoint == "change":
        return empty_exploration(
            threshold, timepoint, rule_name, endpoint, grouping, synthetic, inp.n,
            "The change from baseline to first follow-up is defined for the CTC-count "
            "grouping only; choose another timepoint, or group by CTC count.",
            f"{endpoint_label}: change in HER2+ CTCs (not available)",
        )

    code, labels, phrase = _marker(inp, grouping, timepoint, threshold, rule)
    days = inp.times[endpoint]
    event = inp.events[endpoint]
    keep = ~np.isnan(code)
    n_excluded = int((~keep).sum())
    n_not_at_risk = 0
    xlabel = "Months since baseline blood draw"
    if timepoint == "landmark":  # chapter 14's analysis: stats.timevarying.landmark
        day = landmark_day(inp.day_follow_up)
        frame = pd.DataFrame({"days": days, "event": event, "code": code, "day": inp.day_follow_up})
        lm = landmark(frame[keep], day, "days", "event", "code", "day").dropna(subset=["code"])
        n_not_at_risk = int(keep.sum()) - len(lm)
        keep = np.zeros(inp.n, bool)
        keep[lm.index] = True
        days = days - day
        xlabel = f"Months since the landmark (day {day:g}, the last first follow-up draw)"
    t_days, ev, grp = days[keep], event[keep].astype(int), code[keep].astype(int)
    months = t_days / DAYS_PER_MONTH
    title = f"{endpoint_label} by {phrase}"
    k = len(labels)
    messages: list[str] = []
    ev_word = _EVENT_WORD[endpoint]

    # groups and curves
    rows, curves = [], []
    columns = ["group", "label", "time", "survival", "ci_lower", "ci_upper", "at_risk", "events",
               "censored"]
    for g in range(k):
        mask = grp == g
        n_g, e_g = int(mask.sum()), int(ev[mask].sum())
        if n_g:
            km = kaplan_meier(months[mask], ev[mask])
            # the curve from (0, 1), as median_survival reads it (same numbers, one KM)
            cols = {c: km[c].to_numpy() for c in columns[2:]}
            first = {"time": 0.0, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0,
                     "at_risk": n_g, "events": 0, "censored": 0}
            cols = {c: np.concatenate(([first[c]], v)) for c, v in cols.items()}
            median, lower, upper = (float(km_quantile(cols["time"], cols[c], 0.5))
                                    for c in ("survival", "ci_lower", "ci_upper"))
            curves.append(pd.DataFrame({"group": g, "label": labels[g], **cols}))
        else:
            median = lower = upper = float("nan")
        rows.append({"group": g, "label": labels[g], "n": n_g, "events": e_g,
                     "median": median, "median_lower": lower, "median_upper": upper})
    groups = pd.DataFrame(rows)
    curve_frame = (pd.concat(curves, ignore_index=True)[columns] if curves
                   else pd.DataFrame({c: [] for c in columns}))

    present = groups.loc[groups["n"] > 0, "group"].tolist()
    empty = groups.loc[groups["n"] == 0, "label"].tolist()
    if not len(t_days):
        messages.append("No patient can be analysed with these choices.")
    elif empty and len(present) < 2:
        which = " and ".join(f"“{lab}”" for lab in empty)
        messages.append(f"No patient is in the group {which}, so there is nothing to compare: "
                        "the log-rank test and the hazard ratio are not defined.")
    elif empty:
        which = " and ".join(f"“{lab}”" for lab in empty)
        messages.append(f"No patient is in the group {which}; the log-rank test compares the "
                        f"other {len(present)} groups.")

    statistic, df, p_value = float("nan"), 0, float("nan")
    if len(present) >= 2:
        lr = logrank(months, ev, grp)
        statistic, df, p_value = lr.statistic, lr.df, lr.p_value
        if int(ev.sum()) == 0:
            messages.append(f"No {ev_word} was observed among the analysed patients, so the "
                            "groups cannot be compared.")
            statistic, p_value = float("nan"), float("nan")

    hr = lo_ci = hi_ci = float("nan")
    if k == 2 and len(present) == 2 and int(ev.sum()) > 0:
        no_events = groups.loc[(groups["n"] > 0) & (groups["events"] == 0)]
        if len(no_events):
            row = no_events.iloc[0]
            messages.append(
                f"No {ev_word} was observed in the group “{row['label']}” (n = {row['n']}), so "
                "its hazard ratio would be zero or infinite and cannot be estimated; the "
                "log-rank test is still valid."
            )
        else:
            frame = pd.DataFrame({"time": months, "event": ev, "positive": grp.astype(float)})
            try:
                fit = cox(frame, "time", "event", ["positive"], ties="efron")
                s = fit.summary.loc["positive"]
                hr, lo_ci, hi_ci = float(s["hr"]), float(s["hr_lower"]), float(s["hr_upper"])
            except (ModelError, np.linalg.LinAlgError) as err:
                messages.append(f"The Cox model cannot be fitted with these choices ({err}); "
                                "the hazard ratio is not shown.")

    max_months = float(months.max()) if len(months) else 12.0
    ticks = tuple(float(x) for x in month_ticks(max_months) if x <= max_months)
    if present and len(t_days):
        risk = _risk_table(months, ev, grp, ticks)
        risk.insert(1, "label", [labels[g] for g in risk["group"]])
    else:
        risk = pd.DataFrame({c: [] for c in ("group", "label", "time", "at_risk", "censored",
                                              "events")})

    message = " ".join(messages) or None
    text = caption(endpoint_label, phrase, timepoint, len(t_days), n_excluded, n_not_at_risk,
                       p_value, df, hr, lo_ci, hi_ci, synthetic, k)
    data = pd.DataFrame({"days": t_days, "event": ev, "group": grp})
    return Exploration(
        threshold=threshold, timepoint=timepoint, her2_rule=rule_name, endpoint=endpoint,
        grouping=grouping, groups=groups, curves=curve_frame, risk=risk, statistic=statistic,
        df=df, p_value=p_value, hazard_ratio=hr, hr_lower=lo_ci, hr_upper=hi_ci,
        n=int(len(t_days)), n_excluded=n_excluded, n_not_at_risk=n_not_at_risk,
        message=message, title=title, caption=text, ticks=ticks, max_months=max_months,
        synthetic=synthetic, xlabel=xlabel, data=data,
    )


def landmark_day(day_follow_up: Any) -> float:
    """The explorers' and chapter 14's landmark: the last first follow-up day (0 if none).

    As :func:`ctcbook.stats.timevarying.compare_timepoint_analyses`: every first
    follow-up result is known by then.
    """
    days = np.asarray(day_follow_up, dtype=float)
    days = days[np.isfinite(days)]
    return float(days.max()) if days.size else 0.0
