"""The generative model conditioned on the published counts, and the time map.

``calibrated_cohort`` draws the generative model (:mod:`ctcbook.simulation.synthetic`)
**conditioned on the published counts**:
the primary HER2 categories are a random permutation of exactly 33/17/2; the CTC
draws are re-drawn (rejection sampling) until exactly 14 patients have HER2-positive
CTCs at some available draw, 8 of them with HER2-negative primaries, and 6 of the 49
patients with a first follow-up draw are HER2-positive there; exactly 3 first
follow-up draws are missing, one because the patient died before it (survival drawn
conditionally on death without progression before the draw day) and two missed at
random (the others' survival is drawn conditionally on being alive at their draw).

Single patients' survival can then be re-drawn from the model (``_redraw_patient``;
the calibration search, :mod:`ctcbook.simulation.calibration`, chooses which re-draws
to keep). Finally, all times (PFS and OS together) go through one strictly
increasing map to whole days (``rescale_times``) that sets the observed OS times to
minimum 18, median 655.0 and maximum 1275 days (the paper's follow-up). Log-rank
tests and Cox models depend on the times only through their order, which the map
keeps (ties included), so it does not change any p-value or hazard ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ctcbook.cohort.io import Cohort
from ctcbook.simulation.synthetic import (
    CALIBRATE_COMMAND,
    MODEL_VERSION,
    REGENERATE_COMMAND,
    ModelParams,
    _assemble,
    _draw_markers,
    _draw_patients,
    _draw_progression,
    _draw_visits,
    _linear_predictors,
    _Markers,
    _outcomes,
    _params,
    _Patients,
    _Progression,
    _redraw_progression,
    _stream,
    _weibull,
)

__all__ = [
    "PAPER_TARGETS",
    "calibrated_cohort",
    "rescale_times",
]


# --------------------------------------------------------------------------------------
# the monotone time map
# --------------------------------------------------------------------------------------


def rescale_times(pfs: Any, os: Any, *, os_min: int = 18, os_median: float = 655.0,
                  os_max: int = 1275) -> tuple[np.ndarray, np.ndarray]:
    """Map PFS and OS times to whole days by one strictly increasing function.

    The same map is applied to every PFS and OS value (pooled), so the order of all
    times, ties between them and ``pfs <= os`` are kept: rank-based statistics
    (log-rank tests, Cox partial likelihood with any tie method) are unchanged. The
    map is piecewise linear between anchors (0 -> 0, the smallest OS -> ``os_min``,
    the middle OS value(s) -> around ``os_median``, the largest OS -> ``os_max``),
    rounded and then nudged to keep distinct values distinct.

    Parameters
    ----------
    pfs, os : array-like
        Positive times (any unit), ``pfs <= os`` elementwise, at least 2 patients.
    os_min, os_median, os_max : int, float, int
        Required minimum, median (``2 * os_median`` must be an integer) and maximum of
        the mapped OS times.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Mapped ``pfs`` and ``os`` as int64 days (>= 1).

    Raises
    ------
    ValueError
        If the targets cannot be met with whole days (too many distinct values
        between two anchors) or the inputs are invalid.
    """
    pfs = np.asarray(pfs, dtype=float)
    os_ = np.asarray(os, dtype=float)
    if len(os_) < 2 or pfs.shape != os_.shape:
        raise ValueError("need pfs and os of the same length >= 2")
    if (pfs <= 0).any() or (pfs > os_).any():
        raise ValueError("need 0 < pfs <= os")
    if 2 * os_median != int(2 * os_median):
        raise ValueError("2 * os_median must be an integer")
    values = np.unique(np.concatenate([pfs, os_]))
    srt = np.sort(os_)
    n = len(srt)
    anchors: list[tuple[float, float]] = [(0.0, 0.0), (srt[0], float(os_min))]
    if n % 2:
        mids = [(srt[n // 2], float(os_median))]
    else:
        lo, hi = srt[n // 2 - 1], srt[n // 2]
        if lo == hi:
            mids = [(lo, float(os_median))]
        else:
            m = int(((values > lo) & (values < hi)).sum())
            base_lo = math.floor(os_median)
            base_hi = math.ceil(os_median)
            g = 0 if base_hi > base_lo else 1
            while (base_hi + g) - (base_lo - g) - 1 < m:
                g += 1
            mids = [(lo, float(base_lo - g)), (hi, float(base_hi + g))]
    anchors += mids + [(srt[-1], float(os_max))]
    # merge anchors with equal x (small n)
    xs: list[float] = []
    ys: list[float] = []
    for x, y in anchors:
        if xs and x == xs[-1]:
            if y != ys[-1]:
                raise ValueError("cannot meet the OS targets: anchors coincide")
            continue
        xs.append(x)
        ys.append(y)
    if any(b <= a for a, b in zip(ys, ys[1:], strict=False)):
        raise ValueError("OS targets are not increasing")
    out = np.empty(len(values))
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True),
                                  strict=False):
        at1 = values == x1
        out[at1] = y1
        inner = (values > x0) & (values < x1)
        k = int(inner.sum())
        if k == 0:
            continue
        if k > y1 - y0 - 1:
            raise ValueError(f"{k} distinct times between {y0:g} and {y1:g} days do not fit")
        y = np.rint(y0 + (values[inner] - x0) / (x1 - x0) * (y1 - y0))
        prev = y0
        for i in range(k):
            y[i] = max(y[i], prev + 1)
            prev = y[i]
        nxt = y1
        for i in range(k - 1, -1, -1):
            y[i] = min(y[i], nxt - 1)
            nxt = y[i]
        out[inner] = y
    lookup = dict(zip(values.tolist(), out.tolist(), strict=True))
    new_pfs = np.array([lookup[v] for v in pfs.tolist()], dtype=np.int64)
    new_os = np.array([lookup[v] for v in os_.tolist()], dtype=np.int64)
    return new_pfs, new_os


# --------------------------------------------------------------------------------------
# the model conditioned on the published counts
# --------------------------------------------------------------------------------------


def _targets() -> dict[str, Any]:
    from ctcbook.cohort.paper import published

    pub = published()
    h = pub["her2_ctc"]
    g = pub["first_follow_up_groups"]
    fu = pub["follow_up"]
    n = int(pub["study"]["n_enrolled"])
    neg = int(h["her2_negative_primary_total"])
    n_unknown = 2  # assumption: split of the 19 non-negative primaries
    return {
        "n": n,
        "primary_counts": [neg, n - neg - n_unknown, n_unknown],
        "her2_any": int(h["patients_with_her2_positive_ctc_at_any_timepoint"]),
        "her2_any_negative_primary": int(h["her2_negative_primary_with_her2_positive_ctc"]),
        "her2_first_follow_up": int(g["her2_positive_ctc"]),
        "evaluable_first_follow_up": int(g["her2_positive_ctc"]) + int(g["no_her2_positive_ctc"]),
        "missing_died_before_draw": 1,  # assumption (min follow-up 18 days < day 21)
        "os_min_days": int(fu["min_days"]),
        "os_median_days": float(fu["median_days"]),
        "os_max_days": int(fu["max_days"]),
    }


#: The published counts the shipped cohort is conditioned on (from ``published.yaml``;
#: the 17/2 split of the non-negative primaries and the one early death are assumptions).
PAPER_TARGETS: dict[str, Any] = _targets()


@dataclass
class _Conditioned:
    p: ModelParams
    pat: _Patients
    mk: _Markers
    has_fu: np.ndarray
    early: int  # index of the patient who died before the first follow-up draw
    lp_prog: np.ndarray
    lp_death: np.ndarray
    x: np.ndarray = field(default_factory=lambda: np.empty(0))  # Cox design, evaluable rows


def _conditioned_markers(seed: int, p: ModelParams, targets: dict[str, Any]) -> _Conditioned:
    """Patients and CTC draws conditioned on the published counts (rejection sampling)."""
    n = targets["n"]
    rng = _stream(seed)
    counts = targets["primary_counts"]
    primary = rng.permutation(np.repeat(np.arange(3), counts))
    pat = _draw_patients(rng, p, primary, n)
    n_missing = n - targets["evaluable_first_follow_up"]
    for _attempt in range(1_000_000):
        mk = _draw_markers(rng, p, pat.primary)
        missing = rng.choice(n, size=n_missing, replace=False)
        has_fu = np.ones(n, dtype=bool)
        has_fu[missing] = False
        h0 = mk.her2_0 >= 1
        h1 = (mk.her2_1 >= 1) & has_fu
        anyp = h0 | h1
        if (anyp.sum() == targets["her2_any"]
                and (anyp & (pat.primary == 0)).sum() == targets["her2_any_negative_primary"]
                and h1.sum() == targets["her2_first_follow_up"]):
            break
    else:  # pragma: no cover
        raise RuntimeError("could not condition the CTC draws on the published counts")
    mk.missed = ~has_fu
    early = int(missing[0])
    lp_prog, lp_death = _linear_predictors(p, pat, mk)
    c = _Conditioned(p, pat, mk, has_fu, early, lp_prog, lp_death)
    c.x = np.column_stack([
        (mk.her2_1 >= 1)[has_fu], (mk.count0 >= 5)[has_fu], pat.prior[has_fu],
    ]).astype(float)
    return c


def _conditioned_progression(seed: int, c: _Conditioned, k: int) -> _Progression:
    """Draw number ``k`` of (progression, death without progression, censoring)."""
    p = c.p
    rng = _stream(seed, 1, k)
    pr = _draw_progression(rng, p, c.lp_prog, c.lp_death)
    day = c.mk.day1.astype(float)
    early = np.zeros(len(day), dtype=bool)
    early[c.early] = True

    def ok(f, prog, d0, idx):
        died_first_early = (d0 < prog) & (d0 < day[idx])
        alive = (d0 > day[idx]) | (prog < d0)
        return np.where(early[idx], died_first_early, alive)

    _redraw_progression(rng, p, c.lp_prog, c.lp_death, pr, ok)
    return pr


def _conditioned_post(seed: int, c: _Conditioned, pr: _Progression, k: int) -> np.ndarray:
    """Draw number ``k`` of survival after progression (alive at the draw day if evaluable)."""
    p = c.p
    rng = _stream(seed, 2, k)
    lp = c.lp_death + pr.frailty
    post = _weibull(rng, p.post_progression_shape, p.post_progression_median_days, lp)
    day = c.mk.day1.astype(float)
    check = np.ones(len(day), dtype=bool)
    check[c.early] = False
    need = check & (pr.prog < pr.death0) & (pr.prog + post <= day)
    for _ in range(100_000):
        if not need.any():
            return post
        idx = np.flatnonzero(need)
        new = _weibull(rng, p.post_progression_shape, p.post_progression_median_days, lp[idx])
        post[idx] = new
        need[idx] = pr.prog[idx] + new <= day[idx]
    raise RuntimeError("rejection sampling of survival did not finish")  # pragma: no cover


def _redraw_patient(seed: int, c: _Conditioned, pr: _Progression, post: np.ndarray, step: int,
                    i: int) -> None:
    """Re-draw every survival quantity of patient ``i`` from the model (in place).

    Frailty, progression, death without progression, survival after progression, entry
    (hence censoring) and restaging visits are drawn from stream ``(seed, 3, step)``,
    conditioned as in ``calibrated_cohort`` on being alive on the first follow-up day.
    The patient's covariates and CTC draws are not touched.
    """
    p = c.p
    rng = _stream(seed, 3, step)
    day = float(c.mk.day1[i])
    lp_p, lp_d = c.lp_prog[i:i + 1], c.lp_death[i:i + 1]
    for _ in range(100_000):
        f = p.frailty_sd * rng.standard_normal(1)
        pg = _weibull(rng, p.progression_shape, p.progression_median_days, lp_p + f)
        d0 = _weibull(rng, p.death_shape, p.death_median_days, lp_d + f)
        po = _weibull(rng, p.post_progression_shape, p.post_progression_median_days, lp_d + f)
        death = pg[0] + po[0] if pg[0] < d0[0] else d0[0]
        if death > day:
            break
    else:  # pragma: no cover
        raise RuntimeError("rejection sampling of survival did not finish")
    pr.frailty[i], pr.prog[i], pr.death0[i], post[i] = f[0], pg[0], d0[0], po[0]
    pr.censor[i] = p.accrual_days + p.extra_follow_up_days - rng.random() * p.accrual_days
    pr.visits[i] = _draw_visits(rng, p, 1)[0]


def _build_conditioned(seed: int, pfs_draw: int, os_draw: int, params: ModelParams | dict | None,
                       moves: Any = ()) -> tuple[_Conditioned, tuple[np.ndarray, ...]]:
    p = _params(params)
    c = _conditioned_markers(seed, p, PAPER_TARGETS)
    pr = _conditioned_progression(seed, c, pfs_draw)
    post = _conditioned_post(seed, c, pr, os_draw)
    for step, i in moves:
        if int(i) == c.early or not 0 <= int(i) < len(post):
            raise ValueError(f"move {step}: patient index {i} cannot be re-drawn")
        _redraw_patient(seed, c, pr, post, int(step), int(i))
    return c, _outcomes(pr, post)


def _finish(c: _Conditioned, raw: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Apply the monotone day map; check the draws are consistent with the times."""
    pfs, _, os_, _ = raw
    t = PAPER_TARGETS
    pfs_d, os_d = rescale_times(pfs, os_, os_min=t["os_min_days"], os_median=t["os_median_days"],
                                os_max=t["os_max_days"])
    # every patient with a first follow-up draw was alive on its day
    if np.any(os_d[c.has_fu] <= c.mk.day1[c.has_fu]):
        raise ValueError("a patient with a first follow-up draw died or was censored before it")
    if os_d[c.early] >= c.mk.day1[c.early]:
        raise ValueError("the early-death patient outlived the first follow-up day")
    return pfs_d, os_d


def calibrated_cohort(seed: int, pfs_draw: int = 0, os_draw: int = 0,
                      params: ModelParams | dict | None = None, moves: Any = ()) -> Cohort:
    """The model conditioned on the published counts, with the given survival draws.

    Parameters
    ----------
    seed : int
        Seed of the patients and CTC draws (and of the survival streams).
    pfs_draw, os_draw : int
        Index of the (progression, death without progression, censoring, visits) draw
        and of the survival-after-progression draw of the whole cohort.
    params : ModelParams or dict, optional
        Model parameters (defaults: ``ModelParams()``).
    moves : sequence of (step, patient index)
        Re-draws of single patients' survival applied in order (the outcome of
        ``calibrate``); step ``s`` uses random stream ``(seed, 3, s)``.

    Returns
    -------
    Cohort
        52 patients; times mapped by ``rescale_times`` to the paper's follow-up.
    """
    p = _params(params)
    moves = [(int(s), int(i)) for s, i in moves]
    c, raw = _build_conditioned(seed, pfs_draw, os_draw, p, moves)
    pfs_d, os_d = _finish(c, raw)
    patients, ctc = _assemble(c.pat, c.mk, c.has_fu, pfs_d, raw[1], os_d, raw[3])
    t = PAPER_TARGETS
    meta = {
        "description": (
            "SYNTHETIC cohort: simulated patients, not real ones. The patient-level data of "
            "Hayashi et al. (2012) are not public; this cohort was drawn from the ctcbook "
            "generative model conditioned on the counts the paper reports, and single "
            "patients' survival was re-drawn from the model until every published p-value "
            "printed as in the abstract. It reproduces the paper by construction and is no "
            "evidence about real patients."
        ),
        "seed": int(seed),
        "n": int(t["n"]),
        "model_version": MODEL_VERSION,
        "pfs_draw": int(pfs_draw),
        "os_draw": int(os_draw),
        "redraws_kept": len(moves),
        "generated_by": REGENERATE_COMMAND,
        "calibrated_by": CALIBRATE_COMMAND,
        "conditioned_on": {k: v for k, v in t.items() if k != "n"},
        "params": p.to_dict(),
    }
    return Cohort(patients, ctc, source=f"simulated (seed={int(seed)})", synthetic=True,
                  metadata=meta)
