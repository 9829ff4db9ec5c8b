"""Checking the values of a cohort's rows: every problem, in plain language, with the fix.

:func:`check_tables` reads the text rows of both files (:mod:`ctcbook.cohort.reading`)
into typed DataFrames, or lists every problem found (file, row, column, patient). Other
spellings of the labels (``Positive``, ``yes``) are read as the format's label and
reported as notes, never silently.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ctcbook.cohort.format import (
    CATEGORIES,
    CTC_COLUMNS,
    CTC_FILE,
    PATIENT_COLUMNS,
    PATIENTS_FILE,
    Problem,
    quote,
    sort_problems,
    timepoint_order,
)
from ctcbook.cohort.reading import DECIMAL_COMMA, Row, Table, cell_text, table_from_frame

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64_MAX = 2**63 - 1
_DATE = re.compile(r"(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
                   r"|[0-9]{1,2}[- ][A-Za-z]{3,9}[- ][0-9]{2,4})(?:[ T][0-9:.]+)?")

#: Other spellings of the labels that are read as the format's label, with a note
#: (matched after stripping and lower-casing; exact labels are read without a note).
LABEL_SPELLINGS: dict[str, dict[str, str]] = {
    "status": {
        "pos": "positive", "pos.": "positive", "+": "positive", "positive": "positive",
        "neg": "negative", "neg.": "negative", "-": "negative", "\u2212": "negative",
        "negative": "negative",
        "unknown": "unknown", "unk": "unknown", "unk.": "unknown", "n/a": "unknown",
        "na": "unknown", "not known": "unknown", "nk": "unknown", "?": "unknown",
    },
    "therapy": {
        "chemo": "chemotherapy", "chemotherapy": "chemotherapy",
        "endocrine": "endocrine", "endocrine therapy": "endocrine", "hormonal": "endocrine",
        "hormone therapy": "endocrine", "hormonal therapy": "endocrine",
        "anti_her2": "anti_her2", "anti-her2": "anti_her2", "anti her2": "anti_her2",
        "anti-her2 therapy": "anti_her2", "her2-targeted": "anti_her2",
        "combination": "combination", "combined": "combination", "other": "other",
    },
    "binary": {"yes": "1", "y": "1", "true": "1", "no": "0", "n": "0", "false": "0"},
}
_SPELLING_OF = {"primary_her2": "status", "hormone_receptor": "status", "therapy": "therapy"}

#: Advice for a date where a number of days is expected.
DATE_ADVICE = ("give days since the baseline blood draw (in a one-row-per-patient sheet, "
               "add a baseline_date column and use `ctcbook convert --dates`)")


def _timepoint_hint(text: str) -> str:
    t = text.strip().lower().replace(" ", "_").replace("-", "_")
    if timepoint_order(t) is not None:
        return f' (write "{t}")'
    m = re.fullmatch(r"(?:follow_?up|fu)_?0*([0-9]+)", t)
    if m:
        k = int(m.group(1))
        if k == 1:
            return ' (write "first_follow_up")'
        if k >= 2:
            return f' (write "follow_up_{k}")'
    return ""


class _Checker:
    """Parses the cells of one row, adding a problem for each bad cell."""

    def __init__(self, row: Row, problems: list[Problem], notes: dict | None = None):
        self.row = row
        self.problems = problems
        self.notes = notes
        self.patient = (row.cells.get("patient_id") or "").strip() or None

    def add(self, column: str, message: str, group: str | None = None, advice: str = "") -> None:
        self.problems.append(Problem(self.row.file, self.row.line, self.row.name(column), message,
                                     self.patient, group, advice))

    def note(self, column: str, written: str, read: str) -> None:
        """Record that ``written`` was read as ``read`` (reported, never silent)."""
        if self.notes is not None:
            key = (self.row.file, self.row.name(column), written, read)
            self.notes.setdefault(key, []).append(self.row.line)

    def text(self, column: str) -> str | None:
        value = self.row.cells.get(column)
        return None if value is None else value.strip()

    def required(self, column: str, what: str) -> str | None:
        value = self.text(column)  # None: the column is missing (reported once for the file)
        if value == "":
            self.add(column, f"is empty; {what}")
            return None
        return value

    def number(self, column: str, *, optional: bool = False, positive: bool = True,
               what: str = "") -> float | None:
        value = self.text(column)  # None: the column is missing (reported once for the file)
        if not value:
            if value == "" and not optional:
                self.add(column, f"is empty; a number is required{what and ' (' + what + ')'}")
            return None
        if not _NUMBER.fullmatch(value):
            self._not_a_number(column, value)
            return None
        x = float(value)
        if not math.isfinite(x):
            self.add(column, f"{quote(value)} is too large")
            return None
        if positive and x <= 0:
            self.add(column, f"{quote(value)} must be more than 0{what and ' (' + what + ')'}")
            return None
        if not positive and x < 0:
            self.add(column, f"{quote(value)} is negative; it must be 0 or more")
            return None
        return x

    def _not_a_number(self, column: str, value: str, what: str = "") -> None:
        if _DATE.fullmatch(value):
            days = column in ("pfs_days", "os_days", "day")
            advice = DATE_ADVICE if days else what
            self.add(column, f"{quote(value)} looks like a date, not a number"
                     + (f"; {advice}" if advice else ""), "look like dates", advice)
        elif DECIMAL_COMMA.fullmatch(value):
            fix = value.replace(",", ".")
            self.add(column, f"{quote(value)} has a decimal comma; write {fix}",
                     "have a decimal comma", "write numbers with a decimal point (61.5); "
                     "`ctcbook convert` reads a ';'-separated sheet with decimal commas")
        else:
            self.add(column, f"{quote(value)} is not a number" + (f"; {what}" if what else ""),
                     "are not numbers", what)

    def integer(self, column: str, what: str) -> int | None:
        value = self.required(column, what)
        if value is None:
            return None
        if _INTEGER.fullmatch(value):
            k = int(value)
        elif _NUMBER.fullmatch(value):
            x = float(value)
            if not math.isfinite(x) or not x.is_integer():
                self.add(column, f"{quote(value)} is not a whole number; {what}")
                return None
            k = int(x)
        else:
            self._not_a_number(column, value, what)
            return None
        if k < 0:
            self.add(column, f"{quote(value)} is negative; {what}")
            return None
        if k > _INT64_MAX:
            self.add(column, f"{quote(value)} is too large")
            return None
        return k

    def binary(self, column: str, one: str, zero: str) -> int | None:
        what = f"use 1 ({one}) or 0 ({zero})"
        value = self.required(column, what)
        if value is None:
            return None
        if value in ("0", "1"):
            return int(value)
        if _NUMBER.fullmatch(value) and float(value) in (0.0, 1.0):
            return int(float(value))
        read = LABEL_SPELLINGS["binary"].get(value.lower())
        if read is not None:
            self.note(column, value, read)
            return int(read)
        self.add(column, f"{quote(value)} is not allowed; {what}", "are not allowed", what)
        return None

    def category(self, column: str) -> str | None:
        allowed = CATEGORIES[column]
        listed = "/".join(allowed)
        value = self.required(column, f"use one of {listed}")
        if value is None:
            return None
        if value in allowed:
            return value
        low = " ".join(value.lower().split())
        read = LABEL_SPELLINGS[_SPELLING_OF[column]].get(low)
        if read is None and low.replace(" ", "_").replace("-", "_") in allowed:
            read = low.replace(" ", "_").replace("-", "_")
        if read is not None:
            self.note(column, value, read)
            return read
        self.add(column, f"{quote(value)} is not allowed; use one of {listed}",
                 "have labels that are not allowed", f"use one of {listed}")
        return None


def _check_patients(table: Table, problems: list[Problem], notes: dict | None = None
                    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Check patient rows; return typed records and {patient_id: os_days} of usable rows."""
    records: list[dict[str, Any]] = []
    os_days: dict[str, float] = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        c = _Checker(row, problems, notes)
        pid = c.required("patient_id", "every patient needs an id")
        age = c.number("age_years", optional=True, what="age in years; leave empty if unknown")
        her2 = c.category("primary_her2")
        hr = c.category("hormone_receptor")
        prior = c.integer("prior_therapies", "the number of prior lines of therapy must be a whole number 0 or more")
        therapy = c.category("therapy")
        visceral = c.binary("visceral_metastasis", "visceral metastasis", "none")
        pfs = c.number("pfs_days", what="days from the baseline blood draw")
        pfs_event = c.binary("pfs_event", "progression or death", "censored")
        os_ = c.number("os_days", what="days from the baseline blood draw")
        os_event = c.binary("os_event", "death", "censored")
        if pfs is not None and os_ is not None and pfs > os_:
            c.add("pfs_days", f"pfs_days ({cell_text(pfs)}) is more than os_days ({cell_text(os_)}); "
                              "progression-free survival cannot be longer than overall survival")
        if pid is not None:
            if pid in seen:
                c.add("patient_id", f"patient {quote(pid)} appears twice (first on row {seen[pid]}); ids must be unique")
            else:
                seen[pid] = row.line
                if os_ is not None:
                    os_days[pid] = os_
        records.append({
            "patient_id": pid, "age_years": age, "primary_her2": her2, "hormone_receptor": hr,
            "prior_therapies": prior, "therapy": therapy, "visceral_metastasis": visceral,
            "pfs_days": pfs, "pfs_event": pfs_event, "os_days": os_, "os_event": os_event,
            **{k: v for k, v in row.cells.items() if k not in PATIENT_COLUMNS},
        })
    return records, os_days


def _check_ctc(table: Table, known: set[str] | None, os_days: dict[str, float],
               problems: list[Problem], notes: dict | None = None) -> list[dict[str, Any]]:
    """Check draw rows; ``known`` is the set of patient ids (None: patients.csv unreadable)."""
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    by_patient: dict[str, list[tuple[int, str, float, _Checker]]] = {}
    for row in table.rows:
        c = _Checker(row, problems, notes)
        pid = c.required("patient_id", "every draw needs the patient's id")
        tp = c.required("timepoint", "use baseline, first_follow_up, follow_up_2, follow_up_3, ...")
        order = None
        if tp is not None:
            order = timepoint_order(tp)
            low = "_".join(tp.lower().replace("-", " ").split())
            if order is None and timepoint_order(low) is not None:
                c.note("timepoint", tp, low)
                tp, order = low, timepoint_order(low)
            if order is None:
                c.add("timepoint", f"{quote(tp)} is not a known timepoint; use baseline, first_follow_up, "
                                   f"follow_up_2, follow_up_3, ...{_timepoint_hint(tp)}")
        day = c.number("day", positive=False, what="days from the baseline draw")
        count = c.integer("ctc_count", "the CTC count per 7.5 mL must be a whole number 0 or more")
        her2 = c.integer("her2_positive_ctc", "the HER2-positive CTC count must be a whole number 0 or more")
        if count is not None and her2 is not None and her2 > count:
            c.add("her2_positive_ctc", f"{her2} HER2-positive CTCs is more than the {count} CTCs in "
                                       "ctc_count; her2_positive_ctc must not exceed ctc_count")
        day_ok = day is not None
        if order is not None and day is not None:
            if order == 0 and day != 0:
                c.add("day", f"baseline draw on day {cell_text(day)}; the baseline draw is day 0")
                day_ok = False
            elif order > 0 and day == 0:
                c.add("day", f"{tp} draw on day 0; only the baseline draw is on day 0")
                day_ok = False
        if pid is not None:
            if known is not None and pid not in known:
                c.add("patient_id", f"patient {quote(pid)} is not in patients.csv")
            elif pid in os_days and day_ok and day > os_days[pid]:
                c.add("day", f"draw on day {cell_text(day)} is after os_days ({cell_text(os_days[pid])}), "
                             "the patient's death or last contact")
            if tp is not None:
                key = (pid, tp)
                if key in seen:
                    c.add("timepoint", f"a second {tp} draw for patient {quote(pid)} (first on row "
                                       f"{seen[key]}); at most one row per patient and timepoint")
                else:
                    seen[key] = row.line
                    if order is not None and day_ok:
                        by_patient.setdefault(pid, []).append((order, tp, day, c))
        records.append({
            "patient_id": pid, "timepoint": tp, "day": day, "ctc_count": count,
            "her2_positive_ctc": her2,
            **{k: v for k, v in row.cells.items() if k not in CTC_COLUMNS},
        })
    for draws in by_patient.values():
        draws.sort(key=lambda d: d[0])
        for (_, tp0, day0, _), (_, tp1, day1, c1) in zip(draws, draws[1:], strict=False):
            if day1 <= day0:
                c1.add("day", f"{tp1} on day {cell_text(day1)} is not after {tp0} on day {cell_text(day0)}; "
                              "draws must be in time order")
    return records


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...],
           dtypes: dict[str, str]) -> pd.DataFrame:
    """The checked records as a frame: the format's columns first, then the extra ones (text)."""
    extra = [k for k in records[0] if k not in columns] if records else []
    frame = pd.DataFrame.from_records(records, columns=[*columns, *extra])
    return frame.astype({c: dtypes.get(c, object) for c in frame.columns})


_PATIENT_DTYPES = {**dict.fromkeys(("prior_therapies", "visceral_metastasis", "pfs_event",
                                    "os_event"), "int64"),
                   **dict.fromkeys(("age_years", "pfs_days", "os_days"), "float64")}
_CTC_DTYPES = {"ctc_count": "int64", "her2_positive_ctc": "int64", "day": "float64"}


def check_tables(patients: Table | None, ctc: Table | None, problems: list[Problem],
                  notes: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Check the text rows of both files (either None when unreadable); return typed
    ``(patients, ctc)`` frames when there are no problems, else None (``problems`` lists them)."""
    precords: list[dict[str, Any]] = []
    os_days: dict[str, float] = {}
    known: set[str] | None = None
    if patients is not None:
        precords, os_days = _check_patients(patients, problems, notes)
        if "patient_id" in patients.columns:
            known = {r["patient_id"] for r in precords if r["patient_id"]} | patients.ragged_ids
    crecords = _check_ctc(ctc, known, os_days, problems, notes) if ctc is not None else []
    if problems or patients is None or ctc is None:
        return None
    pframe = _frame(precords, PATIENT_COLUMNS, _PATIENT_DTYPES)
    cframe = _frame(crecords, CTC_COLUMNS, _CTC_DTYPES)
    return pframe, cframe


def validate_frames(patients: pd.DataFrame, ctc: pd.DataFrame) -> list[Problem]:
    """Check two in-memory tables against the cohort format; return the problems found.

    Row numbers are those the tables would have once written to CSV (header = row 1).
    Use it to check a generated cohort before writing it.
    """
    problems: list[Problem] = []
    p = table_from_frame(patients, PATIENTS_FILE, PATIENT_COLUMNS, problems)
    c = table_from_frame(ctc, CTC_FILE, CTC_COLUMNS, problems)
    check_tables(p, c, problems)
    return sort_problems(problems)


