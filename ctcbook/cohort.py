"""The cohort format, the validating loader and the writer.

A cohort is a folder with two UTF-8 CSV files (see ``data/README.md``):
``patients.csv`` (one row per patient) and ``ctc.csv`` (one row per blood draw).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: Environment variable naming the cohort folder the book is built on.
DATA_ENV = "CTCBOOK_DATA"

#: The shipped synthetic cohort (the repository's ``data/`` folder).
SHIPPED = Path(__file__).resolve().parents[1] / "data"

PATIENT_COLUMNS = (
    "patient_id", "age_years", "primary_her2", "hormone_receptor", "prior_therapies",
    "therapy", "visceral_metastasis", "pfs_days", "pfs_event", "os_days", "os_event",
)
CTC_COLUMNS = ("patient_id", "timepoint", "day", "ctc_count", "her2_positive_ctc")


@dataclass(frozen=True)
class Cohort:
    """A validated cohort.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient, the columns of ``PATIENT_COLUMNS`` first (extra columns kept).
    ctc : pandas.DataFrame
        One row per blood draw, the columns of ``CTC_COLUMNS`` first (extra columns kept).
    source : str
        Where the cohort came from (a folder, or ``"simulated (seed=...)"``).
    synthetic : bool
        True when the patient-level data are synthetic (never real patients).
    """

    patients: pd.DataFrame
    ctc: pd.DataFrame
    source: str = "in memory"
    synthetic: bool = True
    metadata: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.patients)

    @property
    def label(self) -> str:
        """A short label for captions: says "synthetic" when the data are synthetic."""
        return "synthetic cohort" if self.synthetic else "cohort"


def cohort_path(path: str | os.PathLike | None = None) -> Path:
    """Resolve the cohort folder: ``path``, else ``$CTCBOOK_DATA``, else the shipped one."""
    if path is not None:
        return Path(path)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return SHIPPED


def write_cohort(cohort: Cohort, path: str | os.PathLike) -> Path:
    """Write ``cohort`` as a cohort folder (``patients.csv``, ``ctc.csv``, ``cohort.yaml``).

    The output is byte-for-byte deterministic: fixed column order, ``\\n`` line endings,
    UTF-8 without BOM, and integers written without a decimal point.
    """
    import yaml

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("patients.csv", cohort.patients), ("ctc.csv", cohort.ctc)):
        frame.to_csv(out / name, index=False, lineterminator="\n", encoding="utf-8")
    meta = {"synthetic": bool(cohort.synthetic), "source": cohort.source, **cohort.metadata}
    (out / "cohort.yaml").write_text(
        yaml.safe_dump(meta, sort_keys=True, allow_unicode=True), encoding="utf-8"
    )
    return out
