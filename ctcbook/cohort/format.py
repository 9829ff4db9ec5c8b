"""The cohort format: its files and columns, the :class:`Cohort`, and the problems found in one.

A cohort is a folder with two UTF-8 CSV files (see ``data/README.md``):
``patients.csv`` (one row per patient) and ``ctc.csv`` (one row per blood draw),
and an optional ``cohort.yaml`` with metadata. A problem with a cohort is a
:class:`Problem` (file, row, column and a plain-language message); :class:`CohortError`
lists every problem found. Reading the files is :mod:`ctcbook.cohort.reading`, checking
their values :mod:`ctcbook.cohort.checks`, loading and writing :mod:`ctcbook.cohort.io`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import pandas as pd

#: Environment variable naming the cohort folder the book is built on.
DATA_ENV = "CTCBOOK_DATA"


def _shipped() -> Path:
    """The shipped cohort: in a wheel, ``ctcbook/cohort/shipped/`` (``setup.py`` copies the
    repository's ``data/`` there); in a source checkout, ``data/`` itself (one copy)."""
    here = Path(__file__).resolve().parent
    packaged = here / "shipped"
    return packaged if packaged.is_dir() else here.parents[1] / "data"


#: The shipped synthetic cohort (the repository's ``data/`` folder, or its copy in a wheel).
SHIPPED = _shipped()

PATIENT_COLUMNS = (
    "patient_id", "age_years", "primary_her2", "hormone_receptor", "prior_therapies",
    "therapy", "visceral_metastasis", "pfs_days", "pfs_event", "os_days", "os_event",
)
CTC_COLUMNS = ("patient_id", "timepoint", "day", "ctc_count", "her2_positive_ctc")

PATIENTS_FILE = "patients.csv"
CTC_FILE = "ctc.csv"
METADATA_FILE = "cohort.yaml"

#: Allowed labels of the categorical columns (exact, lower case).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "primary_her2": ("positive", "negative", "unknown"),
    "hormone_receptor": ("positive", "negative", "unknown"),
    "therapy": ("chemotherapy", "endocrine", "anti_her2", "combination", "other"),
}

#: The named timepoints; further draws are ``follow_up_2``, ``follow_up_3``, ...
TIMEPOINTS = ("baseline", "first_follow_up")

#: ``CohortError`` lists at most this many problems in its message (``.problems`` has all).
MAX_LISTED = 50

_FOLLOW_UP = re.compile(r"follow_up_([1-9][0-9]*)")


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
    #: What the loader read in a way other than written (e.g. ``"Positive"`` as
    #: ``"positive"``), one line per file, column and spelling; the files are unchanged.
    notes: tuple[str, ...] = ()

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


# --------------------------------------------------------------------------------------
# Problems and the error


@dataclass(frozen=True)
class Problem:
    """One problem found in a cohort.

    ``file`` is the file name (``"patients.csv"``, ``"ctc.csv"``, ``"cohort.yaml"``) or,
    for a problem with the folder itself, the folder. ``row`` is the line number in the
    file as a spreadsheet shows it (the header is row 1, the first patient row 2), or
    None when the problem is not about one row. ``column`` is the column name or None.
    ``patient`` is the row's ``patient_id`` when known (shown to help find the row).
    """

    file: str
    row: int | None
    column: str | None
    message: str
    patient: str | None = None
    #: Problems of one file and column with the same ``group`` (e.g. "look like dates")
    #: are listed as one line when there are several (see :func:`summarise_problems`).
    group: str | None = None
    advice: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
            if self.patient:
                where += f" (patient {self.patient})"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}" if where else self.message


class CohortError(ValueError):
    """A cohort folder (or table) is not valid.

    ``problems`` lists every problem found (a list of :class:`Problem`); ``str()`` lists
    them in plain language, at most ``MAX_LISTED`` of them followed by "and N more".
    """

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(format_problems(self.problems, source))

    def __reduce__(self):  # keep it picklable (joblib workers raise it)
        return (type(self), (self.problems, self.source))


#: A group of at least this many problems (same file, column and kind) is listed as one line.
SUMMARY_MIN = 3


def _ranges(rows: list[int]) -> str:
    """Row numbers as ranges: [2, 3, 4, 7] -> "2-4, 7" (a run has a constant row - position)."""
    runs = [[r for _, r in run] for _, run in
            groupby(enumerate(sorted(set(rows))), key=lambda ir: ir[1] - ir[0])]
    return ", ".join(str(a[0]) if len(a) == 1 else f"{a[0]}-{a[-1]}" for a in runs)


def summarise_problems(problems: list[Problem], min_count: int = SUMMARY_MIN) -> list[Problem]:
    """Collapse problems of the same file, column and kind into one line per column.

    Forty-nine dates in ``pfs_days`` read as one problem, "column pfs_days: 49 cells look
    like dates (rows 2, 3, 4, ...; e.g. "2011-03-04"); give days since ...", instead of 49
    lines. Problems without a ``group``, and groups of fewer than ``min_count``, are kept
    as they are. The summary takes the place of the group's first problem.
    """
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        if p.group is not None and p.column is not None:
            groups.setdefault((p.file, p.column, p.group), []).append(p)
    out: list[Problem] = []
    done: set[tuple] = set()
    for p in problems:
        key = (p.file, p.column, p.group)
        members = groups.get(key) if p.group is not None else None
        if not members or len(members) < min_count:
            out.append(p)
            continue
        if key in done:
            continue
        done.add(key)
        shown = _ranges([m.row for m in members if m.row is not None])
        example = members[0].message.split(" ", 1)[0] if members[0].message.startswith('"') else ""
        message = (f"{len(members)} cells {p.group} (rows {shown}"
                   f"{'; e.g. ' + example if example else ''})")
        if p.advice:
            message += f"; {p.advice}"
        out.append(Problem(p.file, None, p.column, message))
    return out


def format_problems(
    problems: list[Problem], source: str | None = None, limit: int | None = MAX_LISTED,
    width: int | None = None,
) -> str:
    """Format problems as an indented list with a heading (``limit=None``: list all).

    Many problems of one kind in one column are listed as one line
    (:func:`summarise_problems`); the heading counts every cell. ``width`` wraps long
    lines (for a page or a terminal), with a hanging indent.
    """
    n = len(problems)
    head = f"{source}: " if source else ""
    head += f"not a valid cohort, {n} problem{'s' if n != 1 else ''}:"
    listed = summarise_problems(problems)
    shown = listed if limit is None else listed[:limit]
    lines = [head] + [f"  - {p}" for p in shown]
    if len(shown) < len(listed):
        lines.append(f"  ... and {len(listed) - len(shown)} more")
    if width is not None:
        import textwrap

        lines = [textwrap.fill(line, width, subsequent_indent="      " if line.startswith("  - ")
                               else "  ", break_long_words=False, break_on_hyphens=False)
                 for line in lines]
    return "\n".join(lines)


def quote(text: str, limit: int = 40) -> str:
    """Quote a cell for a message (escape control characters, shorten long text)."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


def timepoint_order(name: str) -> int | None:
    """Order of a timepoint label: baseline 0, first_follow_up 1, follow_up_N N; else None."""
    if name == "baseline":
        return 0
    if name == "first_follow_up":
        return 1
    m = _FOLLOW_UP.fullmatch(name)
    if m and int(m.group(1)) >= 2:
        return int(m.group(1))
    return None


def format_notes(notes: dict) -> tuple[str, ...]:
    """One line per file, column and spelling read differently, e.g.
    ``patients.csv, column primary_her2: read "Positive" as "positive" (rows 3, 9)``."""
    lines = []
    first_seen = {key[:2]: i for i, key in reversed(list(enumerate(notes)))}
    for (file, column, written, read), rows in sorted(
            notes.items(), key=lambda kv: first_seen[kv[0][:2]]):
        if column is None:
            lines.append(f"{file}: {written}")
            continue
        shown = _ranges(rows)
        lines.append(f"{file}, column {column}: read {quote(written)} as {quote(read)} "
                     f"(row{'s' if len(rows) > 1 else ''} {shown})")
    return tuple(lines)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems in the order a user fixes them: the folder, patients.csv, ctc.csv,
    cohort.yaml, each by row."""
    rank = {PATIENTS_FILE: 1, CTC_FILE: 2, METADATA_FILE: 3}
    return sorted(problems, key=lambda p: (rank.get(p.file, 0), p.row or 0))


