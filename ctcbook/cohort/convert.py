"""Convert a one-row-per-patient ("wide") spreadsheet into a cohort, and back.

A clinician's spreadsheet usually has one row per patient: the patient columns of the
cohort format (``patient_id``, ``age_years``, ..., ``os_event``) and, for each blood
draw, its counts side by side::

    ctc_baseline, her2_ctc_baseline,
    ctc_first_follow_up, her2_ctc_first_follow_up, day_first_follow_up,
    ctc_follow_up_2, her2_ctc_follow_up_2, day_follow_up_2, ...

For a timepoint ``T`` (``baseline``, ``first_follow_up``, ``follow_up_2``, ...):

``ctc_T``
    CTCs per 7.5 mL (whole number >= 0).
``her2_ctc_T``
    HER2-positive CTCs (whole number, at most ``ctc_T``).
``day_T``
    Days from the baseline draw; required for follow-up draws. ``day_baseline`` may be
    left out (the baseline is day 0).

Empty ``ctc_T``, ``her2_ctc_T`` and ``day_T`` cells mean the draw is missing (no row in
``ctc.csv``). Every other column is kept as an extra patient column. :func:`from_wide`
checks everything :func:`ctcbook.cohort.io.load_cohort` checks, and reports problems in
terms of the wide table (its row and column), as a :class:`~ctcbook.cohort.format.CohortError`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd

from ctcbook.cohort.checks import check_tables
from ctcbook.cohort.format import (
    CTC_COLUMNS,
    PATIENT_COLUMNS,
    Cohort,
    CohortError,
    Problem,
    format_notes,
    sort_problems,
    timepoint_order,
)
from ctcbook.cohort.io import whole_numbers
from ctcbook.cohort.reading import Row, Table, read_table, table_from_frame

_DRAW_COLUMN = re.compile(r"(her2_ctc|ctc|day)_(.+)")
_KINDS = {"ctc": "ctc_count", "her2_ctc": "her2_positive_ctc", "day": "day"}


def wide_columns(timepoint: str) -> tuple[str, str, str]:
    """The wide column names of one timepoint: ``(ctc_T, her2_ctc_T, day_T)``."""
    return f"ctc_{timepoint}", f"her2_ctc_{timepoint}", f"day_{timepoint}"


def _draw_columns(
    table: Table, problems: list[Problem]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Find the draw columns: {timepoint: {long column: wide column}} and the others."""
    draws: dict[str, dict[str, str]] = {}
    others: list[str] = []
    names = set(table.columns)
    for column in table.columns:
        m = _DRAW_COLUMN.fullmatch(column)
        if m is None or column in PATIENT_COLUMNS:
            others.append(column)
            continue
        kind, tp = m.groups()
        if timepoint_order(tp) is None:
            if kind == "day" and f"ctc_{tp}" not in names:
                others.append(column)  # e.g. day_of_diagnosis: an extra patient column
                continue
            problems.append(
                Problem(
                    table.file, 1, column,
                    f"{tp!r} is not a known timepoint; draw columns are named ctc_T, "
                    "her2_ctc_T and day_T with T one of baseline, first_follow_up, "
                    "follow_up_2, follow_up_3, ...",
                )
            )
            continue
        draws.setdefault(tp, {})[_KINDS[kind]] = column
    for tp, cols in draws.items():
        ctc, her2, day = wide_columns(tp)
        for need in (ctc, her2) + ((day,) if tp != "baseline" else ()):
            if need not in cols.values():
                problems.append(Problem(table.file, 1, need, f"column is missing (for the {tp} draw)"))
    return dict(sorted(draws.items(), key=lambda kv: timepoint_order(kv[0]) or 0)), others


def _split(table: Table, problems: list[Problem]) -> tuple[Table, Table]:
    """Split the wide table into a patient table and a draw table (rows keep wide names)."""
    draws, others = _draw_columns(table, problems)
    prows: list[Row] = []
    crows: list[Row] = []
    complete = {
        tp: cols for tp, cols in draws.items()
        if {"ctc_count", "her2_positive_ctc"} <= cols.keys() and ("day" in cols or tp == "baseline")
    }  # timepoints with a missing column are reported once, not row by row
    for row in table.rows:
        prows.append(Row(row.line, {c: row.cells[c] for c in others}, row.file))
        pid = row.cells.get("patient_id", "").strip()
        for tp, cols in complete.items():
            cells = {k: row.cells[c].strip() for k, c in cols.items()}
            count, her2, day = (cells.get(k, "") for k in ("ctc_count", "her2_positive_ctc", "day"))
            if not (count or her2 or day):
                continue  # the draw is missing
            if not pid:
                continue  # reported with the patient columns
            names = {"patient_id": "patient_id", **cols}
            bad = False
            if not count and not her2:
                problems.append(
                    Problem(
                        row.file, row.line, cols["day"],
                        f"a day is given but {wide_columns(tp)[0]} and {wide_columns(tp)[1]} are "
                        "empty; fill in the counts, or clear the day if there was no draw",
                        pid,
                    )
                )
                bad = True
            else:
                for kind, other in (("ctc_count", "her2_positive_ctc"), ("her2_positive_ctc", "ctc_count")):
                    if not cells[kind] and cells[other]:
                        problems.append(
                            Problem(
                                row.file, row.line, cols[kind],
                                f"is empty but {cols[other]} is given; a draw needs both counts "
                                "(clear both if there was no draw)",
                                pid,
                            )
                        )
                        bad = True
            if bad:
                continue
            if tp == "baseline" and not day:
                day = "0"
            elif not day:
                problems.append(
                    Problem(row.file, row.line, cols["day"],
                            f"is empty; the {tp} draw needs its day (days from baseline)", pid)
                )
                continue
            long = {"patient_id": pid, "timepoint": tp, "day": day,
                    "ctc_count": count, "her2_positive_ctc": her2}
            crows.append(Row(row.line, long, row.file, names))
    return (
        Table(table.file, others, prows, table.ragged_ids),
        Table(table.file, list(CTC_COLUMNS), crows),
    )


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00)?)?")

#: The column of baseline dates that ``dates=True`` counts days from.
BASELINE_DATE = "baseline_date"


def _date(text: str) -> dt.date | None:
    m = _ISO_DATE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        return dt.date(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def _dates_to_days(table: Table, problems: list[Problem], notes: dict) -> None:
    """Replace ISO dates (YYYY-MM-DD) in the day columns by days since ``baseline_date``.

    Only the in-memory rows change (never the file). Day columns: ``pfs_days``,
    ``os_days`` and ``day_T`` of every timepoint. Cells that are numbers stay as they are.
    """
    if BASELINE_DATE not in table.columns:
        problems.append(Problem(table.file, 1, BASELINE_DATE,
                                "column is missing; --dates counts days from the date of the "
                                "baseline blood draw in a baseline_date column (YYYY-MM-DD)"))
        return
    day_columns = [c for c in table.columns if c in ("pfs_days", "os_days")
                   or (c.startswith("day_") and timepoint_order(c[4:]) is not None)]
    converted: dict[str, int] = {}
    for row in table.rows:
        pid = row.cells.get("patient_id", "").strip() or None
        wanted = [c for c in day_columns if _date(row.cells[c]) is not None]
        if not wanted:
            continue
        base = _date(row.cells[BASELINE_DATE])
        if base is None:
            problems.append(Problem(table.file, row.line, BASELINE_DATE,
                                    f"{row.cells[BASELINE_DATE].strip()!r} is not a date written "
                                    "YYYY-MM-DD; --dates needs it to count days", pid))
            continue
        for c in wanted:
            row.cells[c] = str((_date(row.cells[c]) - base).days)
            converted[c] = converted.get(c, 0) + 1
    if converted:
        what = ", ".join(f"{n} in {c}" for c, n in converted.items())
        notes[(table.file, None, f"dates read as days since {BASELINE_DATE} ({what})", None)] = []


def from_wide(
    wide: pd.DataFrame | str | os.PathLike,
    *,
    source: str | None = None,
    synthetic: bool = False,
    metadata: dict | None = None,
    dates: bool = False,
) -> Cohort:
    """Convert a one-row-per-patient table (a DataFrame or a CSV file) into a :class:`Cohort`.

    ``wide`` is a DataFrame or the path of a UTF-8 CSV file (checked like a cohort's files:
    encoding, separator, ragged rows). See the module docstring for the columns. Row
    numbers in problems are the spreadsheet's (header = row 1; for a DataFrame, as if
    written to CSV). ``source`` defaults to the path as given (or ``"wide table"``);
    ``synthetic`` defaults to False (a user's data). A CSV file separated by ``;`` (as
    European Excel saves it) is read too, with its decimal commas as points.

    ``dates=True`` reads dates (``YYYY-MM-DD``) in ``pfs_days``, ``os_days`` and the
    ``day_T`` columns as days since the patient's ``baseline_date`` (a required column,
    kept as an extra patient column). Everything read in a way other than written (a
    separator, dates, other spellings of labels) is listed in ``Cohort.notes``.

    Raises
    ------
    CohortError
        listing every problem, with the wide table's row and column names.
    """
    problems: list[Problem] = []
    notes: dict = {}
    if isinstance(wide, pd.DataFrame):
        label = "wide table"
        table = table_from_frame(wide, label, PATIENT_COLUMNS, problems)
    else:
        path = Path(wide)
        label = str(wide)
        if not path.is_file():
            what = "is a folder, not a CSV file" if path.is_dir() else "file does not exist"
            raise CohortError([Problem(label, None, None, what)], label)
        read = read_table(path.parent, path.name, PATIENT_COLUMNS, problems, notes)
        if read is None:
            raise CohortError(sort_problems(problems), label)
        table = read
    if dates:
        _dates_to_days(table, problems, notes)
    ptable, ctable = _split(table, problems)
    frames = check_tables(ptable, ctable, problems, notes)
    if problems or frames is None:
        raise CohortError(sort_problems(problems), source or label)
    patients, ctc = frames
    return Cohort(patients, ctc, source=source or label, synthetic=synthetic,
                  metadata=dict(metadata or {}), notes=format_notes(notes))


def to_wide(cohort: Cohort) -> pd.DataFrame:
    """The cohort as one row per patient: the patient columns, then ``ctc_T``,
    ``her2_ctc_T`` and ``day_T`` for each timepoint in the cohort (no ``day_baseline``).

    Missing draws are empty (counts are nullable ``Int64``). Days and ages that are whole
    numbers are ``Int64`` too, so a CSV written from it reads ``68``, not ``68.0``. Extra
    columns of the draw table are not carried over.
    """
    wide = cohort.patients.copy()
    ctc = cohort.ctc
    timepoints = sorted(set(ctc["timepoint"]), key=lambda t: timepoint_order(t) or 0)
    ids = wide["patient_id"]
    for tp in timepoints:
        at = ctc[ctc["timepoint"] == tp].set_index("patient_id")
        ctc_col, her2_col, day_col = wide_columns(tp)
        wide[ctc_col] = ids.map(at["ctc_count"]).astype("Int64")
        wide[her2_col] = ids.map(at["her2_positive_ctc"]).astype("Int64")
        if tp != "baseline":
            wide[day_col] = ids.map(at["day"]).astype("float64")
    days = [c for c in wide.columns if c in ("age_years", "pfs_days", "os_days")
            or (c.startswith("day_") and c.removeprefix("day_") in timepoints)]
    wide[days] = whole_numbers(wide[days])
    return wide
