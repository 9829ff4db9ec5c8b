"""Loading and writing a cohort folder.

:func:`load_cohort` reads and checks a folder and returns a :class:`Cohort`; on any
problem it raises :class:`CohortError`, which lists *every* problem found (file, row,
column and a plain-language message). :func:`validate_cohort` returns the same list
of :class:`Problem` without raising. Nothing in the folder is ever modified.
The format itself is :mod:`ctcbook.cohort.format`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctcbook.cohort.checks import check_tables
from ctcbook.cohort.format import (
    CTC_COLUMNS,
    CTC_FILE,
    DATA_ENV,
    METADATA_FILE,
    PATIENT_COLUMNS,
    PATIENTS_FILE,
    SHIPPED,
    Cohort,
    CohortError,
    Problem,
    cohort_path,
    format_notes,
    format_problems,
    quote,
    sort_problems,
)
from ctcbook.cohort.reading import decode_text, read_table

#: ``from ctcbook.cohort.io import ...`` keeps giving the cohort's public names (users'
#: scripts and notebook 20 import them from here); they are defined in ``format``.
__all__ = [
    "CTC_COLUMNS", "DATA_ENV", "PATIENT_COLUMNS", "SHIPPED", "Cohort", "CohortError", "Problem",
    "cohort_path", "format_problems", "load_cohort", "validate_cohort", "whole_numbers",
    "write_cohort",
]


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


# --------------------------------------------------------------------------------------
# The folder


def _read_metadata(folder: Path, problems: list[Problem]) -> dict[str, Any]:
    import yaml

    path = folder / METADATA_FILE
    if not path.exists():
        return {"synthetic": False}
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(METADATA_FILE, None, None, f"cannot be read: {exc.strerror or exc}"))
        return {}
    if b"\x00" in data:
        problems.append(Problem(METADATA_FILE, None, None, "is not a text file (it contains NUL bytes)"))
        return {}
    text = decode_text(METADATA_FILE, data, problems)
    if text is None:
        return {}
    try:
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or "cannot be parsed"
        problems.append(Problem(METADATA_FILE, line, None, f"is not valid YAML ({what})"))
        return {}
    except Exception as exc:  # pyyaml raises a few non-YAMLError errors on odd input
        problems.append(Problem(METADATA_FILE, None, None, f"is not valid YAML ({exc})"))
        return {}
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        problems.append(Problem(METADATA_FILE, None, None,
                                "must be a mapping of keys to values (e.g. 'synthetic: true')"))
        return {}
    meta = {str(k): v for k, v in meta.items()}
    synthetic = meta.get("synthetic", False)
    if not isinstance(synthetic, bool):
        problems.append(Problem(METADATA_FILE, None, "synthetic",
                                f"{quote(str(synthetic))} is not allowed; use true or false"))
    meta["synthetic"] = bool(synthetic) if isinstance(synthetic, bool) else False
    return meta


def _folder_problem(folder: Path, source: str) -> Problem | None:
    if not folder.exists():
        if folder == SHIPPED:
            return Problem(source, None, None, "the shipped cohort is missing: this ctcbook was "
                           "installed without its data folder; install it from the repository "
                           "or from a wheel built from it, or set CTCBOOK_DATA to a cohort folder")
        return Problem(source, None, None, "folder does not exist")
    if not folder.is_dir():
        hint = ""
        if folder.name in (PATIENTS_FILE, CTC_FILE, METADATA_FILE):
            parent = str(folder.parent) or "."
            hint = f"; give the folder that contains it ({parent})"
        return Problem(source, None, None,
                       "is a file, not a folder; a cohort is a folder with patients.csv and ctc.csv" + hint)
    return None


def _load(path: str | os.PathLike | None) -> tuple[str, list[Problem], Cohort | None]:
    folder = cohort_path(path)
    source = str(path) if path is not None else str(folder)
    problems: list[Problem] = []
    bad = _folder_problem(folder, source)
    if bad is not None:
        return source, [bad], None
    patients = read_table(folder, PATIENTS_FILE, PATIENT_COLUMNS, problems)
    ctc = read_table(folder, CTC_FILE, CTC_COLUMNS, problems)
    meta = _read_metadata(folder, problems)
    notes: dict = {}
    frames = check_tables(patients, ctc, problems, notes)
    if problems or frames is None:
        return source, sort_problems(problems), None
    synthetic = meta.pop("synthetic")
    return source, [], Cohort(frames[0], frames[1], source=source, synthetic=synthetic,
                              metadata=meta, notes=format_notes(notes))


def validate_cohort(path: str | os.PathLike | None = None) -> list[Problem]:
    """Check a cohort folder (resolved like :func:`load_cohort`); return every problem found.

    An empty list means the folder is a valid cohort. Nothing is modified.
    """
    return _load(path)[1]


def load_cohort(path: str | os.PathLike | None = None) -> Cohort:
    """Read and check a cohort folder and return it as a :class:`Cohort`.

    ``path`` is the folder; when None, ``$CTCBOOK_DATA``, else the shipped ``data/``.
    Columns are typed: ``prior_therapies``, ``visceral_metastasis``, the event codes,
    ``ctc_count`` and ``her2_positive_ctc`` as int64; ``age_years`` (NaN = unknown),
    ``pfs_days``, ``os_days`` and ``day`` as float64; ids, labels and extra columns as
    str. Rows keep the order of the files. ``source`` is the folder as given and
    ``synthetic`` comes from ``cohort.yaml`` (False when the file is absent); the
    other keys of ``cohort.yaml`` are in ``metadata``.

    Raises
    ------
    CohortError
        listing every problem found (``.problems``); nothing is modified.
    """
    source, problems, cohort = _load(path)
    if cohort is None:
        raise CohortError(problems, source)
    return cohort


def whole_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with float columns that hold only whole numbers as nullable ``Int64``.

    Counts and days are stored as floats wherever a value can be missing (NaN), so a table
    would show ``13.0`` and ``0.0``; this shows ``13`` and ``0`` (missing stays missing).
    Columns with any fractional value are left as they are.

    >>> whole_numbers(pd.DataFrame({"n": [13.0, 0.0, None], "x": [0.5, 1.0, 2.0]})).dtypes.tolist()
    [Int64Dtype(), dtype('float64')]
    """
    out = df.copy()
    for col in out.columns:
        values = out[col]
        if not pd.api.types.is_float_dtype(values):
            continue
        finite = values.dropna().to_numpy(dtype=float)
        if np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)) \
                and np.all(np.abs(finite) < 2**53):
            out[col] = values.astype("Int64")
    return out
