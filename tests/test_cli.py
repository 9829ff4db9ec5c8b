"""The command line: exit codes 0/1/2, every problem listed, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from ctcbook.__main__ import main
from ctcbook.cohort.convert import to_wide
from ctcbook.cohort.io import DATA_ENV, Cohort, load_cohort

GOOD = Path(__file__).parent / "bad_cohorts" / "good"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def good(tmp_path: Path) -> Path:
    folder = tmp_path / "cohort"
    shutil.copytree(GOOD, folder)
    return folder


# ---------------------------------------------------------------------------- validate


def test_validate_valid(capsys):
    code, out, err = run(capsys, "validate", str(GOOD))
    assert code == 0 and err == ""
    assert out == f"{GOOD}: valid cohort, 5 patients, 9 draws (synthetic)\n"


def test_validate_not_synthetic(capsys, good):
    (good / "cohort.yaml").unlink()
    code, out, _ = run(capsys, "validate", str(good))
    assert code == 0 and out.endswith("(not marked synthetic)\n")


def test_validate_defaults_to_the_environment(capsys, good, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(good))
    code, out, _ = run(capsys, "validate")
    assert code == 0 and out.startswith(f"{good}: valid cohort")


def test_validate_lists_every_problem(capsys, good):
    rows = "".join(f"Q{i},x,negative,positive,0,endocrine,0,10,1,20,1,\n" for i in range(60))
    with open(good / "patients.csv", "a", encoding="utf-8") as f:
        f.write(rows)
    code, out, err = run(capsys, "validate", str(good))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{good}: not a valid cohort, 60 problems:"
    # one line for the column, naming every row
    assert lines[1] == ('  - patients.csv, column age_years: 60 cells are not numbers (rows 7-66; '
                        'e.g. "x")')
    rows = "".join(f"R{i},{50 + i},negative,positive,0,endocrine,0,{i + 2},1,{i + 1},1,\n"
                   for i in range(60))
    with open(good / "patients.csv", "a", encoding="utf-8") as f:
        f.write(rows)
    code, out, err = run(capsys, "validate", str(good))
    lines = out.splitlines()
    assert lines[0] == f"{good}: not a valid cohort, 120 problems:"
    assert len(lines) == 63  # all of them, not capped (pfs after os: one line each), and
    assert lines[-1].startswith("(the format: ")  # where the format is described


def test_validate_missing_folder(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", str(tmp_path / "nope"))
    assert code == 1 and "folder does not exist" in out


def test_validate_binary_file(capsys, good):
    (good / "ctc.csv").write_bytes(b"PK\x03\x04" + bytes(range(256)))
    code, out, _ = run(capsys, "validate", str(good))
    assert code == 1 and "Excel workbook" in out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["validate", "a", "b"], ["simulate"],
                                  ["simulate", "--n", "many", "--out", "x"], ["convert"]])
def test_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "usage:" in err


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "validate" in out and "simulate" in out and "convert" in out


def test_unexpected_errors_are_one_clear_line(capsys, monkeypatch):
    def boom(path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("ctcbook.__main__.load_cohort", boom)
    code, out, err = run(capsys, "validate", str(GOOD))
    assert code == 1 and out == ""
    assert err.startswith("ctcbook validate: unexpected error: RuntimeError: disk on fire")


def test_python_dash_m_runs_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ctcbook", "validate", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "folder does not exist" in result.stdout and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- simulate


@pytest.fixture
def stand_in(monkeypatch):
    """A stand-in ``ctcbook.simulation.synthetic`` returning the fixture cohort (records its calls)."""
    calls = []

    def simulate_cohort(n=52, seed=0):
        calls.append((n, seed))
        c = load_cohort(GOOD)
        return Cohort(c.patients, c.ctc, source=f"simulated (seed={seed})", synthetic=True,
                      metadata={"seed": seed, "n": n})

    module = types.ModuleType("ctcbook.simulation.synthetic")
    module.simulate_cohort = simulate_cohort
    monkeypatch.setitem(sys.modules, "ctcbook.simulation.synthetic", module)
    return calls


def test_simulate_writes_a_valid_cohort(capsys, tmp_path, stand_in):
    out_dir = tmp_path / "sim"
    code, out, err = run(capsys, "simulate", "--n", "5", "--seed", "7", "--out", str(out_dir))
    assert code == 0, err
    assert stand_in == [(5, 7)]
    assert out == f"{out_dir}: wrote a simulated cohort (seed 7), 5 patients, 9 draws (synthetic)\n"
    cohort = load_cohort(out_dir)
    assert cohort.synthetic and cohort.metadata["seed"] == 7


def test_simulate_refuses_a_non_empty_folder(capsys, tmp_path, stand_in):
    out_dir = tmp_path / "sim"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run(capsys, "simulate", "--out", str(out_dir))
    assert code == 1 and "is not empty" in err and "--force" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes.txt"]
    assert stand_in == []
    code, _, _ = run(capsys, "simulate", "--out", str(out_dir), "--force")
    assert code == 0
    assert (out_dir / "notes.txt").read_text(encoding="utf-8") == "mine"  # left alone
    assert load_cohort(out_dir).n == 5


def test_simulate_refuses_a_file_as_folder(capsys, tmp_path, stand_in):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "simulate", "--out", str(target), "--force")
    assert code == 1 and "is not a folder" in err


def test_simulate_rejects_n_below_1(capsys, tmp_path, stand_in):
    code, _, err = run(capsys, "simulate", "--n", "0", "--out", str(tmp_path / "x"))
    assert code == 1 and "--n must be at least 1" in err


def test_simulate_reports_an_invalid_generated_cohort(capsys, tmp_path, monkeypatch):
    def simulate_cohort(n=52, seed=0):
        c = load_cohort(GOOD)
        ctc = c.ctc.copy()
        ctc.loc[0, "her2_positive_ctc"] = 99
        return Cohort(c.patients, ctc, synthetic=True)

    module = types.ModuleType("ctcbook.simulation.synthetic")
    module.simulate_cohort = simulate_cohort
    monkeypatch.setitem(sys.modules, "ctcbook.simulation.synthetic", module)
    code, _, err = run(capsys, "simulate", "--out", str(tmp_path / "bad"))
    assert code == 1 and "the written cohort is not valid" in err
    assert "ctc.csv, row 2 (patient P01), column her2_positive_ctc" in err


def test_simulate_end_to_end_with_the_real_generator(capsys, tmp_path):
    out_dir = tmp_path / "c7"
    code, out, err = run(capsys, "simulate", "--n", "52", "--seed", "7", "--out", str(out_dir))
    assert code == 0, err
    cohort = load_cohort(out_dir)
    assert cohort.n == 52 and cohort.synthetic
    assert out.startswith(f"{out_dir}: wrote a simulated cohort (seed 7), 52 patients")
    again = tmp_path / "c7b"
    assert main(["simulate", "--n", "52", "--seed", "7", "--out", str(again)]) == 0
    for name in ("patients.csv", "ctc.csv", "cohort.yaml"):  # deterministic, byte for byte
        assert (again / name).read_bytes() == (out_dir / name).read_bytes()
    capsys.readouterr()


# ---------------------------------------------------------------------------- convert


def test_convert(capsys, tmp_path):
    wide = tmp_path / "clinic.csv"
    to_wide(load_cohort(GOOD)).to_csv(wide, index=False)
    out_dir = tmp_path / "long"
    code, out, err = run(capsys, "convert", str(wide), "--out", str(out_dir))
    assert code == 0, err
    assert out == f"{out_dir}: wrote 5 patients, 9 draws (not marked synthetic), converted from {wide}\n"
    cohort = load_cohort(out_dir)
    assert not cohort.synthetic
    assert cohort.metadata == {"source": str(wide)}
    pd.testing.assert_frame_equal(cohort.patients, load_cohort(GOOD).patients)


def test_convert_lists_problems_and_writes_nothing(capsys, tmp_path):
    wide = tmp_path / "clinic.csv"
    frame = to_wide(load_cohort(GOOD))
    frame.loc[1, "her2_ctc_baseline"] = 50
    frame.loc[3, "pfs_event"] = 7
    frame.to_csv(wide, index=False)
    out_dir = tmp_path / "long"
    code, out, _ = run(capsys, "convert", str(wide), "--out", str(out_dir))
    assert code == 1 and not out_dir.exists()
    assert out.splitlines()[0] == f"{wide}: cannot be converted, 2 problems:"
    assert "clinic.csv, row 3 (patient P02), column her2_ctc_baseline" in out
    assert "clinic.csv, row 5 (patient P04), column pfs_event" in out


def test_convert_missing_file(capsys, tmp_path):
    code, out, _ = run(capsys, "convert", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o"))
    assert code == 1 and "file does not exist" in out


# ------------------------------------------------------------------ messy real-world files

MESSY = Path(__file__).parent / "bad_cohorts" / "messy"


def test_dates_instead_of_days_are_one_line_per_column_with_advice(capsys, tmp_path):
    """A clinic export with dates: one actionable line per column, not a line per cell."""
    before = (MESSY / "dates.csv").read_bytes()
    code, out, err = run(capsys, "convert", str(MESSY / "dates.csv"), "--out", str(tmp_path / "c"))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith("cannot be converted, 15 problems:")
    assert lines[1] == (
        '  - dates.csv, column pfs_days: 5 cells look like dates (rows 2-6; e.g. "2011-02-28"); '
        "give days since the baseline blood draw (in a one-row-per-patient sheet, add a "
        "baseline_date column and use `ctcbook convert --dates`)")
    assert sum("look like dates" in line for line in lines) == 3  # pfs_days, os_days, day_first_...
    assert "data-dictionary" in lines[-1]
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
    assert (MESSY / "dates.csv").read_bytes() == before


def test_convert_dates_counts_days_from_baseline_date(capsys, tmp_path):
    """``convert --dates``: the same sheet gives the cohort with days (checked on patient P02)."""
    code, out, _ = run(capsys, "convert", str(MESSY / "dates.csv"), "--out", str(tmp_path / "c"),
                       "--dates")
    assert code == 0, out
    assert "dates read as days since baseline_date (5 in pfs_days, 5 in os_days" in out
    cohort = load_cohort(tmp_path / "c")
    good = load_cohort(GOOD)
    same = ["patient_id", "timepoint", "ctc_count", "her2_positive_ctc"]
    pd.testing.assert_frame_equal(cohort.ctc[same], good.ctc[same])
    # whole days (the sheet was made from dates, so day 24.5 became 24)
    assert cohort.ctc["day"].tolist() == good.ctc["day"].astype(int).astype(float).tolist()
    for col in ("pfs_days", "os_days"):
        assert cohort.patients[col].tolist() == good.patients[col].tolist()
    assert cohort.patients["baseline_date"].tolist()[:2] == ["2010-01-04", "2010-02-10"]


def test_convert_dates_needs_a_baseline_date_column(capsys, tmp_path):
    sheet = tmp_path / "no-base.csv"
    text = (MESSY / "dates.csv").read_text().replace("baseline_date", "first_seen")
    sheet.write_text(text)
    code, out, _ = run(capsys, "convert", str(sheet), "--out", str(tmp_path / "c"), "--dates")
    assert code == 1
    assert "row 1, column baseline_date: column is missing; --dates counts days" in out


def test_european_excel_sheet_with_clinical_spellings_is_converted_with_notes(capsys, tmp_path):
    """';'-separated, decimal commas, Neg/POS/+/-/yes/no/chemo: read, and every mapping said."""
    before = (MESSY / "european.csv").read_bytes()
    code, out, err = run(capsys, "convert", str(MESSY / "european.csv"), "--out",
                         str(tmp_path / "c"))
    assert code == 0 and err == "", out
    assert "read as ';'-separated" in out and "decimal commas read as points (2 cells" in out
    for line in ('column primary_her2: read "Neg" as "negative" (row 2)',
                 'column hormone_receptor: read "+" as "positive" (row 2)',
                 'column therapy: read "chemo" as "chemotherapy" (row 4)',
                 'column visceral_metastasis: read "no" as "0" (rows 2, 6)'):
        assert line in out
    cohort = load_cohort(tmp_path / "c")
    assert cohort.notes == ()  # the written cohort uses the format's labels
    assert cohort.patients["primary_her2"].tolist() == [
        "negative", "positive", "unknown", "negative", "negative"]
    assert cohort.patients["age_years"].tolist()[1] == 61.5
    assert (MESSY / "european.csv").read_bytes() == before


def test_version_and_examples_in_help(capsys):
    from ctcbook import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"ctcbook {__version__}"
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "examples:" in out and "ctcbook convert sheet.csv --out my-cohort --dates" in out
    assert "book/data-dictionary.md" in out
