"""The cohort loader: a valid folder loads with typed columns; every bad input gives a
CohortError that lists each problem (file, row, column, plain message); nothing the
user gave is modified; random input never gives any other exception."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctcbook.cohort.checks import validate_frames
from ctcbook.cohort.format import (
    CTC_COLUMNS,
    DATA_ENV,
    PATIENT_COLUMNS,
    SHIPPED,
    Cohort,
    CohortError,
    Problem,
    cohort_path,
    format_problems,
    summarise_problems,
    timepoint_order,
)
from ctcbook.cohort.io import load_cohort, validate_cohort, write_cohort

GOOD = Path(__file__).parent / "bad_cohorts" / "good"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A copy of the valid fixture cohort, free to be spoiled."""
    folder = tmp_path / "cohort"
    shutil.copytree(GOOD, folder)
    return folder


def replace(folder: Path, file: str, old: str, new: str, count: int = 1) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, file)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(CohortError) as info:
        load_cohort(folder)
    problems = info.value.problems
    assert problems == validate_cohort(folder)
    text = str(info.value)
    # each problem is listed, or summarised with the others of its kind in its column
    assert all(str(p) in text or (p.group and f"{p.file}, column {p.column}: " in text)
               for p in problems[:50])
    return problems


def only(folder: Path) -> Problem:
    problems = problems_of(folder)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# ---------------------------------------------------------------------------- valid


def test_valid_folder_loads_with_typed_columns():
    cohort = load_cohort(GOOD)
    assert isinstance(cohort, Cohort)
    assert cohort.n == 5 and len(cohort.ctc) == 9
    assert tuple(cohort.patients.columns[: len(PATIENT_COLUMNS)]) == PATIENT_COLUMNS
    assert tuple(cohort.ctc.columns[: len(CTC_COLUMNS)]) == CTC_COLUMNS
    assert list(cohort.patients.columns[len(PATIENT_COLUMNS):]) == ["site"]  # extras kept
    assert list(cohort.ctc.columns[len(CTC_COLUMNS):]) == ["note"]
    p, c = cohort.patients, cohort.ctc
    for col in ("prior_therapies", "visceral_metastasis", "pfs_event", "os_event"):
        assert p[col].dtype == "int64", col
    for col in ("age_years", "pfs_days", "os_days"):
        assert p[col].dtype == "float64", col
    assert c["ctc_count"].dtype == "int64" and c["her2_positive_ctc"].dtype == "int64"
    assert c["day"].dtype == "float64"
    assert all(isinstance(v, str) for v in p["primary_her2"])
    assert pd.isna(p.loc[2, "age_years"])  # empty age = unknown
    assert p.loc[2, "site"] == "Osaka, north"  # quoted comma
    assert c.loc[8, "day"] == 24.5
    assert list(p["patient_id"]) == ["P01", "P02", "P03", "P04", "P05"]  # file order
    assert cohort.source == str(GOOD)
    assert cohort.synthetic is True
    assert cohort.metadata == {
        "source": "hand-written test fixture",
        "description": "five made-up patients for the loader tests",
        "seed": 0,
        "n": 5,
    }
    assert validate_cohort(GOOD) == []


def test_without_cohort_yaml_the_cohort_is_not_synthetic(good):
    (good / "cohort.yaml").unlink()
    cohort = load_cohort(good)
    assert cohort.synthetic is False and cohort.label == "cohort"
    assert cohort.metadata == {}


def test_source_is_the_path_as_given(good, monkeypatch):
    monkeypatch.chdir(good.parent)
    assert load_cohort("cohort").source == "cohort"
    assert load_cohort(Path("cohort")).source == "cohort"


def test_path_resolution(good, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert cohort_path() == SHIPPED
    monkeypatch.setenv(DATA_ENV, str(good))
    assert cohort_path() == good
    assert load_cohort().n == 5
    assert cohort_path(GOOD) == GOOD  # the argument wins over the environment


def test_bom_crlf_blank_lines_and_spaces_are_fine(good):
    text = (good / "patients.csv").read_text(encoding="utf-8")
    text = text.replace("P02,61.5,positive", " P02 , 61.5 ,positive ")
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n"
    (good / "patients.csv").write_bytes(data)
    cohort = load_cohort(good)
    assert cohort.patients.loc[1, "patient_id"] == "P02"
    assert cohort.patients.loc[1, "primary_her2"] == "positive"
    assert cohort.patients.loc[1, "age_years"] == 61.5


def test_whole_numbers_written_as_floats_are_integers(good):
    replace(good, "ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0.0,12.0,4.0")
    cohort = load_cohort(good)
    assert cohort.ctc.loc[2, "ctc_count"] == 12 and cohort.ctc["ctc_count"].dtype == "int64"


def test_patient_without_draws_or_baseline_is_allowed(good):
    replace(good, "ctc.csv", "P04,baseline,0,40,0,\n", "")
    cohort = load_cohort(good)
    assert "P04" not in set(cohort.ctc["patient_id"])
    assert "baseline" not in set(cohort.ctc.loc[cohort.ctc.patient_id == "P05", "timepoint"])


def test_later_follow_ups(good):
    replace(good, "ctc.csv", "P01,first_follow_up,28,0,0,\n",
            "P01,first_follow_up,28,0,0,\nP01,follow_up_3,200,1,1,\nP01,follow_up_12,900,0,0,\n")
    assert len(load_cohort(good).ctc) == 11


def test_timepoint_order():
    assert [timepoint_order(t) for t in ("baseline", "first_follow_up", "follow_up_2", "follow_up_10")] == [0, 1, 2, 10]
    for bad in ("follow_up_1", "follow_up_0", "follow_up_02", "Baseline", "week4", ""):
        assert timepoint_order(bad) is None, bad


def test_write_then_load_round_trip(good, tmp_path):
    cohort = load_cohort(good)
    out = write_cohort(cohort, tmp_path / "copy")
    again = load_cohort(out)
    pd.testing.assert_frame_equal(again.patients, cohort.patients)
    pd.testing.assert_frame_equal(again.ctc, cohort.ctc)
    assert again.synthetic is True and again.metadata == cohort.metadata


def test_validate_frames_checks_in_memory_tables():
    cohort = load_cohort(GOOD)
    assert validate_frames(cohort.patients, cohort.ctc) == []
    ctc = cohort.ctc.copy()
    ctc.loc[3, "her2_positive_ctc"] = 99
    patients = cohort.patients.drop(columns="therapy")
    problems = validate_frames(patients, ctc)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("patients.csv", 1, "therapy"),
        ("ctc.csv", 5, "her2_positive_ctc"),
    ]


def test_error_is_a_value_error_and_picklable(good):
    (good / "ctc.csv").unlink()
    with pytest.raises(ValueError) as info:
        load_cohort(good)
    err = info.value
    assert isinstance(err, CohortError)
    again = pickle.loads(pickle.dumps(err))
    assert again.problems == err.problems and str(again) == str(err)


# ---------------------------------------------------------------------------- nothing modified


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("spoil", ["none", "bad value", "latin-1"])
def test_loading_modifies_nothing(good, spoil):
    if spoil == "bad value":
        replace(good, "patients.csv", "420", "abc")
    elif spoil == "latin-1":
        (good / "ctc.csv").write_bytes("note\ncaf\u00e9\n".encode("latin-1"))
    old = os.utime(good / "patients.csv", ns=(1_000_000_000, 1_000_000_000))
    del old
    before = snapshot(good)
    listing = sorted(os.listdir(good))
    try:
        load_cohort(good)
    except CohortError:
        pass
    validate_cohort(good)
    assert snapshot(good) == before
    assert sorted(os.listdir(good)) == listing


# ---------------------------------------------------------------------------- bad folders and files


def test_missing_folder(tmp_path):
    p = only(tmp_path / "nope")
    assert p.file == str(tmp_path / "nope") and "folder does not exist" in str(p)


def test_a_file_instead_of_a_folder(good):
    p = only(good / "patients.csv")
    assert "is a file, not a folder" in p.message and "give the folder that contains it" in p.message


@pytest.mark.parametrize("file", ["patients.csv", "ctc.csv"])
def test_missing_file(good, file):
    (good / file).unlink()
    p = only(good)
    assert (p.file, p.row, p.column) == (file, None, None)
    assert p.message == "file is missing"


def test_missing_file_hints_at_wrong_name(good):
    (good / "patients.csv").rename(good / "Patients.csv")
    assert "file names are case-sensitive" in only(good).message
    (good / "Patients.csv").rename(good / "patients.xlsx")
    assert "found 'patients.xlsx'" in only(good).message


def test_both_files_missing_are_both_reported(good):
    (good / "patients.csv").unlink()
    (good / "ctc.csv").unlink()
    assert [p.file for p in problems_of(good)] == ["patients.csv", "ctc.csv"]


@pytest.mark.parametrize("file", ["patients.csv", "ctc.csv"])
def test_empty_file(good, file):
    (good / file).write_bytes(b"")
    p = only(good)
    assert p.file == file and "file is empty (0 bytes)" in p.message


def test_blank_lines_only(good):
    (good / "ctc.csv").write_bytes(b"\n\r\n  \n")
    assert "file is empty" in only(good).message


@pytest.mark.parametrize("file", ["patients.csv", "ctc.csv"])
def test_header_only(good, file):
    header = (good / file).read_text(encoding="utf-8").splitlines()[0]
    (good / file).write_text(header + "\n", encoding="utf-8")
    problems = problems_of(good)
    if file == "patients.csv":  # then every draw is for an unknown patient, also reported
        assert "no rows (no patients)" in str(problems[0])
        assert all("is not in patients.csv" in p.message for p in problems[1:])
    else:
        assert len(problems) == 1 and "no rows (no blood draws)" in problems[0].message


def test_missing_column(good):
    text = (good / "patients.csv").read_text(encoding="utf-8")
    lines = [",".join(f for i, f in enumerate(row.split(",")) if i != 7) for row in text.splitlines()]
    lines[3] = "P03,,unknown,unknown,1,chemotherapy,1,0,180,0,\"Osaka, north\""
    (good / "patients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = only(good)
    assert (p.file, p.row, p.column) == ("patients.csv", 1, "pfs_days")
    assert str(p) == "patients.csv, row 1, column pfs_days: column is missing"


def test_misnamed_column_gets_a_hint(good):
    replace(good, "ctc.csv", "ctc_count", "CTC_count")
    p = only(good)
    assert p.column == "ctc_count" and 'rename it to "ctc_count"' in p.message


def test_swapped_files(good):
    patients = (good / "patients.csv").read_bytes()
    (good / "patients.csv").write_bytes((good / "ctc.csv").read_bytes())
    (good / "ctc.csv").write_bytes(patients)
    messages = [p.message for p in problems_of(good)]
    assert any("this looks like ctc.csv" in m for m in messages)
    assert any("this looks like patients.csv" in m for m in messages)


def test_duplicate_and_unnamed_header_columns(good):
    replace(good, "ctc.csv", "her2_positive_ctc,note", "her2_positive_ctc,day")
    p = only(good)
    assert p.column == "day" and "appears twice in the header (columns 3 and 6)" in p.message
    replace(good, "ctc.csv", "her2_positive_ctc,day", "her2_positive_ctc,")
    assert "column 6 of the header has no name" in only(good).message
    replace(good, "ctc.csv", "her2_positive_ctc,", "her2_positive_ctc,note")
    replace(good, "patients.csv", "os_event,site", "os_event,age_years")
    p = only(good)  # and no cascade of "not in patients.csv" for the draws
    assert (p.file, p.column) == ("patients.csv", "age_years")


@pytest.mark.parametrize(
    ("sep", "label"), [(";", "';'"), ("\t", "tab"), ("|", "'|'")]
)
def test_wrong_delimiter(good, sep, label):
    text = (good / "ctc.csv").read_text(encoding="utf-8").replace(",", sep)
    (good / "ctc.csv").write_text(text, encoding="utf-8")
    p = only(good)
    assert p.file == "ctc.csv"
    assert p.message == f"this file seems to use {label} as separator; save it as comma-separated (CSV)"


def test_semicolon_file_with_decimal_commas(good):
    text = (good / "patients.csv").read_text(encoding="utf-8")
    text = text.replace('"Osaka, north"', "Osaka").replace("61.5", '"61,5"').replace(",", ";")
    (good / "patients.csv").write_text(text, encoding="utf-8")
    assert "seems to use ';' as separator" in only(good).message


def test_latin1_file(good):
    text = (good / "patients.csv").read_text(encoding="utf-8")
    text = text.replace("Tokyo", "T\u00f4ky\u00f4").replace("Kyoto", "Ky\u00f4to")
    (good / "patients.csv").write_bytes(text.encode("latin-1"))
    p = only(good)
    assert (p.file, p.row) == ("patients.csv", 2)
    assert "byte 0xF4 is not valid UTF-8" in p.message
    assert '"\u00f4"' in p.message and "save it as UTF-8" in p.message
    assert "Also on lines 3, 5, 6." in p.message


def test_utf8_bom_and_non_ascii_are_fine(good):
    replace(good, "patients.csv", "Tokyo", "\u6771\u4eac")
    data = (good / "patients.csv").read_bytes()
    (good / "patients.csv").write_bytes(b"\xef\xbb\xbf" + data)
    assert load_cohort(good).patients.loc[0, "site"] == "\u6771\u4eac"


def test_utf16_file(good):
    text = (good / "ctc.csv").read_text(encoding="utf-8")
    (good / "ctc.csv").write_bytes(text.encode("utf-16"))
    assert "UTF-16" in only(good).message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel workbook (.xls)"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"patient_id,timepoint\nP01,base\x00line\n", "contains NUL bytes (first on line 2)"),
    ],
)
def test_not_a_csv_at_all(good, data, words):
    (good / "ctc.csv").write_bytes(data)
    p = only(good)
    assert p.file == "ctc.csv" and words in p.message


def test_ragged_rows(good):
    replace(good, "ctc.csv", "P02,first_follow_up,26,7,2,", "P02,first_follow_up,26,7,2")
    replace(good, "ctc.csv", "P03,baseline,0,0,0,", "P03,baseline,0,0,0,,extra")
    problems = problems_of(good)
    assert [(p.row, p.patient) for p in problems] == [(5, "P02"), (7, "P03")]
    assert "has 5 fields but the header has 6 (fewer" in problems[0].message
    assert "has 7 fields but the header has 6 (more" in problems[1].message


def test_unclosed_quote(good):
    replace(good, "patients.csv", '"Osaka, north"', '"Osaka, north')
    p = only(good)
    assert p.file == "patients.csv" and "quotes" in p.message


def test_bad_cohort_yaml(good):
    (good / "cohort.yaml").write_text("synthetic: [true\n", encoding="utf-8")
    p = only(good)
    assert p.file == "cohort.yaml" and "is not valid YAML" in p.message
    (good / "cohort.yaml").write_text("synthetic: maybe\n", encoding="utf-8")
    p = only(good)
    assert (p.column, p.message) == ("synthetic", '"maybe" is not allowed; use true or false')
    (good / "cohort.yaml").write_text("- a list\n", encoding="utf-8")
    assert "must be a mapping" in only(good).message


def test_empty_cohort_yaml_means_not_synthetic(good):
    (good / "cohort.yaml").write_text("# nothing\n", encoding="utf-8")
    assert load_cohort(good).synthetic is False


# ---------------------------------------------------------------------------- bad values

# (file, old text, new text, row, column, expected message)
BAD_VALUES = [
    ("patients.csv", "P01,54,", "P01,abc,", 2, "age_years", '"abc" is not a number'),
    ("patients.csv", "P01,54,", "P01,0,", 2, "age_years", '"0" must be more than 0 (age in years; leave empty if unknown)'),
    ("patients.csv", ",420,1,", ",abc,1,", 2, "pfs_days", '"abc" is not a number'),
    ("patients.csv", ",420,1,", ",-5,1,", 2, "pfs_days", '"-5" must be more than 0 (days from the baseline blood draw)'),
    ("patients.csv", ",420,1,", ",0,1,", 2, "pfs_days", '"0" must be more than 0 (days from the baseline blood draw)'),
    ("patients.csv", ",420,1,", ",nan,1,", 2, "pfs_days", '"nan" is not a number'),
    ("patients.csv", ",420,1,", ",1e999,1,", 2, "pfs_days", '"1e999" is too large'),
    ("patients.csv", ",980,1,", ",,1,", 2, "os_days", "is empty; a number is required (days from the baseline blood draw)"),
    ("patients.csv", ",420,1,980,1,", ",990,1,980,1,", 2, "pfs_days",
     "pfs_days (990) is more than os_days (980); progression-free survival cannot be longer than overall survival"),
    ("patients.csv", ",420,1,", ",420,2,", 2, "pfs_event", '"2" is not allowed; use 1 (progression or death) or 0 (censored)'),
    ("patients.csv", "positive,0,endocrine", "positive,-1,endocrine", 2, "prior_therapies",
     '"-1" is negative; the number of prior lines of therapy must be a whole number 0 or more'),
    ("patients.csv", "positive,0,endocrine", "positive,1.5,endocrine", 2, "prior_therapies",
     '"1.5" is not a whole number; the number of prior lines of therapy must be a whole number 0 or more'),
    ("patients.csv", "positive,0,endocrine", "positive,two,endocrine", 2, "prior_therapies",
     '"two" is not a number; the number of prior lines of therapy must be a whole number 0 or more'),
    ("patients.csv", ",980,1,", ",980,dead,", 2, "os_event", '"dead" is not allowed; use 1 (death) or 0 (censored)'),
    ("patients.csv", "P01,54,negative", "P01,54,3+", 2, "primary_her2",
     '"3+" is not allowed; use one of positive/negative/unknown'),
    ("patients.csv", "P01,54,negative,positive", "P01,54,negative,ER+", 2, "hormone_receptor",
     '"ER+" is not allowed; use one of positive/negative/unknown'),
    ("patients.csv", "anti_her2", "", 3, "therapy",
     "is empty; use one of chemotherapy/endocrine/anti_her2/combination/other"),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,12.5,4", 4, "ctc_count",
     '"12.5" is not a whole number; the CTC count per 7.5 mL must be a whole number 0 or more'),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,-12,4", 4, "ctc_count",
     '"-12" is negative; the CTC count per 7.5 mL must be a whole number 0 or more'),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,many,4", 4, "ctc_count",
     '"many" is not a number; the CTC count per 7.5 mL must be a whole number 0 or more'),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,,4", 4, "ctc_count",
     "is empty; the CTC count per 7.5 mL must be a whole number 0 or more"),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,99999999999999999999,4", 4, "ctc_count",
     '"99999999999999999999" is too large'),
    ("ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,12,13", 4, "her2_positive_ctc",
     "13 HER2-positive CTCs is more than the 12 CTCs in ctc_count; her2_positive_ctc must not exceed ctc_count"),
    ("ctc.csv", "P01,first_follow_up,28", "P01,first_follow_up,-28", 3, "day",
     '"-28" is negative; it must be 0 or more'),
    ("ctc.csv", "P02,baseline,0,", "P02,baseline,3,", 4, "day", "baseline draw on day 3; the baseline draw is day 0"),
    ("ctc.csv", "P01,first_follow_up,28", "P01,first_follow_up,0", 3, "day",
     "first_follow_up draw on day 0; only the baseline draw is on day 0"),
    ("ctc.csv", "P02,follow_up_2,90", "P02,follow_up_2,20", 6, "day",
     "follow_up_2 on day 20 is not after first_follow_up on day 26; draws must be in time order"),
    ("ctc.csv", "P03,first_follow_up,30", "P03,first_follow_up,200", 8, "day",
     "draw on day 200 is after os_days (180), the patient's death or last contact"),
    ("ctc.csv", "P01,first_follow_up,28", "P01,baseline,0", 3, "timepoint",
     'a second baseline draw for patient "P01" (first on row 2); at most one row per patient and timepoint'),
    ("ctc.csv", "P01,first_follow_up", "P01,Week 4", 3, "timepoint",
     '"Week 4" is not a known timepoint; use baseline, first_follow_up, follow_up_2, follow_up_3, ...'),
    ("ctc.csv", "P01,first_follow_up", "P01,follow_up_1", 3, "timepoint",
     '"follow_up_1" is not a known timepoint; use baseline, first_follow_up, follow_up_2, follow_up_3, ... (write "first_follow_up")'),
    ("ctc.csv", "P02,follow_up_2", "P02,follow_up_02", 6, "timepoint",
     '"follow_up_02" is not a known timepoint; use baseline, first_follow_up, follow_up_2, follow_up_3, ... (write "follow_up_2")'),
    ("ctc.csv", "P03,baseline", "P99,baseline", 7, "patient_id", 'patient "P99" is not in patients.csv'),
    ("ctc.csv", "P03,baseline", ",baseline", 7, "patient_id", "is empty; every draw needs the patient's id"),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "row", "column", "message"),
    BAD_VALUES,
    ids=[f"{b[4]}:{b[2]!r}" for b in BAD_VALUES],
)
def test_bad_value(good, file, old, new, row, column, message):
    replace(good, file, old, new)
    p = only(good)
    assert (p.file, p.row, p.column) == (file, row, column)
    assert p.message == message


# Other spellings the loader reads, with a note: (file, old, new, column, read value, note)
SPELLINGS = [
    ("patients.csv", ",980,1,", ",980,yes,", "os_event", 1,
     'patients.csv, column os_event: read "yes" as "1" (row 2)'),
    ("patients.csv", "positive,0,endocrine,0,", "positive,0,endocrine,TRUE,", "visceral_metastasis",
     0 + 1, 'patients.csv, column visceral_metastasis: read "TRUE" as "1" (row 2)'),
    ("patients.csv", "P01,54,negative", "P01,54,Positive", "primary_her2", "positive",
     'patients.csv, column primary_her2: read "Positive" as "positive" (row 2)'),
    ("patients.csv", "P01,54,negative", "P01,54,NEG", "primary_her2", "negative",
     'patients.csv, column primary_her2: read "NEG" as "negative" (row 2)'),
    ("patients.csv", "P01,54,negative,positive", "P01,54,negative,+", "hormone_receptor", "positive",
     'patients.csv, column hormone_receptor: read "+" as "positive" (row 2)'),
    ("patients.csv", "anti_her2", "Anti-HER2", "therapy", "anti_her2",
     'patients.csv, column therapy: read "Anti-HER2" as "anti_her2" (row 3)'),
    ("patients.csv", "endocrine", "Hormonal", "therapy", "endocrine",
     'patients.csv, column therapy: read "Hormonal" as "endocrine" (row 2)'),
    ("ctc.csv", "P01,first_follow_up", "P01,First follow-up", "timepoint", "first_follow_up",
     'ctc.csv, column timepoint: read "First follow-up" as "first_follow_up" (row 3)'),
]


@pytest.mark.parametrize(("file", "old", "new", "column", "value", "note"), SPELLINGS,
                         ids=[f"{s[3]}:{s[2]!r}" for s in SPELLINGS])
def test_other_spellings_are_read_with_a_note(good, file, old, new, column, value, note):
    """Case and common clinical spellings (Neg, POS, +, yes) are read, never silently."""
    replace(good, file, old, new)
    before = (good / file).read_bytes()
    cohort = load_cohort(good)
    frame = cohort.patients if file == "patients.csv" else cohort.ctc
    assert value in set(frame[column])
    assert cohort.notes == (note,)
    assert (good / file).read_bytes() == before  # the user's file is never modified


def test_exact_labels_give_no_notes(good):
    assert load_cohort(good).notes == ()


def test_many_dates_in_a_column_are_one_line_with_advice(good):
    """Dates instead of days: one summary line per column, with what to do (issue 16)."""
    text = (good / "patients.csv").read_text(encoding="utf-8")
    for days in ("420", "95", "180", "18", "700"):
        text = text.replace(f",{days},", ",2011-03-04,", 1)
    (good / "patients.csv").write_text(text, encoding="utf-8")
    problems = problems_of(good)
    dated = [p for p in problems if p.column == "pfs_days"]
    assert len(dated) == 5 and all("looks like a date" in p.message for p in dated)
    listed = summarise_problems(problems)
    (line,) = [p for p in listed if p.column == "pfs_days"]
    assert line.row is None
    assert line.message.startswith('5 cells look like dates (rows 2-6; e.g. "2011-03-04")')
    assert "days since the baseline blood draw" in line.message and "convert --dates" in line.message
    text = format_problems(problems, "c", limit=None)
    assert text.count("pfs_days") == 1 and text.splitlines()[0].endswith("5 problems:")


def test_decimal_commas_are_named(good):
    replace(good, "patients.csv", "P02,61.5,", 'P02,"61,5",')
    (p,) = problems_of(good)
    assert (p.row, p.column) == (3, "age_years")
    assert p.message == '"61,5" has a decimal comma; write 61.5'


def test_long_messages_wrap_to_a_width(good):
    replace(good, "ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,12,13")
    text = format_problems(problems_of(good), "my-cohort", width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert " ".join(text.split()).endswith("her2_positive_ctc must not exceed ctc_count")


def test_duplicate_patient(good):
    replace(good, "patients.csv", "P05,70", "P04,70")
    first, second = problems_of(good)  # P05's draw now has no patient: also reported
    assert (first.file, first.row, first.column) == ("patients.csv", 6, "patient_id")
    assert first.message == 'patient "P04" appears twice (first on row 5); ids must be unique'
    assert (second.file, second.row, second.message) == (
        "ctc.csv", 10, 'patient "P05" is not in patients.csv')


def test_message_names_file_row_patient_and_column(good):
    replace(good, "patients.csv", "P02,61.5,positive,negative,2,anti_her2,1,95",
            "P02,61.5,positive,negative,2,anti_her2,1,abc")
    assert str(only(good)) == 'patients.csv, row 3 (patient P02), column pfs_days: "abc" is not a number'


def test_row_numbers_count_blank_and_multiline_rows(good):
    text = (good / "patients.csv").read_text(encoding="utf-8")
    text = text.replace('"Osaka, north"', '"Osaka,\nnorth"').replace("\nP04,", "\n\nP04,")
    text = text.replace("P05,70,", "P05,-70,")
    (good / "patients.csv").write_text(text, encoding="utf-8")
    p = only(good)
    assert (p.row, p.column) == (8, "age_years")  # header 1, P01..P03 2-4, P03 spans 4-5, blank 6


def test_every_problem_is_reported(good):
    replace(good, "patients.csv", "P01,54,negative", "P01,-54,Negativ")
    replace(good, "patients.csv", ",95,1,310,1,", ",95,3,abc,1,")
    replace(good, "ctc.csv", "P02,baseline,0,12,4", "P02,baseline,0,12,40")
    replace(good, "ctc.csv", "P03,baseline", "P77,baseline")
    problems = problems_of(good)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("patients.csv", 2, "age_years"),
        ("patients.csv", 2, "primary_her2"),
        ("patients.csv", 3, "pfs_event"),
        ("patients.csv", 3, "os_days"),
        ("ctc.csv", 4, "her2_positive_ctc"),
        ("ctc.csv", 7, "patient_id"),
    ]


def test_message_is_capped_but_problems_are_not(good):
    rows = "".join(f"P{i:03d},x,negative,positive,0,endocrine,0,10,1,20,1,\n" for i in range(100, 180))
    (good / "patients.csv").write_text(
        (good / "patients.csv").read_text(encoding="utf-8") + rows, encoding="utf-8")
    with pytest.raises(CohortError) as info:
        load_cohort(good)
    assert len(info.value.problems) == 80
    text = str(info.value)
    assert text.splitlines()[0].endswith("not a valid cohort, 80 problems:")
    # 80 ages that are not numbers read as one line for the column
    assert text.count("\n  - ") == 1 and "80 cells are not numbers (rows 7-86" in text
    # problems of different kinds and columns are capped at MAX_LISTED lines
    rows = "".join(f"P{i:03d},{54 + i},negative,positive,0,endocrine,0,{i},1,{i - 1},1,\n"
                   for i in range(200, 260))
    (good / "patients.csv").write_text(
        (good / "patients.csv").read_text(encoding="utf-8") + rows, encoding="utf-8")
    with pytest.raises(CohortError) as info:
        load_cohort(good)
    text = str(info.value)
    assert text.count("\n  - ") == 50 and text.endswith("  ... and 11 more")


# ---------------------------------------------------------------------------- fuzzing

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def load_or_error(folder: Path) -> None:
    """The loader's contract: a Cohort or a CohortError, nothing else."""
    try:
        cohort = load_cohort(folder)
    except CohortError as err:
        assert err.problems and all(isinstance(p, Problem) for p in err.problems)
        assert str(err)
        assert validate_cohort(folder) == err.problems
    else:
        assert isinstance(cohort, Cohort)
        assert validate_cohort(folder) == []


def with_file(file: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        shutil.copytree(GOOD, folder)
        (folder / file).write_bytes(data)
        load_or_error(folder)


FILES = st.sampled_from(["patients.csv", "ctc.csv", "cohort.yaml"])


@FUZZ
@given(file=FILES, data=st.binary(max_size=300))
def test_fuzz_random_bytes(file, data):
    with_file(file, data)


@FUZZ
@given(
    file=FILES,
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 6), st.binary(max_size=6)),
        min_size=1, max_size=4,
    ),
)
def test_fuzz_mutations_of_a_valid_file(file, edits):
    data = bytearray((GOOD / file).read_bytes())
    for pos, cut, insert in edits:
        pos %= len(data) + 1
        data[pos : pos + cut] = insert
    with_file(file, bytes(data))


CELLS = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "2.5", "1e3", "nan", "inf", "positive", "P01", "P02",
                     "baseline", "first_follow_up", "follow_up_2", " ", '"', ",", "\n", "\u00e9"]),
    st.text(max_size=5),
)


@FUZZ
@given(file=st.sampled_from(["patients.csv", "ctc.csv"]), row=st.integers(1, 9),
       col=st.integers(0, 11), cell=CELLS)
def test_fuzz_cell_replacements(file, row, col, cell):
    lines = (GOOD / file).read_text(encoding="utf-8").split("\n")
    row %= len(lines) - 1
    fields = lines[row].split(",")
    fields[col % len(fields)] = cell
    lines[row] = ",".join(fields)
    with_file(file, "\n".join(lines).encode("utf-8"))


# ---------------------------------------------------------------------------- documentation


def test_data_readme_documents_the_format():
    from ctcbook.cohort.format import CATEGORIES, TIMEPOINTS

    text = (Path(__file__).parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    for column in PATIENT_COLUMNS + CTC_COLUMNS:
        assert f"| `{column}` |" in text, column
    for labels in CATEGORIES.values():
        for label in labels:
            assert f"`{label}`" in text, label
    for tp in (*TIMEPOINTS, "follow_up_2"):
        assert f"`{tp}`" in text, tp
    assert "## Provenance and assumptions" in text
