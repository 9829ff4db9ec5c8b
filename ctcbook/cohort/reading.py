"""Reading a CSV file (or a DataFrame) into rows of text, without modifying it.

The forgiving part of the import (issue 16): a file that is not CSV (an Excel workbook, a
PDF, UTF-16 text), not UTF-8, separated by ';' or tabs, ragged, or with a bad header gets
one plain-language :class:`~ctcbook.cohort.format.Problem` saying what to do. The cells
stay text here; :mod:`ctcbook.cohort.checks` reads their values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ctcbook.cohort.format import (
    CTC_COLUMNS,
    CTC_FILE,
    PATIENT_COLUMNS,
    PATIENTS_FILE,
    Problem,
    quote,
)

#: A number written with a decimal comma (``61,5``), as European spreadsheets save it.
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")


@dataclass
class Row:
    """One row of a file as text: its spreadsheet row number and its cells as written."""

    line: int  # the row number a spreadsheet shows (header = 1)
    cells: dict[str, str]  # column -> text as in the file
    file: str
    names: Mapping[str, str] | None = None  # column -> name to show (wide tables)

    def name(self, column: str) -> str:
        """The column's name as the user's file spells it (a wide table's ``ctc_baseline``)."""
        return self.names.get(column, column) if self.names else column


@dataclass
class Table:
    """A file read as text rows; rows with the wrong number of fields are left out (each is a
    problem), their ids kept in ``ragged_ids`` so draws of those patients are not reported
    as unknown patients."""

    file: str
    columns: list[str]
    rows: list[Row]
    ragged_ids: set[str] = field(default_factory=set)  # ids of rows not checked


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


_INVALID_BYTE = re.compile("[\udc80-\udcff]")


def decode_text(file: str, data: bytes, problems: list[Problem]) -> str | None:
    """Decode UTF-8 (an optional BOM is fine); on failure add one problem and return None."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_byte = data[exc.start]
        # invalid bytes decode to lone surrogates, which valid UTF-8 text never contains
        escaped = data.decode("utf-8", errors="surrogateescape").split("\n")
        bad_lines = [n for n, line in enumerate(escaped, start=1) if _INVALID_BYTE.search(line)]
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
            if DECIMAL_COMMA.fullmatch(cell.strip()):
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


def _check_header(file: str, columns: list[str], expected: tuple[str, ...],
                  problems: list[Problem]) -> bool:
    """Add a problem for each blank, repeated or missing column name; True when a name is
    blank or repeated (the rows cannot be read by name)."""
    present = set(columns)
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
            problems.append(Problem(file, 1, c, f"column is missing; the header has {quote(near)}: rename it to {quote(c)} (names are case-sensitive)"))
        else:
            problems.append(Problem(file, 1, c, "column is missing"))
    other = CTC_COLUMNS if expected == PATIENT_COLUMNS else PATIENT_COLUMNS
    if len(missing) >= 2 and all(c in present for c in other):
        other_file = CTC_FILE if other == CTC_COLUMNS else PATIENTS_FILE
        problems.append(Problem(file, None, None, f"this looks like {other_file} (the two files swapped?)"))
    return bad_header


def read_table(folder: Path, file: str, expected: tuple[str, ...], problems: list[Problem],
                notes: dict | None = None) -> Table | None:
    """Read one CSV file of ``folder`` as text rows, adding a problem for each thing wrong
    with the file itself (None when it cannot be read at all).

    With ``notes`` (the converter), a ';'-separated file (European Excel) is read too, its
    decimal commas as points, with a note."""
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
    text = decode_text(file, data, problems)
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
    bad_header = _check_header(file, columns, expected, problems)
    rows: list[Row] = []
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
        rows.append(Row(line, dict(zip(columns, fields, strict=True)), file))
    if len(records) == 1:
        what = "blood draws" if file == CTC_FILE else "patients"
        problems.append(Problem(file, None, None, f"file has a header but no rows (no {what})"))
    return Table(file, columns, rows, ragged_ids)


def cell_text(value: Any) -> str:
    """A DataFrame cell as the text a CSV file would hold (``""`` for missing, ``1``/``0``
    for booleans, whole floats without ``.0``)."""
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


def table_from_frame(
    frame: pd.DataFrame, file: str, expected: tuple[str, ...], problems: list[Problem]
) -> Table:
    """Turn a DataFrame into a table of text rows (row numbers as if written to CSV), so an
    in-memory table is checked exactly like a file (:func:`ctcbook.cohort.checks.check_tables`)."""
    columns = [str(c) for c in frame.columns]
    rows = []
    if not _check_header(file, columns, expected, problems):
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            cells = {c: cell_text(v) for c, v in zip(columns, values, strict=True)}
            rows.append(Row(i + 2, cells, file))
    return Table(file, columns, rows)


