"""Two groups compared on one endpoint, Cox tables of the paper's models, follow-up.

Every function returns a tidy ``pandas.DataFrame`` or a small frozen dataclass.

Conventions
-----------
* Times are stored in days and reported in months (1 month = 365.25 / 12 days).
* A binary marker column holds 1.0 / 0.0 and NaN where it was not measured; patients
  with NaN are left out of any comparison that uses the marker (complete cases).
* Hazard ratios come from Cox models (Efron ties, Wald intervals and p-values) fitted
  with :func:`ctcbook.stats.survival.cox`; a model that cannot be fitted (e.g. no events in
  one group of another cohort) gives NaN and a plain-language ``note``, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctcbook.cohort.paper import COVARIATE_LABELS, DAYS_PER_MONTH, ENDPOINTS, format_hr, format_p
from ctcbook.stats.survival import ModelError, cox, logrank, median_survival


def follow_up(table: pd.DataFrame) -> dict[str, float]:
    """Follow-up as the paper reports it: median and range of every patient's OS time.

    Also the reverse Kaplan-Meier median (censoring as the event), in days.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per patient with ``os_days`` and ``os_event``.

    Returns
    -------
    dict
        ``median_days``, ``min_days``, ``max_days``, ``reverse_km_median_days``.

    References
    ----------
    .. [1] Schemper M, Smith TL. A note on quantifying follow-up in studies of failure
       time. Control Clin Trials 1996;17:343-346. doi:10.1016/0197-2456(96)00075-X
    """
    t = table["os_days"].astype(float)
    rev = median_survival(t, 1 - table["os_event"].astype(int))
    return {
        "median_days": float(t.median()),
        "min_days": float(t.min()),
        "max_days": float(t.max()),
        "reverse_km_median_days": float(rev.median),
    }


def endpoint_columns(endpoint: str) -> tuple[str, str, str]:
    """The (duration, event, label) columns of ``"pfs"`` or ``"os"``; ValueError otherwise."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {sorted(ENDPOINTS)}, not {endpoint!r}")
    return ENDPOINTS[endpoint]


@dataclass(frozen=True)
class SurvivalComparison:
    """Two groups compared on one endpoint: medians, log-rank test and Cox hazard ratio.

    Attributes
    ----------
    endpoint : str
        ``"pfs"`` or ``"os"``.
    column : str
        The grouping column (1 = exposed group, 0 = reference).
    groups : pandas.DataFrame
        One row per group (reference first): ``group``, ``label``, ``n``, ``events``,
        ``expected`` (log-rank expected events), ``median_months``, ``median_lower``,
        ``median_upper`` (95% CI; ``inf`` = not reached).
    logrank_statistic, logrank_p : float
    hr, hr_lower, hr_upper, hr_p : float
        Cox hazard ratio of the exposed group vs the reference (NaN if not estimable).
    hr_note : str
        Why the hazard ratio is NaN, or "".
    n_excluded : int
        Patients without a value of ``column``.
    """

    endpoint: str
    column: str
    groups: pd.DataFrame
    logrank_statistic: float
    logrank_p: float
    hr: float
    hr_lower: float
    hr_upper: float
    hr_p: float
    hr_note: str
    n_excluded: int

    @property
    def exposed(self) -> pd.Series:
        """The row of the exposed group (value 1)."""
        return self.groups.iloc[1]

    @property
    def direction(self) -> str:
        """``"shorter"`` if the exposed group had more events than expected, else ``"longer"``.

        Based on the log-rank observed and expected events of the exposed group, so it
        is defined even when the hazard ratio is not.
        """
        e = self.exposed
        return "shorter" if e["events"] > e["expected"] else "longer"

    @property
    def note(self) -> str:
        """Two lines for a figure: log-rank p and the hazard ratio with its CI."""
        hr = ("HR not estimable" if not np.isfinite(self.hr)
              else f"HR {format_hr(self.hr, self.hr_lower, self.hr_upper)}")
        p = format_p(self.logrank_p)
        p = f"p {p}" if p.startswith("<") else f"p = {p}"
        return f"Log-rank {p}\n{hr}"


def compare_survival(
    table: pd.DataFrame,
    column: str,
    endpoint: str,
    labels: Mapping[float, str] | None = None,
) -> SurvivalComparison:
    """Compare survival between the patients with ``column == 1`` and ``column == 0``.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table.
    column : str
        A 0/1 marker column (NaN rows are left out).
    endpoint : {"pfs", "os"}
    labels : mapping, optional
        Display labels for 0 and 1.

    Returns
    -------
    SurvivalComparison

    Raises
    ------
    ValueError
        If either group is empty.
    """
    dur, ev, _ = endpoint_columns(endpoint)
    labels = {0.0: "no", 1.0: "yes", **{float(k): v for k, v in (labels or {}).items()}}
    keep = table[column].notna()
    d = table.loc[keep, [dur, ev, column]].astype(float)
    g = d[column]
    if not ((g == 0).any() and (g == 1).any()):
        raise ValueError(f"{column!r} needs patients with both 0 and 1 to compare groups")
    lr = logrank(d[dur], d[ev], g)
    lt = lr.table.set_index("group")
    rows = []
    for value in (0.0, 1.0):
        sub = d[g == value]
        m = median_survival(sub[dur] / DAYS_PER_MONTH, sub[ev])
        rows.append({
            "group": value, "label": labels[value], "n": len(sub), "events": int(sub[ev].sum()),
            "expected": float(lt.loc[value, "expected"]),
            "median_months": m.median, "median_lower": m.ci_lower, "median_upper": m.ci_upper,
        })
    try:
        s = cox(d, dur, ev, [column]).summary.loc[column]
        hr, lo, hi, p, note = s["hr"], s["hr_lower"], s["hr_upper"], s["p"], ""
    except ModelError as err:
        hr = lo = hi = p = float("nan")
        note = str(err)
    return SurvivalComparison(
        endpoint=endpoint, column=column, groups=pd.DataFrame(rows),
        logrank_statistic=lr.statistic, logrank_p=lr.p_value,
        hr=float(hr), hr_lower=float(lo), hr_upper=float(hi), hr_p=float(p), hr_note=note,
        n_excluded=int((~keep).sum()),
    )


# -------------------------------------------------------------------------- Cox tables


def with_derived(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with the model covariates derived from its columns:
    ``age_per_10_years`` and ``hormone_receptor_positive`` (NaN where unknown)."""
    t = table.copy()
    if "age_years" in t:
        t["age_per_10_years"] = t["age_years"] / 10.0
    if "hormone_receptor" in t:
        hr = t["hormone_receptor"]
        t["hormone_receptor_positive"] = np.where(hr == "unknown", np.nan, (hr == "positive") * 1.0)
    return t


def cox_table(
    table: pd.DataFrame,
    covariates: Sequence[str],
    endpoint: str,
    multivariate: bool = False,
) -> pd.DataFrame:
    """Hazard ratios from univariate (one model per covariate) or one multivariate Cox model.

    Parameters
    ----------
    table : pandas.DataFrame
        The one-row-per-patient table; ``age_per_10_years`` and
        ``hormone_receptor_positive`` (unknown = NaN) are derived when asked for.
    covariates : sequence of str
    endpoint : {"pfs", "os"}
    multivariate : bool
        False: one model per covariate, each on the patients with that covariate
        (complete cases). True: one model with all covariates, on the patients with
        all of them.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``model``, ``endpoint``, ``covariate``, ``label``, ``n``,
        ``events``, ``hr``, ``hr_lower``, ``hr_upper``, ``p``, ``note`` (why a row is NaN).
    """
    dur, ev, _ = endpoint_columns(endpoint)
    t = with_derived(table)
    model = "multivariate" if multivariate else "univariate"
    sets = [list(covariates)] if multivariate else [[c] for c in covariates]
    rows = []
    for covs in sets:
        d = t[[dur, ev, *covs]].dropna().astype(float)
        try:
            s = cox(d, dur, ev, covs).summary
            note = ""
        except ModelError as err:
            s, note = None, str(err)
        for c in covs:
            r = {"model": model, "endpoint": endpoint, "covariate": c,
                 "label": COVARIATE_LABELS.get(c, c), "n": len(d), "events": int(d[ev].sum())}
            if s is None:
                r.update(hr=np.nan, hr_lower=np.nan, hr_upper=np.nan, p=np.nan, note=note)
            else:
                r.update(hr=s.loc[c, "hr"], hr_lower=s.loc[c, "hr_lower"],
                         hr_upper=s.loc[c, "hr_upper"], p=s.loc[c, "p"], note="")
            rows.append(r)
    return pd.DataFrame(rows)


