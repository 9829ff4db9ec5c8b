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

import yaml

#: CellSearch rule: a patient is CTC-positive with >= 5 CTCs per 7.5 mL of blood.
CTC_THRESHOLD = 5
#: The timepoint of the paper's headline comparison (6 vs 43 patients).
TIMEPOINT = "first_follow_up"
#: Timepoints in the cohort format, in order.
TIMEPOINTS = ("baseline", "first_follow_up")
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
    text = resources.files("ctcbook").joinpath("published.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
