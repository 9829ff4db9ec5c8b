"""The paper's published numbers and the analysis choices it made.

Everything the abstract of Hayashi et al. (2012) reports is in ``published.yaml``
(shipped with the package). The analysis choices the book treats as "the paper's"
are constants here, so the chapters, the explorers, the calibration of the
synthetic cohort and the scorecard all use the same ones.

References
----------
.. [1] Hayashi N, Nakamura S, Tokuda Y, et al. Prognostic value of HER2-positive
   circulating tumor cells in patients with metastatic breast cancer.
   Int J Clin Oncol 2012;17(2):96-104. doi:10.1007/s10147-011-0260-0
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

#: CellSearch rule: a patient is CTC-positive with >= 5 CTCs per 7.5 mL of blood.
CTC_THRESHOLD = 5
#: The timepoint of the paper's headline comparison (6 vs 43 patients).
TIMEPOINT = "first_follow_up"
#: Endpoints: name -> (duration column, event column, label).
ENDPOINTS = {
    "pfs": ("pfs_days", "pfs_event", "Progression-free survival"),
    "os": ("os_days", "os_event", "Overall survival"),
}
#: The book's multivariate Cox model (the abstract names its significant factors only:
#: HER2+ CTCs at first follow-up and prior therapies for PFS; prior therapies and
#: >= 5 CTCs at baseline for OS). The book fits the same three covariates for both.
MULTIVARIATE_COVARIATES = ("her2_pos_first_follow_up", "ctc_pos_baseline", "prior_therapies")


@cache
def published() -> dict[str, Any]:
    """Return the published numbers (a nested dict read from ``published.yaml``)."""
    text = resources.files("ctcbook.cohort").joinpath("published.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


#: Days per month (365.25 / 12), as on every time axis of the book.
DAYS_PER_MONTH = 30.4375

#: Display names of the covariates used in the book's Cox models.
COVARIATE_LABELS: dict[str, str] = {
    "her2_pos_first_follow_up": "HER2+ CTCs at first follow-up",
    "her2_pos_baseline": "HER2+ CTCs at baseline",
    "her2_pos_any": "HER2+ CTCs at any time",
    "ctc_pos_baseline": f"≥ {CTC_THRESHOLD} CTCs at baseline",
    "ctc_pos_first_follow_up": f"≥ {CTC_THRESHOLD} CTCs at first follow-up",
    "prior_therapies": "Prior lines of therapy (per line)",
    "age_per_10_years": "Age (per 10 years)",
    "primary_her2_negative": "HER2-negative primary tumour",
    "hormone_receptor_positive": "Hormone receptor positive",
    "visceral_metastasis": "Visceral metastasis",
}


def format_p(p: float) -> str:
    """A p-value for prose and tables: ``"< 0.001"``, 3 decimals below 0.1, else 2.

    >>> format_p(0.0004), format_p(0.0132), format_p(0.43)
    ('< 0.001', '0.013', '0.43')
    """
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    if p < 0.0995:
        return f"{p:.3f}"
    return f"{p:.2f}"


def format_hr(hr: float, lower: float, upper: float) -> str:
    """A hazard ratio with its 95% CI, e.g. ``"3.1 (1.4-6.9)"``; ``"n/a"`` when NaN."""
    if not all(np.isfinite([hr, lower, upper])):
        return "n/a"

    def f(x: float) -> str:
        return f"{x:.2f}" if x < 10 else f"{x:.1f}"

    return f"{f(hr)} ({f(lower)}-{f(upper)})"
