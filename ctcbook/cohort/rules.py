"""CTC-positive and HER2-positive-CTC rules, and the one-row-per-patient table.

A blood draw is *CTC-positive* when it has at least ``threshold`` circulating tumour
cells (CTCs) per 7.5 mL (CellSearch; the conventional threshold is 5, Cristofanilli
et al. 2004). Whether a draw has *HER2-positive CTCs* is a rule, not a measurement:
studies have used ">= 1 HER2+ CTC", ">= 2 HER2+ CTCs", "> 30% of CTCs HER2+" or
">= 2 CTCs of which >= 50% HER2+" (see ``HER2_RULES``). Hayashi et al. (2012) do not
state their rule in the abstract; the book's default is ">= 1 HER2+ CTC", the usual
convention of that time.

All functions here are pure: they never modify their inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.cohort.format import TIMEPOINTS, timepoint_order
from ctcbook.cohort.paper import CTC_THRESHOLD

__all__ = [
    "HER2Rule",
    "HER2_RULES",
    "ctc_positive",
    "her2_positive_ctc",
    "patient_table",
    "ctc_change_labels",
]


@dataclass(frozen=True)
class HER2Rule:
    """When a blood draw counts as having HER2-positive CTCs.

    A draw is HER2-positive when all three conditions hold:

    * ``her2_positive_ctc >= min_her2_ctc``,
    * ``ctc_count >= min_ctc``,
    * ``min_fraction is None`` or ``her2_positive_ctc / ctc_count >= min_fraction``.

    Parameters
    ----------
    min_her2_ctc : int, default 1
        Minimum number of HER2-positive CTCs per 7.5 mL (at least 1).
    min_fraction : float or None, default None
        Minimum share of the CTCs that are HER2-positive, in (0, 1]; None for no
        fraction condition.
    min_ctc : int, default 0
        Minimum total number of CTCs per 7.5 mL.

    Examples
    --------
    >>> HER2Rule().label
    '≥ 1 HER2+ CTC'
    >>> HER2Rule.parse(">=30%").label
    '≥ 30% of CTCs HER2+'
    """

    min_her2_ctc: int = 1
    min_fraction: float | None = None
    min_ctc: int = 0

    def __post_init__(self) -> None:
        if int(self.min_her2_ctc) != self.min_her2_ctc or self.min_her2_ctc < 1:
            raise ValueError(f"min_her2_ctc must be an integer >= 1, got {self.min_her2_ctc!r}")
        if int(self.min_ctc) != self.min_ctc or self.min_ctc < 0:
            raise ValueError(f"min_ctc must be an integer >= 0, got {self.min_ctc!r}")
        if self.min_fraction is not None and not (0.0 < float(self.min_fraction) <= 1.0):
            raise ValueError(f"min_fraction must be in (0, 1] or None, got {self.min_fraction!r}")

    @property
    def label(self) -> str:
        """A short human-readable label, e.g. ``"≥ 1 HER2+ CTC"``."""
        if self.min_fraction is None:
            plural = "" if self.min_her2_ctc == 1 else "s"
            text = f"≥ {self.min_her2_ctc} HER2+ CTC{plural}"
            if self.min_ctc > self.min_her2_ctc:
                text += f" (≥ {self.min_ctc} CTCs)"
            return text
        text = f"≥ {100 * float(self.min_fraction):g}% of CTCs HER2+"
        extras = []
        if self.min_ctc > 1:
            extras.append(f"≥ {self.min_ctc} CTCs")
        if self.min_her2_ctc > 1:
            extras.append(f"≥ {self.min_her2_ctc} HER2+ CTCs")
        if extras:
            text += " (" + ", ".join(extras) + ")"
        return text

    @classmethod
    def parse(cls, text: str | HER2Rule) -> HER2Rule:
        """Build a rule from a short string.

        Parameters
        ----------
        text : str or HER2Rule
            ``">=N"`` (at least N HER2+ CTCs) or ``">=P%"`` (at least P% of the CTCs
            HER2+). ``"≥"`` is accepted for ``">="``, spaces are ignored. The presets
            of ``HER2_RULES`` (``">=1"``, ``">=2"``, ``">=30%"``, ``">=50%"``) are
            returned as defined there (``">=50%"`` also requires >= 2 CTCs); any other
            percentage requires at least 1 HER2+ CTC and no minimum CTC count. A
            ``HER2Rule`` is returned unchanged.

        Returns
        -------
        HER2Rule

        Raises
        ------
        ValueError
            If the string is not of one of these forms.
        """
        if isinstance(text, HER2Rule):
            return text
        key = str(text).replace("≥", ">=").replace(" ", "")
        if key in HER2_RULES:
            return HER2_RULES[key]
        m = re.fullmatch(r">=(\d+(?:\.\d+)?)(%?)", key)
        if m is None:
            raise ValueError(
                f"cannot parse HER2 rule {text!r}: expected '>=N' or '>=P%' "
                f"(presets: {', '.join(HER2_RULES)})"
            )
        value, pct = m.groups()
        if pct:
            return cls(min_her2_ctc=1, min_fraction=float(value) / 100.0, min_ctc=0)
        if float(value) != int(float(value)):
            raise ValueError(f"the number of HER2+ CTCs must be an integer, got {text!r}")
        return cls(min_her2_ctc=int(float(value)))


#: The HER2-positive-CTC rules the book offers, by short name.
#:
#: ``">=1"``  at least 1 HER2+ CTC (the default; the usual convention around 2010,
#:            e.g. Fehm et al. 2010, and the rule behind the synthetic cohort);
#: ``">=2"``  at least 2 HER2+ CTCs (Wang et al. 2020, "high risk");
#: ``">=30%"`` at least 30% of the CTCs HER2+ and at least 1 HER2+ CTC (Liu et al. 2013
#:            used "> 30%"; the book uses ">=" for all rules);
#: ``">=50%"`` at least 2 CTCs and at least 50% of them HER2+ (Pestrin et al. 2009);
#:            with >= 2 CTCs and >= 50%, at least 1 HER2+ CTC follows.
HER2_RULES: dict[str, HER2Rule] = {
    ">=1": HER2Rule(min_her2_ctc=1),
    ">=2": HER2Rule(min_her2_ctc=2),
    ">=30%": HER2Rule(min_her2_ctc=1, min_fraction=0.30),
    ">=50%": HER2Rule(min_her2_ctc=1, min_fraction=0.50, min_ctc=2),
}


def _wrap(result: np.ndarray, like: Any) -> Any:
    """Return ``result`` shaped like the input: Series keep their index, scalars stay scalar."""
    if isinstance(like, pd.Series):
        return pd.Series(result, index=like.index, name=like.name, dtype=float)
    if np.ndim(like) == 0:
        return float(result)
    return result


def ctc_positive(ctc_count: Any, threshold: int = CTC_THRESHOLD) -> Any:
    """Whether each draw is CTC-positive (``ctc_count >= threshold``).

    Parameters
    ----------
    ctc_count : scalar, array-like or pandas.Series
        CTCs per 7.5 mL; NaN for a missing draw.
    threshold : int, default 5
        The CTC-positive threshold.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        1.0 when positive, 0.0 when negative, NaN where ``ctc_count`` is NaN; a Series
        input gives a Series with the same index.
    """
    c = np.asarray(ctc_count, dtype=float)
    out = np.where(np.isnan(c), np.nan, (c >= threshold).astype(float))
    return _wrap(out, ctc_count)


def her2_positive_ctc(ctc_count: Any, her2_positive_ctc: Any, rule: HER2Rule | str = HER2Rule()) -> Any:
    """Whether each draw has HER2-positive CTCs under ``rule``.

    Parameters
    ----------
    ctc_count : scalar, array-like or pandas.Series
        CTCs per 7.5 mL; NaN for a missing draw.
    her2_positive_ctc : scalar, array-like or pandas.Series
        HER2-positive CTCs per 7.5 mL (0..ctc_count); NaN for a missing draw.
    rule : HER2Rule or str, default ``HER2Rule()`` (>= 1 HER2+ CTC)
        The rule; a string is parsed with ``HER2Rule.parse``.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        1.0 / 0.0, NaN where either count is NaN. A draw with 0 CTCs is never
        HER2-positive (its HER2+ fraction counts as 0).
    """
    rule = HER2Rule.parse(rule)
    c = np.asarray(ctc_count, dtype=float)
    h = np.asarray(her2_positive_ctc, dtype=float)
    c, h = np.broadcast_arrays(c, h)
    missing = np.isnan(c) | np.isnan(h)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = (h >= rule.min_her2_ctc) & (c >= rule.min_ctc)
        if rule.min_fraction is not None:
            # division (not h >= f * c) so that e.g. 3 / 10 >= 0.30 holds exactly
            frac = np.where(c > 0, h / np.where(c > 0, c, 1.0), 0.0)
            pos &= frac >= rule.min_fraction
    out = np.where(missing, np.nan, pos.astype(float))
    like = ctc_count if isinstance(ctc_count, pd.Series) else her2_positive_ctc
    if np.ndim(ctc_count) == 0 and np.ndim(her2_positive_ctc) == 0:
        like = 0.0
    return _wrap(out, like)


def ctc_change_labels(threshold: int = CTC_THRESHOLD) -> list[str]:
    """The four categories of ``ctc_change``, in order (e.g. ``"<5 -> <5"``)."""
    lo, hi = f"<{threshold}", f">={threshold}"
    return [f"{lo} -> {lo}", f"{lo} -> {hi}", f"{hi} -> {lo}", f"{hi} -> {hi}"]


def patient_table(
    cohort: Any, threshold: int = CTC_THRESHOLD, her2_rule: HER2Rule | str = HER2Rule()
) -> pd.DataFrame:
    """One row per patient: the patient columns plus the markers at each timepoint.

    Parameters
    ----------
    cohort : Cohort
        Anything with ``patients`` and ``ctc`` DataFrames in the cohort format.
    threshold : int, default 5
        CTC-positive threshold (CTCs per 7.5 mL).
    her2_rule : HER2Rule or str, default ``HER2Rule()`` (>= 1 HER2+ CTC)
        The HER2-positive-CTC rule (a string is parsed with ``HER2Rule.parse``).

    Returns
    -------
    pandas.DataFrame
        RangeIndex, in the order of ``cohort.patients``. All patient columns, then for
        each timepoint ``tp`` in ``("baseline", "first_follow_up")``:

        ``ctc_{tp}``, ``her2_ctc_{tp}``, ``day_{tp}``
            counts and day of the draw (float, NaN without a draw);
        ``ctc_pos_{tp}``, ``her2_pos_{tp}``
            1.0 / 0.0, NaN without a draw;

        then ``her2_pos_any`` (1 if HER2-positive at any available draw, 0 if all
        available draws are negative, NaN without any draw), ``ctc_change`` (ordered
        categorical ``"<5 -> <5"``, ``"<5 -> >=5"``, ``">=5 -> <5"``, ``">=5 -> >=5"``
        from baseline to first follow-up, NaN when either draw is missing; the labels
        follow ``threshold``) and ``primary_her2_negative`` (1 if ``primary_her2`` is
        ``"negative"``, else 0).

    Raises
    ------
    ValueError
        If a patient has two draws at the same timepoint, or a draw names a timepoint
        the cohort format does not know. Later draws (``follow_up_2``, ...) are allowed
        and ignored: every column, ``her2_pos_any`` included, uses baseline and first
        follow-up, as the paper did.
    """
    rule = HER2Rule.parse(her2_rule)
    patients = cohort.patients.reset_index(drop=True).copy()
    ctc = cohort.ctc
    # Later draws (follow_up_2, follow_up_3, ...) are valid in the cohort format but not
    # used here: the paper's analyses, "any timepoint" included, use these two draws.
    unknown = sorted(tp for tp in set(ctc["timepoint"]) if timepoint_order(tp) is None)
    ctc = ctc.loc[ctc["timepoint"].isin(TIMEPOINTS)]
    if unknown:
        raise ValueError(f"unknown timepoint(s) in ctc table: {unknown}")
    dup = ctc.duplicated(["patient_id", "timepoint"], keep=False)
    if dup.any():
        bad = ctc.loc[dup, ["patient_id", "timepoint"]].drop_duplicates().to_numpy().tolist()
        raise ValueError(f"more than one draw per patient and timepoint: {bad[:5]}")

    out = patients
    pid = patients["patient_id"]
    for tp in TIMEPOINTS:
        draws = ctc.loc[ctc["timepoint"] == tp].set_index("patient_id")
        count = pid.map(draws["ctc_count"]).astype(float)
        her2 = pid.map(draws["her2_positive_ctc"]).astype(float)
        day = pid.map(draws["day"]).astype(float)
        out[f"ctc_{tp}"] = count.to_numpy()
        out[f"her2_ctc_{tp}"] = her2.to_numpy()
        out[f"day_{tp}"] = day.to_numpy()
        out[f"ctc_pos_{tp}"] = ctc_positive(count.to_numpy(), threshold)
        out[f"her2_pos_{tp}"] = her2_positive_ctc(count.to_numpy(), her2.to_numpy(), rule)

    her2 = out[[f"her2_pos_{tp}" for tp in TIMEPOINTS]].to_numpy()
    any_draw = ~np.isnan(her2).all(axis=1)
    any_pos = (np.nan_to_num(her2, nan=0.0) > 0).any(axis=1)
    out["her2_pos_any"] = np.where(any_draw, any_pos.astype(float), np.nan)

    labels = ctc_change_labels(threshold)
    b, f = out["ctc_pos_baseline"].to_numpy(), out["ctc_pos_first_follow_up"].to_numpy()
    both = ~(np.isnan(b) | np.isnan(f))
    codes = np.where(both, 2 * np.nan_to_num(b) + np.nan_to_num(f), -1).astype(int)
    out["ctc_change"] = pd.Categorical.from_codes(
        codes, categories=labels, ordered=True
    )
    out["primary_her2_negative"] = (patients["primary_her2"] == "negative").astype(int).to_numpy()
    return out
