"""The cohort format, the validating loader and the writer.

A cohort is a folder with two UTF-8 CSV files (see ``data/README.md``):
``patients.csv`` (one row per patient) and ``ctc.csv`` (one row per blood draw),
and an optional ``cohort.yaml`` with metadata.

:func:`load_cohort` reads and checks a folder and returns a :class:`Cohort`; on any
problem it raises :class:`CohortError`, which lists *every* problem found (file, row,
column and a plain-language message). :func:`validate_cohort` returns the same list
of :class:`Problem` without raising. Nothing in the folder is ever modified.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Environment variable naming the cohort folder the book is built on.
DATA_ENV = "CTCBOOK_DATA"

#: The shipped synthetic cohort (the repository's ``data/`` folder).
SHIPPED = Path(__file__).resolve().parents[2] / "data"

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
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64_MAX = 2**63 - 1
_DATE = re.compile(r"(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
                   r"|[0-9]{1,2}[- ][A-Za-z]{3,9}[- ][0-9]{2,4})(?:[ T][0-9:.]+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")

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
    """Row numbers as ranges: [2, 3, 4, 7] -> "2-4, 7"."""
    parts: list[str] = []
    for r in sorted(set(rows)):
        if parts and r == parts[-1][1] + 1:
            parts[-1][1] = r
        else:
            parts.append([r, r])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


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


# --------------------------------------------------------------------------------------
# Reading a CSV file into rows of text, without modifying it


@dataclass
class _Row:
    line: int  # the row number a spreadsheet shows (header = 1)
    cells: dict[str, str]  # column -> text as in the file
    file: str
    names: Mapping[str, str] | None = None  # column -> name to show (wide tables)

    def name(self, column: str) -> str:
        return self.names.get(column, column) if self.names else column


@dataclass
class _Table:
    file: str
    columns: list[str]
    rows: list[_Row]
    ragged_ids: set[str] = field(default_factory=set)  # ids of rows not checked


def _q(text: str, limit: int = 40) -> str:
    """Quote a cell for a message (escape control characters, shorten long text)."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)


def _is_binary(data: bytes) -> str | None:
    """A message when ``data`` is clearly not a text file, else None."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return (
            "this is not a CSV file but a zip archive, probably an Excel workbook (.xlsx) "
            "renamed to .csv; open it in Excel and save it as 'CSV UTF-8 (comma delimited)'"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return (
            "this is not a CSV file but an old Excel workbook (.xls); open it in Excel "
            "and save it as 'CSV UTF-8 (comma delimited)'"
        )
    if data.startswith(b"%PDF"):
        return "this is not a CSV file but a PDF document"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (
            "this file is UTF-16 encoded (Excel's 'Unicode Text'); save it as "
            "'CSV UTF-8 (comma delimited)'"
        )
    if b"\x00" in data:
        head = data[:200]
        if head.count(b"\x00") * 3 >= len(head):
            return "this file seems to be UTF-16 encoded; save it as CSV in UTF-8"
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return (
            f"this is not a text (CSV) file: it contains NUL bytes (first on line {line}); "
            "it may be a binary or spreadsheet file; save it as 'CSV UTF-8 (comma delimited)'"
        )
    return None


def _decode(file: str, data: bytes, problems: list[Problem]) -> str | None:
    """Decode UTF-8 (an optional BOM is fine); on failure add one problem and return None."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_lines: list[int] = []
        pos = exc.start
        first_byte = data[exc.start]
        while True:
            line = data[:pos].count(b"\n") + 1
            if not bad_lines or bad_lines[-1] != line:
                bad_lines.append(line)
            rest = data[pos + 1 :]
            try:
                rest.decode("utf-8")
                break
            except UnicodeDecodeError as more:
                pos = pos + 1 + more.start
            if len(bad_lines) > 10:
                break
        guess = bytes([first_byte]).decode("cp1252", errors="replace")
        hint = f' (in Windows-1252/Latin-1 it would be "{guess}")' if guess.isprintable() else ""
        also = ""
        if len(bad_lines) > 1:
            also = " Also on line" + ("s " if len(bad_lines) > 2 else " ")
            also += ", ".join(str(n) for n in bad_lines[1:10])
            also += ", ..." if len(bad_lines) > 10 else ""
            also += "."
        problems.append(
            Problem(
                file, bad_lines[0], None,
                f"byte 0x{first_byte:02X} is not valid UTF-8{hint}; the file seems to be "
                "saved in another encoding: save it as UTF-8 (in Excel: 'CSV UTF-8')." + also,
            )
        )
        return None


def _parse_csv(file: str, text: str, problems: list[Problem],
               delimiter: str = ",") -> list[tuple[int, list[str]]] | None:
    """Split text into (line number, fields) records; blank lines are skipped."""
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(
                Problem(file, start, None, f"cannot be read as CSV ({exc}); check the quotes (\")")
            )
            return None
        if fields and any(f.strip() for f in fields):
            records.append((start, fields))
        start = reader.line_num + 1
    return records


def _decimal_points(records: list[tuple[int, list[str]]]
                    ) -> tuple[list[tuple[int, list[str]]], dict[int, int]]:
    """Cells like ``61,5`` as ``61.5`` (a ';'-separated file); counts per column index."""
    counts: dict[int, int] = {}
    out = [records[0]]
    for line, fields in records[1:]:
        new = []
        for i, cell in enumerate(fields):
            if _DECIMAL_COMMA.fullmatch(cell.strip()):
                counts[i] = counts.get(i, 0) + 1
                cell = cell.replace(",", ".")
            new.append(cell)
        out.append((line, new))
    return out, counts


def _guess_separator(header_line: str, expected: tuple[str, ...]) -> str | None:
    for sep, label in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
        parts = [p.strip().strip('"') for p in header_line.split(sep)]
        if len(parts) >= 2 and sum(p in expected for p in parts) >= min(2, len(expected)):
            return label
    return None


def _read_table(folder: Path, file: str, expected: tuple[str, ...], problems: list[Problem],
                notes: dict | None = None) -> _Table | None:
    """Read one CSV file as text rows. With ``notes`` (the converter), a ';'-separated
    file (European Excel) is read too, its decimal commas as points, with a note."""
    path = folder / file
    if not path.exists():
        hint = ""
        siblings = {p.name.lower(): p.name for p in folder.iterdir()} if folder.is_dir() else {}
        stem = file.rsplit(".", 1)[0]
        for alt in (file.lower(), f"{stem}.xlsx", f"{stem}.xls", f"{stem}.txt", f"{stem}.tsv"):
            if alt in siblings and siblings[alt] != file:
                found = siblings[alt]
                if found.lower() == file:
                    hint = f"; found {found!r}: file names are case-sensitive, rename it to {file!r}"
                else:
                    hint = f"; found {found!r}: save it as comma-separated UTF-8 CSV named {file!r}"
                break
        problems.append(Problem(file, None, None, f"file is missing{hint}"))
        return None
    if not path.is_file():
        problems.append(Problem(file, None, None, "is not a file (a folder?)"))
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(file, None, None, f"cannot be read: {exc.strerror or exc}"))
        return None
    if not data:
        problems.append(Problem(file, None, None, "file is empty (0 bytes); it needs a header line and rows"))
        return None
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        problems.append(Problem(file, None, None, "file is empty (only blank lines)"))
        return None
    binary = _is_binary(data)
    if binary:
        problems.append(Problem(file, None, None, binary))
        return None
    text = _decode(file, data, problems)
    if text is None:
        return None
    records = _parse_csv(file, text, problems)
    if records is None:
        return None
    if not records:
        problems.append(Problem(file, None, None, "file is empty (only blank lines)"))
        return None
    header = records[0][1]
    columns = list(header)
    present = set(columns)
    if not any(c in present for c in expected):
        sep = _guess_separator(",".join(header), expected)
        if sep == "';'" and notes is not None:
            semi = _parse_csv(file, text, problems, delimiter=";")
            if semi is None:
                return None
            records, commas = _decimal_points(semi)
            header = records[0][1]
            columns, present = list(header), set(header)
            what = "read as ';'-separated (as European Excel saves CSV)"
            if commas:
                what += (f", decimal commas read as points ({sum(commas.values())} cells in "
                         + ", ".join(columns[i] for i in sorted(commas)) + ")")
            notes[(file, None, what, None)] = []
            sep = None
        if sep:
            problems.append(
                Problem(file, None, None,
                        f"this file seems to use {sep} as separator; save it as comma-separated (CSV)")
            )
            return None
    bad_header = False
    seen: dict[str, int] = {}
    for i, name in enumerate(columns, start=1):
        if not name.strip():
            problems.append(Problem(file, 1, None, f"column {i} of the header has no name; name it or delete the column"))
            bad_header = True
        elif name in seen:
            problems.append(Problem(file, 1, name, f"appears twice in the header (columns {seen[name]} and {i})"))
            bad_header = True
        else:
            seen[name] = i
    missing = [c for c in expected if c not in present]
    loose = {c.strip().lower(): c for c in columns}
    for c in missing:
        near = loose.get(c)
        if near is not None:
            problems.append(Problem(file, 1, c, f"column is missing; the header has {_q(near)}: rename it to {_q(c)} (names are case-sensitive)"))
        else:
            problems.append(Problem(file, 1, c, "column is missing"))
    other = CTC_COLUMNS if expected == PATIENT_COLUMNS else PATIENT_COLUMNS
    if len(missing) >= 2 and all(c in present for c in other):
        other_file = CTC_FILE if other == CTC_COLUMNS else PATIENTS_FILE
        problems.append(Problem(file, None, None, f"this looks like {other_file} (the two files swapped?)"))
    rows: list[_Row] = []
    ragged_ids: set[str] = set()
    width = len(columns)
    id_at = columns.index("patient_id") if "patient_id" in present else None
    for line, fields in records[1:]:
        if len(fields) != width:
            more = "more" if len(fields) > width else "fewer"
            problems.append(
                Problem(file, line, None,
                        f"has {len(fields)} fields but the header has {width} ({more} than the header: "
                        "a missing or extra comma, or a value with a comma that needs quotes)",
                        patient=fields[id_at].strip() if id_at is not None and id_at < len(fields) else None)
            )
            if id_at is not None and id_at < len(fields):
                ragged_ids.add(fields[id_at].strip())
            continue
        if bad_header:  # rows are not checked, but their ids still count as known
            if id_at is not None:
                ragged_ids.add(fields[id_at].strip())
            continue
        rows.append(_Row(line, dict(zip(columns, fields, strict=True)), file))
    if len(records) == 1:
        what = "blood draws" if file == CTC_FILE else "patients"
        problems.append(Problem(file, None, None, f"file has a header but no rows (no {what})"))
    return _Table(file, columns, rows, ragged_ids)


# --------------------------------------------------------------------------------------
# Checking values


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

    def __init__(self, row: _Row, problems: list[Problem], notes: dict | None = None):
        self.row = row
        self.problems = problems
        self.notes = notes
        self.patient = (row.cells.get("patient_id") or "").strip() or None
        self.ok = True

    def add(self, column: str | None, message: str, group: str | None = None,
            advice: str = "") -> None:
        self.ok = False
        self.problems.append(
            Problem(self.row.file, self.row.line,
                    None if column is None else self.row.name(column), message, self.patient,
                    group, advice)
        )

    def note(self, column: str, written: str, read: str) -> None:
        """Record that ``written`` was read as ``read`` (reported, never silent)."""
        if self.notes is not None:
            key = (self.row.file, self.row.name(column), written, read)
            self.notes.setdefault(key, []).append(self.row.line)

    def text(self, column: str) -> str | None:
        value = self.row.cells.get(column)
        return None if value is None else value.strip()

    def required(self, column: str, what: str) -> str | None:
        value = self.text(column)
        if value is None:  # the column is missing (reported once for the file)
            self.ok = False
            return None
        if value == "":
            self.add(column, f"is empty; {what}")
            return None
        return value

    def number(self, column: str, *, optional: bool = False, positive: bool = True,
               what: str = "") -> float | None:
        value = self.text(column)
        if value is None:  # the column is missing (reported once for the file)
            self.ok = False
            return None
        if value == "":
            if not optional:
                self.add(column, f"is empty; a number is required{what and ' (' + what + ')'}")
            return None
        if not _NUMBER.fullmatch(value):
            self._not_a_number(column, value)
            return None
        x = float(value)
        if not math.isfinite(x):
            self.add(column, f"{_q(value)} is too large")
            return None
        if positive and x <= 0:
            self.add(column, f"{_q(value)} must be more than 0{what and ' (' + what + ')'}")
            return None
        if not positive and x < 0:
            self.add(column, f"{_q(value)} is negative; it must be 0 or more")
            return None
        return x

    def _not_a_number(self, column: str, value: str, what: str = "") -> None:
        if _DATE.fullmatch(value):
            days = column in ("pfs_days", "os_days", "day")
            advice = DATE_ADVICE if days else what
            self.add(column, f"{_q(value)} looks like a date, not a number"
                     + (f"; {advice}" if advice else ""), "look like dates", advice)
        elif _DECIMAL_COMMA.fullmatch(value):
            fix = value.replace(",", ".")
            self.add(column, f"{_q(value)} has a decimal comma; write {fix}",
                     "have a decimal comma", "write numbers with a decimal point (61.5); "
                     "`ctcbook convert` reads a ';'-separated sheet with decimal commas")
        else:
            self.add(column, f"{_q(value)} is not a number" + (f"; {what}" if what else ""),
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
                self.add(column, f"{_q(value)} is not a whole number; {what}")
                return None
            k = int(x)
        else:
            self._not_a_number(column, value, what)
            return None
        if k < 0:
            self.add(column, f"{_q(value)} is negative; {what}")
            return None
        if k > _INT64_MAX:
            self.add(column, f"{_q(value)} is too large")
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
        self.add(column, f"{_q(value)} is not allowed; {what}", "are not allowed", what)
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
        self.add(column, f"{_q(value)} is not allowed; use one of {listed}",
                 "have labels that are not allowed", f"use one of {listed}")
        return None


def _check_patients(table: _Table, problems: list[Problem], notes: dict | None = None
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
            c.add("pfs_days", f"pfs_days ({_fmt(pfs)}) is more than os_days ({_fmt(os_)}); "
                              "progression-free survival cannot be longer than overall survival")
        if pid is not None:
            if pid in seen:
                c.add("patient_id", f"patient {_q(pid)} appears twice (first on row {seen[pid]}); ids must be unique")
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


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _check_ctc(table: _Table, known: set[str] | None, os_days: dict[str, float],
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
                c.add("timepoint", f"{_q(tp)} is not a known timepoint; use baseline, first_follow_up, "
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
                c.add("day", f"baseline draw on day {_fmt(day)}; the baseline draw is day 0")
                day_ok = False
            elif order > 0 and day == 0:
                c.add("day", f"{tp} draw on day 0; only the baseline draw is on day 0")
                day_ok = False
        if pid is not None:
            if known is not None and pid not in known:
                c.add("patient_id", f"patient {_q(pid)} is not in patients.csv")
            elif pid in os_days and day_ok and day > os_days[pid]:
                c.add("day", f"draw on day {_fmt(day)} is after os_days ({_fmt(os_days[pid])}), "
                             "the patient's death or last contact")
            if tp is not None:
                key = (pid, tp)
                if key in seen:
                    c.add("timepoint", f"a second {tp} draw for patient {_q(pid)} (first on row "
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
                c1.add("day", f"{tp1} on day {_fmt(day1)} is not after {tp0} on day {_fmt(day0)}; "
                              "draws must be in time order")
    return records


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...], ints: tuple[str, ...],
           floats: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=_all_columns(records, columns))
    for col in frame.columns:
        if col in ints:
            frame[col] = frame[col].astype("int64")
        elif col in floats:
            frame[col] = frame[col].astype("float64")
        else:
            frame[col] = frame[col].astype(object)
    return frame


def _all_columns(records: list[dict[str, Any]], columns: tuple[str, ...]) -> list[str]:
    out = list(columns)
    for r in records[:1]:
        out += [k for k in r if k not in columns]
    return out


_PATIENT_INTS = ("prior_therapies", "visceral_metastasis", "pfs_event", "os_event")
_PATIENT_FLOATS = ("age_years", "pfs_days", "os_days")
_CTC_INTS = ("ctc_count", "her2_positive_ctc")
_CTC_FLOATS = ("day",)


def _check_tables(patients: _Table | None, ctc: _Table | None, problems: list[Problem],
                  notes: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Check both tables; return typed frames when there are no problems."""
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
    pframe = _frame(precords, PATIENT_COLUMNS, _PATIENT_INTS, _PATIENT_FLOATS)
    cframe = _frame(crecords, CTC_COLUMNS, _CTC_INTS, _CTC_FLOATS)
    return pframe, cframe


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
        lines.append(f"{file}, column {column}: read {_q(written)} as {_q(read)} "
                     f"(row{'s' if len(rows) > 1 else ''} {shown})")
    return tuple(lines)


def _sort(problems: list[Problem]) -> list[Problem]:
    rank = {PATIENTS_FILE: 1, CTC_FILE: 2, METADATA_FILE: 3}
    return sorted(problems, key=lambda p: (rank.get(p.file, 0), p.row or 0))


# --------------------------------------------------------------------------------------
# Tables from DataFrames (in-memory cohorts and the wide converter)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "1" if value else "0"
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        x = float(value)
        return str(int(x)) if x.is_integer() and abs(x) < 2**53 else repr(x)
    return str(value)


def _frame_table(
    frame: pd.DataFrame, file: str, expected: tuple[str, ...], problems: list[Problem]
) -> _Table:
    """Turn a DataFrame into a table of text rows (row numbers as if written to CSV)."""
    columns = [str(c) for c in frame.columns]
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            problems.append(Problem(file, 1, c, "appears twice in the columns"))
        seen.add(c)
    for c in expected:
        if c not in seen:
            problems.append(Problem(file, 1, c, "column is missing"))
    rows = []
    if len(seen) == len(columns):
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            cells = {c: _cell_text(v) for c, v in zip(columns, values, strict=True)}
            rows.append(_Row(i + 2, cells, file))
    return _Table(file, columns, rows)


def validate_frames(patients: pd.DataFrame, ctc: pd.DataFrame) -> list[Problem]:
    """Check two in-memory tables against the cohort format; return the problems found.

    Row numbers are those the tables would have once written to CSV (header = row 1).
    Use it to check a generated cohort before writing it.
    """
    problems: list[Problem] = []
    p = _frame_table(patients, PATIENTS_FILE, PATIENT_COLUMNS, problems)
    c = _frame_table(ctc, CTC_FILE, CTC_COLUMNS, problems)
    _check_tables(p, c, problems)
    return _sort(problems)


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
    text = _decode(METADATA_FILE, data, problems)
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
                                f"{_q(str(synthetic))} is not allowed; use true or false"))
    meta["synthetic"] = bool(synthetic) if isinstance(synthetic, bool) else False
    return meta


def _folder_problem(folder: Path, source: str) -> Problem | None:
    if not folder.exists():
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
    patients = _read_table(folder, PATIENTS_FILE, PATIENT_COLUMNS, problems)
    ctc = _read_table(folder, CTC_FILE, CTC_COLUMNS, problems)
    meta = _read_metadata(folder, problems)
    notes: dict = {}
    frames = _check_tables(patients, ctc, problems, notes)
    if problems or frames is None:
        return source, _sort(problems), None
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
