"""The seeded generator of synthetic cohorts (the generative model of the book's cohort).

The patient-level data of Hayashi et al. (2012) are not public. The book ships a
**synthetic** cohort of 52 patients drawn from the generative model below and
calibrated so that every number the abstract reports is reproduced as printed
(counts and follow-up exactly, p-values to the printed three decimals). Nothing in a
synthetic cohort is evidence about real patients.

The generative model
--------------------
``ModelParams`` holds every number of it; ``data/README.md`` ("Provenance and assumptions",
the book's Data dictionary page) lists each with its source, and what the model gives
overall, in one place.

* Patients are independent: age, primary HER2, hormone receptor, prior therapies for
  metastatic disease, the therapy of the new line (by primary HER2 and hormone receptor:
  HER2-targeted only for HER2-positive primaries, endocrine only for hormone-receptor-
  positive tumours) and visceral metastasis come from fixed distributions.
* CTCs (CellSearch, per 7.5 mL), Poisson-lognormal with a patient effect: patient
  log-intensity ``L ~ Normal(mu, sigma)``; baseline count ``~ Poisson(exp(L + tau * e0))``,
  first follow-up count ``~ Poisson(exp(L + delta + tau * e1))`` with
  ``e0, e1 ~ Normal(0, 1)`` (many zeros, a long right tail, correlated draws). A patient
  has a HER2-positive CTC clone with a probability that depends on the primary; with one,
  a share ``f ~ Beta(a, b)`` of the CTCs is HER2-positive at baseline and ``f / 2`` at
  first follow-up (therapy assumed to clear HER2-positive cells preferentially); the
  HER2-positive count of a draw is ``Binomial(count, share)``. The first follow-up draw
  is on day 21..28, missing when the patient died before it or missed at random.
* Survival (days from the baseline draw; model version 2): proportional hazards with
  Weibull baselines and a shared log-normal frailty; the covariates of every hazard are
  the number of prior therapies, >= 5 CTCs at baseline, >= 5 CTCs at first follow-up and
  HER2-positive CTCs (>= 1) at first follow-up (the latent draw, also when it is missing).
  Progression is **found** at the first restaging visit after it happens (visits every
  63 days, each moved by up to +-7 days); death without progression and survival after
  progression have Weibull hazards of their own. OS = death; PFS = the earlier of the
  visit that finds progression and death. Censoring is administrative (uniform accrual,
  then a fixed analysis date): OS at that time, PFS at the last restaging visit before
  it, so PFS <= OS always.

The shipped cohort (``data/``) is this model conditioned on the published counts
(:mod:`ctcbook.simulation.conditioned`) and calibrated to the paper's p-values
(:mod:`ctcbook.simulation.calibration`).

Regenerate the shipped files (seconds, byte-identical): ``python -m
ctcbook.simulation.synthetic --out data``. Re-run the search (about 30 s of CPU):
``python -m ctcbook.simulation.synthetic --calibrate`` (add ``--record`` to write its outcome).
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.cohort.io import CTC_COLUMNS, PATIENT_COLUMNS, Cohort

__all__ = [
    "MODEL_VERSION",
    "ModelParams",
    "simulate_cohort",
]

#: Version of the generative model; bump it whenever a change alters any draw.
MODEL_VERSION = "2.0"

#: The command that rebuilds the shipped cohort (recorded in ``data/cohort.yaml``).
REGENERATE_COMMAND = "python -m ctcbook.simulation.synthetic --out data"
#: The command that re-runs the calibration search (prints the spec to record).
CALIBRATE_COMMAND = "python -m ctcbook.simulation.synthetic --calibrate"

PRIMARY_LEVELS = ("negative", "positive", "unknown")
THERAPIES = ("chemotherapy", "endocrine", "anti_her2", "combination", "other")


@dataclass(frozen=True)
class ModelParams:
    """Every number of the generative model (see the module docstring).

    Override any of them with ``simulate_cohort(params={...})``.
    """

    # --- patients ---------------------------------------------------------------
    age_mean: float = 56.0
    age_sd: float = 11.0
    age_min: int = 28
    age_max: int = 85
    #: P(primary HER2 = negative, positive, unknown)
    primary_probs: tuple[float, float, float] = (33 / 52, 17 / 52, 2 / 52)
    hr_unknown_prob: float = 0.04
    #: P(hormone receptor positive | primary negative, positive, unknown)
    hr_positive_prob: tuple[float, float, float] = (0.75, 0.50, 0.60)
    #: P(prior therapies = 0, 1, ..., 5)
    prior_probs: tuple[float, ...] = (0.30, 0.25, 0.19, 0.13, 0.08, 0.05)
    #: therapy probabilities, in the order of THERAPIES, for each patient group
    therapy_mix: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("her2_positive", (0.20, 0.10, 0.60, 0.05, 0.05)),
        ("hr_positive", (0.45, 0.35, 0.00, 0.12, 0.08)),
        ("hr_negative_or_unknown", (0.80, 0.00, 0.00, 0.12, 0.08)),
    )
    visceral_prob: float = 0.60
    # --- CTCs ---------------------------------------------------------------------
    ctc_log_mean: float = 1.45
    ctc_log_sd: float = 2.4
    ctc_draw_sd: float = 0.7
    ctc_follow_up_shift: float = -1.35
    #: P(HER2-positive CTC clone | primary negative, positive, unknown)
    her2_clone_prob: tuple[float, float, float] = (0.38, 0.55, 0.45)
    her2_fraction_beta: tuple[float, float] = (1.5, 3.0)
    #: the HER2-positive share at first follow-up relative to baseline (therapy effect)
    her2_follow_up_ratio: float = 0.5
    follow_up_day_range: tuple[int, int] = (21, 28)
    missed_draw_prob: float = 0.03
    # --- survival -----------------------------------------------------------------
    frailty_sd: float = 0.5
    progression_shape: float = 1.2
    progression_median_days: float = 420.0
    #: log-HR of progression: per prior therapy, >= 5 CTCs at baseline, >= 5 CTCs at
    #: first follow-up, HER2+ CTC at first follow-up
    progression_log_hr: tuple[float, float, float, float] = (0.25, 0.20, 0.85, 1.00)
    death_shape: float = 1.0
    death_median_days: float = 6000.0
    post_progression_shape: float = 1.4
    post_progression_median_days: float = 1000.0
    #: log-HR of death (without progression and after it), in the same order
    death_log_hr: tuple[float, float, float, float] = (0.30, 0.40, 0.75, 0.40)
    #: restaging (imaging) visits every this many days, each moved by up to +-jitter days;
    #: progression is found at the first visit after it happens
    assessment_interval_days: int = 63
    assessment_jitter_days: int = 7
    accrual_days: float = 700.0
    extra_follow_up_days: float = 580.0

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (YAML-safe), field order."""

        def plain(v: Any) -> Any:
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            return v

        return {k: plain(v) for k, v in asdict(self).items()}


def _params(params: ModelParams | dict | None) -> ModelParams:
    if params is None:
        return ModelParams()
    if isinstance(params, ModelParams):
        return params
    unknown = set(params) - set(ModelParams.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown model parameter(s): {sorted(unknown)}")

    def frozen(v: Any) -> Any:
        return tuple(frozen(x) for x in v) if isinstance(v, list | tuple) else v

    return replace(ModelParams(), **{k: frozen(v) for k, v in params.items()})


def _stream(seed: int, *key: int) -> np.random.Generator:
    """An independent, platform-independent random stream for ``(seed, *key)``.

    ``_stream(seed)`` is ``numpy.random.default_rng(seed)``.
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(key)))


# --------------------------------------------------------------------------------------
# blocks of the model
# --------------------------------------------------------------------------------------


@dataclass
class _Patients:
    primary: np.ndarray  # codes into PRIMARY_LEVELS
    hr: np.ndarray  # "positive"/"negative"/"unknown"
    age: np.ndarray
    prior: np.ndarray
    therapy: np.ndarray
    visceral: np.ndarray


def _draw_patients(rng: np.random.Generator, p: ModelParams, primary: np.ndarray | None,
                   n: int) -> _Patients:
    if primary is None:
        primary = rng.choice(3, size=n, p=np.asarray(p.primary_probs) / sum(p.primary_probs))
    u_unknown = rng.random(n)
    u_hr = rng.random(n)
    hr_pos = u_hr < np.asarray(p.hr_positive_prob)[primary]
    hr = np.where(u_unknown < p.hr_unknown_prob, "unknown", np.where(hr_pos, "positive", "negative"))
    age = np.clip(np.rint(rng.normal(p.age_mean, p.age_sd, n)), p.age_min, p.age_max).astype(np.int64)
    prior = rng.choice(len(p.prior_probs), size=n,
                       p=np.asarray(p.prior_probs) / sum(p.prior_probs)).astype(np.int64)
    mix = dict(p.therapy_mix)
    group = np.where(primary == 1, "her2_positive",
                     np.where(hr == "positive", "hr_positive", "hr_negative_or_unknown"))
    u_t = rng.random(n)
    therapy = np.empty(n, dtype=object)
    for name, probs in mix.items():
        cum = np.cumsum(np.asarray(probs) / sum(probs))
        idx = np.minimum(np.searchsorted(cum, u_t, side="right"), len(THERAPIES) - 1)
        sel = group == name
        therapy[sel] = np.asarray(THERAPIES, dtype=object)[idx[sel]]
    visceral = (rng.random(n) < p.visceral_prob).astype(np.int64)
    return _Patients(primary, hr, age, prior, therapy, visceral)


@dataclass
class _Markers:
    count0: np.ndarray
    count1: np.ndarray  # latent first follow-up count (also when the draw is missing)
    her2_0: np.ndarray
    her2_1: np.ndarray
    day1: np.ndarray
    missed: np.ndarray  # missed at random (bool)


def _draw_markers(rng: np.random.Generator, p: ModelParams, primary: np.ndarray) -> _Markers:
    n = len(primary)
    z = rng.standard_normal((3, n))
    level = p.ctc_log_mean + p.ctc_log_sd * z[0]
    cap = math.log(1e5)  # CellSearch counts beyond ~1e5 are not meaningful; avoids overflow
    rate0 = np.exp(np.minimum(level + p.ctc_draw_sd * z[1], cap))
    rate1 = np.exp(np.minimum(level + p.ctc_follow_up_shift + p.ctc_draw_sd * z[2], cap))
    count0 = rng.poisson(rate0).astype(np.int64)
    count1 = rng.poisson(rate1).astype(np.int64)
    clone = rng.random(n) < np.asarray(p.her2_clone_prob)[primary]
    a, b = p.her2_fraction_beta
    frac = np.where(clone, rng.beta(a, b, n), 0.0)
    her2_0 = rng.binomial(count0, frac).astype(np.int64)
    her2_1 = rng.binomial(count1, frac * p.her2_follow_up_ratio).astype(np.int64)
    lo, hi = p.follow_up_day_range
    day1 = rng.integers(lo, hi + 1, n).astype(np.int64)
    missed = rng.random(n) < p.missed_draw_prob
    return _Markers(count0, count1, her2_0, her2_1, day1, missed)


def _weibull(rng: np.random.Generator, shape: float, median: float, log_hr: np.ndarray) -> np.ndarray:
    """Weibull PH times: S(t) = exp(-(t/scale)^shape * exp(log_hr)), S(median) = 1/2 at log_hr 0."""
    scale = median / math.log(2.0) ** (1.0 / shape)
    e = rng.standard_exponential(len(log_hr))
    return scale * (e * np.exp(-log_hr)) ** (1.0 / shape)


@dataclass
class _Progression:
    frailty: np.ndarray  # log frailty
    prog: np.ndarray  # latent progression (when it happens, not when it is found)
    death0: np.ndarray  # death without progression (latent)
    censor: np.ndarray
    visits: np.ndarray  # (n, k) restaging visit days, increasing in each row


def _linear_predictors(p: ModelParams, pat: _Patients, mk: _Markers) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([pat.prior, mk.count0 >= 5, mk.count1 >= 5, mk.her2_1 >= 1]).astype(float)
    return x @ np.asarray(p.progression_log_hr), x @ np.asarray(p.death_log_hr)


def _draw_visits(rng: np.random.Generator, p: ModelParams, n: int) -> np.ndarray:
    """Restaging visit days ``k * interval + jitter`` (k = 1, 2, ...) past the longest
    possible follow-up (``accrual_days + extra_follow_up_days``)."""
    step, jit = int(p.assessment_interval_days), int(p.assessment_jitter_days)
    if step < 1 or jit < 0 or 2 * jit >= step:
        raise ValueError("need assessment_interval_days >= 1 and 0 <= 2 * jitter < interval")
    k = int(math.ceil((p.accrual_days + p.extra_follow_up_days + jit) / step)) + 1
    planned = step * np.arange(1, k + 1, dtype=np.int64)
    return planned[None, :] + rng.integers(-jit, jit + 1, size=(n, k))


def _draw_progression(rng: np.random.Generator, p: ModelParams, lp_prog: np.ndarray,
                      lp_death: np.ndarray) -> _Progression:
    n = len(lp_prog)
    frailty = p.frailty_sd * rng.standard_normal(n)
    prog = _weibull(rng, p.progression_shape, p.progression_median_days, lp_prog + frailty)
    death0 = _weibull(rng, p.death_shape, p.death_median_days, lp_death + frailty)
    entry = rng.random(n) * p.accrual_days
    censor = p.accrual_days + p.extra_follow_up_days - entry
    visits = _draw_visits(rng, p, n)
    return _Progression(frailty, prog, death0, censor, visits)


def _redraw_progression(rng: np.random.Generator, p: ModelParams, lp_prog: np.ndarray,
                        lp_death: np.ndarray, pr: _Progression, ok) -> None:
    """Re-draw (frailty, progression, death without progression) where ``ok`` fails.

    Rejection sampling per patient: the result is the model's distribution conditioned
    on ``ok``. ``ok(frailty, prog, death0, idx)`` returns a boolean array.
    """
    need = ~ok(pr.frailty, pr.prog, pr.death0, np.arange(len(lp_prog)))
    for _ in range(100_000):
        if not need.any():
            return
        idx = np.flatnonzero(need)
        f = p.frailty_sd * rng.standard_normal(len(idx))
        pg = _weibull(rng, p.progression_shape, p.progression_median_days, lp_prog[idx] + f)
        d0 = _weibull(rng, p.death_shape, p.death_median_days, lp_death[idx] + f)
        good = ok(f, pg, d0, idx)
        take = idx[good]
        pr.frailty[take], pr.prog[take], pr.death0[take] = f[good], pg[good], d0[good]
        need[take] = False
    raise RuntimeError("rejection sampling of survival did not finish")  # pragma: no cover


def _first_visit_after(visits: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Day of the first visit on or after ``t`` (inf when none), row by row."""
    after = visits >= t[:, None]
    found = after.any(axis=1)
    day = visits[np.arange(len(t)), np.argmax(after, axis=1)].astype(float)
    return np.where(found, day, np.inf)


def _last_visit_before(visits: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Day of the last visit on or before ``t`` (0 when none), row by row."""
    before = visits <= t[:, None]
    k = before.sum(axis=1)
    day = visits[np.arange(len(t)), np.maximum(k - 1, 0)].astype(float)
    return np.where(k > 0, day, 0.0)


def _outcomes(pr: _Progression, post: np.ndarray) -> tuple[np.ndarray, ...]:
    """Observed (pfs, pfs_event, os, os_event) in days.

    Death (without progression, or progression + survival after it) happens in
    continuous time. Progression is *found* at the first restaging visit after it
    happened; a death before that visit is the PFS event. A patient alive without
    documented progression at the censoring time is censored for PFS at the last
    visit before it (the last assessment without progression) and for OS at the
    censoring time (last contact).
    """
    progressed = pr.prog < pr.death0
    death = np.where(progressed, pr.prog + post, pr.death0)
    found = np.where(progressed, _first_visit_after(pr.visits, pr.prog), np.inf)
    first = np.minimum(found, death)
    pfs_event = (first <= pr.censor).astype(np.int64)
    last = _last_visit_before(pr.visits, pr.censor)
    pfs = np.where(pfs_event == 1, first, np.where(last > 0, last, pr.censor))
    os_ = np.minimum(death, pr.censor)
    os_event = (death <= pr.censor).astype(np.int64)
    return pfs, pfs_event, os_, os_event


# --------------------------------------------------------------------------------------
# assembling a cohort
# --------------------------------------------------------------------------------------


def _patient_ids(n: int) -> list[str]:
    width = max(3, len(str(n)))
    return [f"P{i:0{width}d}" for i in range(1, n + 1)]


def _assemble(pat: _Patients, mk: _Markers, has_follow_up: np.ndarray, pfs: np.ndarray,
              pfs_event: np.ndarray, os_: np.ndarray, os_event: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(pat.age)
    ids = _patient_ids(n)
    patients = pd.DataFrame({
        "patient_id": ids,
        "age_years": pat.age.astype(np.int64),
        "primary_her2": np.asarray(PRIMARY_LEVELS, dtype=object)[pat.primary],
        "hormone_receptor": pat.hr.astype(object),
        "prior_therapies": pat.prior.astype(np.int64),
        "therapy": pat.therapy.astype(object),
        "visceral_metastasis": pat.visceral.astype(np.int64),
        "pfs_days": np.asarray(pfs, dtype=np.int64),
        "pfs_event": np.asarray(pfs_event, dtype=np.int64),
        "os_days": np.asarray(os_, dtype=np.int64),
        "os_event": np.asarray(os_event, dtype=np.int64),
    }, columns=list(PATIENT_COLUMNS))
    base = pd.DataFrame({
        "patient_id": ids, "timepoint": "baseline", "day": np.zeros(n, dtype=np.int64),
        "ctc_count": mk.count0, "her2_positive_ctc": mk.her2_0, "_order": np.arange(n) * 2,
    })
    fu = pd.DataFrame({
        "patient_id": ids, "timepoint": "first_follow_up", "day": mk.day1,
        "ctc_count": mk.count1, "her2_positive_ctc": mk.her2_1, "_order": np.arange(n) * 2 + 1,
    })[has_follow_up]
    ctc = (pd.concat([base, fu], ignore_index=True).sort_values("_order", kind="stable")
           .drop(columns="_order").reset_index(drop=True))
    ctc = ctc[list(CTC_COLUMNS)].astype({"day": np.int64, "ctc_count": np.int64,
                                         "her2_positive_ctc": np.int64})
    return patients, ctc


def simulate_cohort(n: int = 52, seed: int = 0, params: ModelParams | dict | None = None) -> Cohort:
    """Draw a synthetic cohort of ``n`` patients from the generative model.

    Parameters
    ----------
    n : int, default 52
        Number of patients (any n >= 1; n = 10,000 takes well under a second).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same cohort, on
        any platform.
    params : ModelParams or dict, optional
        Model parameters, or a dict overriding some of the defaults.

    Returns
    -------
    Cohort
        ``synthetic=True``, ``source="simulated (seed=S)"``; ``metadata`` records the
        seed, n, the model version and the parameters. Unlike the shipped cohort, the
        draw is not conditioned on the paper's numbers: its counts and p-values vary
        from seed to seed.
    """
    n = int(n)
    if n < 1:
        raise ValueError("n must be >= 1")
    p = _params(params)
    rng = _stream(seed)
    pat = _draw_patients(rng, p, None, n)
    mk = _draw_markers(rng, p, pat.primary)
    lp_prog, lp_death = _linear_predictors(p, pat, mk)
    pr = _draw_progression(_stream(seed, 1, 0), p, lp_prog, lp_death)
    post = _weibull(_stream(seed, 2, 0), p.post_progression_shape,
                    p.post_progression_median_days, lp_death + pr.frailty)
    pfs, pfs_event, os_, os_event = _outcomes(pr, post)
    pfs_d = np.maximum(np.ceil(pfs), 1)
    os_d = np.maximum(np.ceil(os_), 1)
    has_fu = (os_ >= mk.day1) & ~mk.missed
    patients, ctc = _assemble(pat, mk, has_fu, pfs_d, pfs_event, os_d, os_event)
    meta = {
        "description": (
            f"SYNTHETIC cohort of {n} simulated patients (not real patients), drawn from "
            "the ctcbook generative model; not conditioned on the published numbers."
        ),
        "seed": int(seed),
        "n": n,
        "model_version": MODEL_VERSION,
        "generated_by": f"python -m ctcbook simulate --n {n} --seed {int(seed)}",
        "params": p.to_dict(),
    }
    return Cohort(patients, ctc, source=f"simulated (seed={int(seed)})", synthetic=True,
                  metadata=meta)


if __name__ == "__main__":
    # the command line (documented as this module's) lives with the calibration it replays
    from ctcbook.simulation.calibration import main

    sys.exit(main())
