"""A class kit: one synthetic cohort and one answer key per student, without building the book.

``python -m ctcbook class ROSTER.csv --out DIR`` reads a roster (a CSV with a ``student_id``
column) and writes::

    DIR/index.html                       the class at a glance: student, seed, files
    DIR/students/<id>/cohort/            the student's cohort (patients.csv, ctc.csv, cohort.yaml)
    DIR/students/<id>/answer-key.html    the numbers each exercise asks for, on that cohort
    DIR/students/<id>/answer-key.pdf     the same, printed
    DIR/answer-keys.pdf                  every student's key, one after the other (for the teacher)
    DIR/book/_build/html/                the book built without solutions (for the students)
    DIR/worksheet.pdf                    the exercises of that build, with room to answer

**Seeds.** A student's cohort is ``simulate_cohort(n=52, seed=student_seed(id))`` where
``student_seed(id)`` is the first 8 hexadecimal digits of ``sha256("ctcbook-class:" + id)``
read as an integer: the same id always gives the same cohort, on any machine, and a student can
recreate it with ``python -m ctcbook simulate --seed SEED --out my-cohort``.

**Answer keys.** :mod:`ctcbook.publish.answerkey` computes them: its ``EXERCISES`` lists
every exercise of the book with the numbers it asks for on a student's cohort.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ctcbook.publish.answerkey import KEY_CSS, answer_key, answer_key_html, exercise_numbers

__all__ = ["ClassKit", "ClassKitError", "make_class_kit", "read_roster", "student_seed"]

N_PATIENTS = 52
ROSTER_COLUMN = "student_id"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ClassKitError(Exception):
    """A problem with the roster or the output folder, said plainly."""


def student_seed(student_id: str) -> int:
    """The cohort seed of a student: ``int(sha256("ctcbook-class:" + id)[:8], 16)``."""
    digest = hashlib.sha256(f"ctcbook-class:{student_id}".encode()).hexdigest()
    return int(digest[:8], 16)


def read_roster(path: str | Path) -> list[str]:
    """Student ids from a roster CSV with a ``student_id`` column (other columns are ignored).

    Raises :class:`ClassKitError` naming the file, row and column of any problem: no such
    column, an empty id, a repeated id, or two ids that give the same folder name.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ClassKitError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassKitError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise ClassKitError(f"{path}: the file is empty; give a header row with "
                            f"'{ROSTER_COLUMN}' and one student id per row")
    header = [h.strip().lower() for h in rows[0]]
    if ROSTER_COLUMN not in header:
        raise ClassKitError(f"{path}: no column '{ROSTER_COLUMN}' in the header row "
                            f"(found: {', '.join(rows[0]) or 'nothing'})")
    col = header.index(ROSTER_COLUMN)
    ids: list[str] = []
    seen: dict[str, int] = {}
    folders: dict[str, tuple[str, int]] = {}
    problems = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        value = row[col].strip() if col < len(row) else ""
        if not value:
            problems.append(f"row {number}, column {ROSTER_COLUMN}: empty student id")
            continue
        if value in seen:
            problems.append(f"row {number}, column {ROSTER_COLUMN}: '{value}' repeats "
                            f"row {seen[value]}")
            continue
        folder = _folder_name(value)
        if folder in folders:
            other, other_row = folders[folder]
            problems.append(f"row {number}, column {ROSTER_COLUMN}: '{value}' and '{other}' "
                            f"(row {other_row}) give the same folder name '{folder}'")
            continue
        seen[value] = number
        folders[folder] = (value, number)
        ids.append(value)
    if problems:
        raise ClassKitError(f"{path}: not a usable roster:\n  " + "\n  ".join(problems))
    if not ids:
        raise ClassKitError(f"{path}: no student ids below the header row")
    return ids


def _folder_name(student_id: str) -> str:
    return _SAFE.sub("_", student_id).strip("._") or "student"


# ------------------------------------------------------------------------------ the whole kit


@dataclass
class ClassKit:
    """What :func:`make_class_kit` wrote, and how long each part took (seconds)."""

    out: Path
    students: list[tuple[str, int, Path]]
    seconds: dict[str, float]
    pdfs: dict[str, int] = field(default_factory=dict)  # file -> pages

    def summary(self) -> str:
        lines = [f"{self.out}: class kit for {len(self.students)} students"]
        lines += [f"  {name}: {sec:.1f} s" for name, sec in self.seconds.items()]
        lines += [f"  {name}: {pages} pages" for name, pages in self.pdfs.items()]
        return "\n".join(lines)


WORKSHEET_NOTE = ("Work on your own cohort: CTCBOOK_DATA=your-cohort jupyter lab notebooks/. "
                  "Numbers quoted inside an exercise are those of the book's shipped cohort; "
                  "your notebooks show the ones of your cohort.")


def make_class_kit(roster: str | Path, out: str | Path, *, book: str | Path = ".",
                   pdf: bool = True, build: bool = True, force: bool = False,
                   progress: Callable[[str], object] = lambda message: None) -> ClassKit:
    """Write the class kit for ``roster`` into ``out`` (see the module docstring).

    ``pdf=False`` writes cohorts and HTML keys only; ``build=False`` skips the book without
    solutions and the worksheet (the per-student and combined key PDFs are still printed).
    """
    from ctcbook.cohort.io import write_cohort
    from ctcbook.publish import printing
    from ctcbook.simulation.synthetic import simulate_cohort

    ids = read_roster(roster)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ClassKitError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ClassKitError(f"{out} is not empty; choose a new folder, or use --force")
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    students: list[tuple[str, int, Path]] = []
    keys: list[tuple[str, str]] = []

    pdfs: dict[str, int] = {}
    numbers: dict[str, str] = {}
    if pdf and build:
        start = time.perf_counter()
        progress("building the book without solutions (jupyter-book build) ...")
        html_dir = printing.build_book(Path(book), out / "book", hide_solutions=True)
        seconds["book without solutions"] = time.perf_counter() - start
        numbers = exercise_numbers(html_dir)
        start = time.perf_counter()
        sheet, n = printing.print_exercises(
            html_dir, out / "worksheet.pdf", title="Exercises",
            heading="Name: ____________________   Student id: ____________   Cohort seed: __________",
            note=WORKSHEET_NOTE)
        pdfs["worksheet.pdf"] = sheet.pages
        seconds["worksheet PDF"] = time.perf_counter() - start

    start = time.perf_counter()
    for student_id in ids:
        seed = student_seed(student_id)
        folder = out / "students" / _folder_name(student_id)
        cohort = simulate_cohort(n=N_PATIENTS, seed=seed)
        write_cohort(cohort, folder / "cohort")
        page = answer_key_html(student_id, seed, cohort, answer_key(cohort), numbers)
        (folder / "answer-key.html").write_text(page, encoding="utf-8")
        students.append((student_id, seed, folder))
        keys.append((student_id, page))
    seconds["cohorts and answer keys (HTML)"] = time.perf_counter() - start
    progress(f"{len(ids)} cohorts and answer keys in {seconds['cohorts and answer keys (HTML)']:.1f} s")

    if pdf:
        from pypdf import PdfReader, PdfWriter

        start = time.perf_counter()
        writer = PdfWriter()
        with printing.Browser() as browser:
            for (student_id, _seed, folder), (_, page) in zip(students, keys, strict=True):
                printed = printing.print_html(page, folder / "answer-key.pdf", base=folder,
                                              footer_title=f"Answer key: {student_id}",
                                              browser=browser)
                writer.append(PdfReader(printed.path))
        with (out / "answer-keys.pdf").open("wb") as fh:
            writer.write(fh)
        pdfs["answer-keys.pdf"] = len(writer.pages)
        seconds["answer-key PDFs"] = time.perf_counter() - start
        progress(f"answer-key PDFs in {seconds['answer-key PDFs']:.1f} s")

    (out / "index.html").write_text(_index_html(out, students, pdfs), encoding="utf-8")
    return ClassKit(out, students, seconds, pdfs)


def _index_html(out: Path, students, pdfs) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(sid)}</td><td>{seed}</td>"
        f"<td><a href='{e(folder.relative_to(out).as_posix())}/cohort/'>cohort</a></td>"
        f"<td><a href='{e(folder.relative_to(out).as_posix())}/answer-key.html'>answer key</a></td></tr>"
        for sid, seed, folder in students)
    files = "".join(f"<li><a href='{e(name)}'>{e(name)}</a> ({pages} pages)</li>"
                    for name, pages in pdfs.items())
    if (out / "book" / "_build" / "html" / "index.html").exists():
        files += "<li><a href='book/_build/html/index.html'>the book without solutions</a></li>"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class kit</title>"
            f"<style>{KEY_CSS}</style></head><body><h1>Class kit</h1><ul>{files}</ul>"
            "<table><tr><td><b>student</b></td><td><b>seed</b></td><td></td><td></td></tr>"
            f"{rows}</table></body></html>")
