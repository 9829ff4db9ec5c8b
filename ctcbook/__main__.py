"""The command line: ``python -m ctcbook`` (or ``ctcbook``).

    ctcbook validate [PATH]                      check a cohort folder
    ctcbook simulate --n N --seed S --out DIR    write a synthetic cohort
    ctcbook convert WIDE.csv --out DIR [--dates] convert a one-row-per-patient CSV
    ctcbook pdf [BOOK] --out DIR                 print the book and an exercises handout
    ctcbook class ROSTER.csv --out DIR           a class kit: cohorts, answer keys, PDFs
    ctcbook --version

Exit status: 0 success (a valid cohort), 1 failure (an invalid cohort, a refused or
failed write, an unexpected error), 2 usage error. No traceback is ever shown: errors
are one clear message on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ctcbook.cohort.format import CohortError, cohort_path, format_problems
from ctcbook.cohort.io import load_cohort, validate_cohort, write_cohort

PROG = "ctcbook"


class _Failure(Exception):
    """An expected failure: its message is shown as is, exit status 1."""


def _describe(cohort) -> str:
    kind = "synthetic" if cohort.synthetic else "not marked synthetic"
    return f"{cohort.n} patients, {len(cohort.ctc)} draws ({kind})"


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise _Failure(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise _Failure(f"{out} is not empty; choose a new folder, or use --force to overwrite "
                       "its patients.csv, ctc.csv and cohort.yaml")


def _write_checked(cohort, out: Path) -> None:
    """Write the cohort, then read it back: what was written must be a valid cohort."""
    try:
        write_cohort(cohort, out)
    except OSError as exc:
        raise _Failure(f"cannot write {out}: {exc.strerror or exc}") from None
    problems = validate_cohort(out)
    if problems:
        raise _Failure("the written cohort is not valid (a bug; please report it):\n"
                       + format_problems(problems, str(out), limit=None))


#: The data dictionary: in the repository, and as a page of the book.
DICTIONARY = ("data/README.md in the repository, or the book's page 'Data dictionary' "
              "(book/data-dictionary.md)")

EXAMPLES = f"""examples:
  ctcbook validate my-cohort                   check a cohort folder, list every problem
  ctcbook convert sheet.csv --out my-cohort    one row per patient -> cohort folder
  ctcbook convert sheet.csv --out my-cohort --dates
                                               dates (YYYY-MM-DD) -> days since baseline_date
  ctcbook simulate --seed 7 --out /tmp/c7      a synthetic cohort for practice
  CTCBOOK_DATA=my-cohort jupyter-book build .  the whole book on that cohort

the format, column by column: {DICTIONARY}"""


def _print_notes(cohort) -> None:
    if cohort.notes:
        print("note: read differently from how it is written (your file is not changed):")
        for line in cohort.notes:
            print(f"  - {line}")


def _validate(args: argparse.Namespace) -> int:
    path = args.path if args.path is not None else str(cohort_path())
    try:
        cohort = load_cohort(path)
    except CohortError as err:
        print(format_problems(err.problems, path, limit=None))
        print(f"(the format: {DICTIONARY})")
        return 1
    print(f"{path}: valid cohort, {_describe(cohort)}")
    _print_notes(cohort)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise _Failure(f"--n must be at least 1 (got {args.n})")
    out = Path(args.out)
    _check_out(out, args.force)
    from ctcbook.simulation.synthetic import simulate_cohort

    try:
        cohort = simulate_cohort(n=args.n, seed=args.seed)
    except ValueError as exc:  # a negative seed
        raise _Failure(str(exc)) from None
    _write_checked(cohort, out)
    print(f"{out}: wrote a simulated cohort (seed {args.seed}), {_describe(cohort)}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ctcbook.cohort.convert import from_wide

    out = Path(args.out)
    _check_out(out, args.force)
    try:
        cohort = from_wide(args.wide, synthetic=args.synthetic, dates=args.dates)
    except CohortError as err:
        print(format_problems(err.problems, args.wide, limit=None).replace(
            "not a valid cohort", "cannot be converted"))
        print(f"(the format: {DICTIONARY})")
        return 1
    _write_checked(cohort, out)
    print(f"{out}: wrote {_describe(cohort)}, converted from {args.wide}")
    _print_notes(cohort)
    return 0


def _pdf(args: argparse.Namespace) -> int:
    from ctcbook.publish import printing

    book = Path(args.book)
    try:
        if (book / "_config.yml").is_file():
            print(f"building the book in {book} (jupyter-book build, cached) ...", flush=True)
            html = printing.build_book(book)
        else:
            html = book
        out = Path(args.out)
        pages = printing.select_pages(printing.book_pages(html), html, args.pages)
        result = printing.print_book(html, out / "ctcbook.pdf", solutions=args.solutions,
                                     pages=pages)
        print(f"{result.path}: {result.pages} pages ({result.seconds:.0f} s)")
        handout, n = printing.print_exercises(html, out / "ctcbook-exercises.pdf", pages=pages)
        print(f"{handout.path}: {n} exercises, {handout.pages} pages ({handout.seconds:.0f} s)")
    except printing.PrintError as exc:
        raise _Failure(str(exc)) from None
    except ImportError as exc:
        raise _Failure(f"printing needs the 'print' extra (pip install -c constraints.txt "
                       f"-e '.[print]'): {exc}") from None
    return 0


def _class(args: argparse.Namespace) -> int:
    from ctcbook.publish import classkit, printing

    try:
        kit = classkit.make_class_kit(args.roster, args.out, book=args.book, pdf=not args.no_pdf,
                                      build=not args.no_book, force=args.force, progress=print)
    except (classkit.ClassKitError, printing.PrintError) as exc:
        raise _Failure(str(exc)) from None
    except ImportError as exc:
        raise _Failure(f"printing needs the 'print' extra (pip install -c constraints.txt "
                       f"-e '.[print]'): {exc}") from None
    print(kit.summary())
    return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check, simulate and convert cohorts for the ctcbook "
                    "(Hayashi et al. 2012, HER2-positive CTCs).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a cohort folder and list every problem",
                       description="Check a cohort folder (patients.csv, ctc.csv, optional "
                                   "cohort.yaml) and list every problem. Nothing is modified.")
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="the cohort folder (default: $CTCBOOK_DATA, else the shipped data/)")
    p.set_defaults(run=_validate)

    p = sub.add_parser("simulate", help="write a synthetic cohort",
                       description="Draw a synthetic cohort from the book's generative model "
                                   "and write it as a cohort folder.")
    p.add_argument("--n", type=int, default=52, help="number of patients (default 52)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--force", action="store_true", help="overwrite the files of a non-empty DIR")
    p.set_defaults(run=_simulate)

    p = sub.add_parser("convert", help="convert a one-row-per-patient CSV into a cohort folder",
                       description="Convert a one-row-per-patient CSV (patient columns plus "
                                   "ctc_T, her2_ctc_T, day_T per timepoint T) into a cohort "
                                   "folder. Comma- or ';'-separated (decimal commas are read "
                                   "as points). Other spellings of labels (Neg, POS, +, yes) "
                                   "are read and listed in a note. The file is never changed.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wide", metavar="WIDE.csv", help="the one-row-per-patient CSV file")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--force", action="store_true", help="overwrite the files of a non-empty DIR")
    p.add_argument("--synthetic", action="store_true",
                   help="mark the cohort as synthetic (default: real data)")
    p.add_argument("--dates", action="store_true",
                   help="read dates (YYYY-MM-DD) in pfs_days, os_days and day_T as days since "
                        "the patient's baseline_date column")
    p.set_defaults(run=_convert)

    p = sub.add_parser("pdf", help="print the book and an exercises handout to PDF",
                       description="Print the whole book (title, contents with page numbers, "
                                   "every page) and a handout of its exercises to PDF with "
                                   "Debian's Chromium (no LaTeX, no downloaded browser).")
    p.add_argument("book", nargs="?", default=".", metavar="BOOK",
                   help="the book's folder (with _config.yml: built first, cached) or a built "
                        "_build/html folder (default: the current folder)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for ctcbook.pdf and ctcbook-exercises.pdf")
    p.add_argument("--solutions", action="store_true",
                   help="print the exercises' solutions open (default: left out)")
    p.add_argument("--pages", action="append", metavar="PATTERN",
                   help="print only the pages whose path in the built book matches PATTERN "
                        "(a glob, e.g. 'notebooks/0[45]-*' for one lesson; repeatable)")
    p.set_defaults(run=_pdf)

    p = sub.add_parser("class", help="a class kit: a cohort and an answer key per student",
                       description="Read a roster (a CSV with a student_id column) and write, "
                                   "per student, a seeded cohort and an answer key (HTML and "
                                   "PDF), plus the book built without solutions and printable "
                                   "worksheet and answer-key PDFs. See the instructor's page.")
    p.add_argument("roster", metavar="ROSTER.csv", help="CSV with a student_id column")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--book", default=".", metavar="BOOK",
                   help="the book's source folder, for the build without solutions "
                        "(default: the current folder)")
    p.add_argument("--no-pdf", action="store_true",
                   help="skip the book build and the PDFs (cohorts and HTML keys only)")
    p.add_argument("--no-book", action="store_true",
                   help="skip the book without solutions and the worksheet (keys still printed)")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    p.set_defaults(run=_class)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "run", None) is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: choose a command: validate, simulate, convert, pdf or class", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except _Failure as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback at the user
        print(f"{PROG} {args.command}: unexpected error: {type(exc).__name__}: {exc}\n"
              "(this is a bug in ctcbook; please report it with the command you ran)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
