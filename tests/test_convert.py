"""The wide-to-long converter: round trips, and problems named by wide row and column."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctcbook.cohort.convert import from_wide, to_wide, wide_columns
from ctcbook.cohort.io import CTC_COLUMNS, CohortError, load_cohort

GOOD = Path(__file__).parent / "bad_cohorts" / "good"


@pytest.fixture
def cohort():
    return load_cohort(GOOD)


@pytest.fixture
def wide(cohort) -> pd.DataFrame:
    return to_wide(cohort)


def long_draws(c) -> pd.DataFrame:
    return c.ctc[list(CTC_COLUMNS)]


def test_to_wide_columns(wide):
    assert list(wide.columns[-8:]) == [
        "ctc_baseline", "her2_ctc_baseline",
        "ctc_first_follow_up", "her2_ctc_first_follow_up", "day_first_follow_up",
        "ctc_follow_up_2", "her2_ctc_follow_up_2", "day_follow_up_2",
    ]
    assert wide["ctc_baseline"].isna().tolist() == [False, False, False, False, True]
    assert wide_columns("follow_up_2") == ("ctc_follow_up_2", "her2_ctc_follow_up_2", "day_follow_up_2")


def test_round_trip_in_memory(cohort, wide):
    back = from_wide(wide)
    pd.testing.assert_frame_equal(back.patients, cohort.patients)
    pd.testing.assert_frame_equal(back.ctc, long_draws(cohort))
    assert back.synthetic is False and back.source == "wide table"


def test_round_trip_through_a_csv_file(cohort, wide, tmp_path):
    path = tmp_path / "clinic.csv"
    wide.to_csv(path, index=False)
    back = from_wide(path, source="clinic export", metadata={"description": "x"})
    pd.testing.assert_frame_equal(back.patients, cohort.patients)
    pd.testing.assert_frame_equal(back.ctc, long_draws(cohort))
    assert back.source == "clinic export" and back.metadata == {"description": "x"}
    assert from_wide(str(path)).source == str(path)
    # and read by pandas first (float columns with NaN for the missing draws)
    again = from_wide(pd.read_csv(path))
    pd.testing.assert_frame_equal(again.ctc, long_draws(cohort))


def test_day_baseline_is_optional_but_must_be_zero(wide):
    wide["day_baseline"] = [0, 0, None, 0, None]
    assert len(from_wide(wide).ctc) == 9
    wide.loc[1, "day_baseline"] = 5
    with pytest.raises(CohortError) as info:
        from_wide(wide)
    (p,) = info.value.problems
    assert (p.row, p.column, p.patient) == (3, "day_baseline", "P02")
    assert "the baseline draw is day 0" in p.message


def test_extra_columns_are_patient_columns(wide):
    wide["day_of_diagnosis"] = ["2001-01-01"] * 5
    out = from_wide(wide)
    assert "day_of_diagnosis" in out.patients.columns


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wide.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = ("patient_id,age_years,primary_her2,hormone_receptor,prior_therapies,therapy,"
          "visceral_metastasis,pfs_days,pfs_event,os_days,os_event,"
          "ctc_baseline,her2_ctc_baseline,ctc_first_follow_up,her2_ctc_first_follow_up,"
          "day_first_follow_up\n")
ROW = "P1,50,negative,positive,1,endocrine,0,100,1,200,0,{b},{hb},{f},{hf},{d}\n"


def problems(tmp_path, *rows, header=HEADER):
    with pytest.raises(CohortError) as info:
        from_wide(write(tmp_path, header + "".join(rows)))
    return info.value.problems


def test_missing_draws_are_empty_cells(tmp_path):
    out = from_wide(write(tmp_path, HEADER + ROW.format(b="", hb="", f="3", hf="1", d="21")))
    assert out.ctc["timepoint"].tolist() == ["first_follow_up"]


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        (dict(b="3", hb="", f="", hf="", d=""), "her2_ctc_baseline",
         "is empty but ctc_baseline is given; a draw needs both counts"),
        (dict(b="", hb="1", f="", hf="", d=""), "ctc_baseline",
         "is empty but her2_ctc_baseline is given"),
        (dict(b="", hb="", f="", hf="", d="21"), "day_first_follow_up",
         "a day is given but ctc_first_follow_up and her2_ctc_first_follow_up are empty"),
        (dict(b="", hb="", f="3", hf="1", d=""), "day_first_follow_up",
         "is empty; the first_follow_up draw needs its day"),
        (dict(b="3", hb="4", f="", hf="", d=""), "her2_ctc_baseline",
         "4 HER2-positive CTCs is more than the 3 CTCs"),
        (dict(b="x", hb="0", f="", hf="", d=""), "ctc_baseline", '"x" is not a number'),
        (dict(b="", hb="", f="3", hf="1", d="300"), "day_first_follow_up",
         "draw on day 300 is after os_days (200)"),
    ],
)
def test_bad_draw_cells(tmp_path, cells, column, words):
    (p,) = problems(tmp_path, ROW.format(**cells))
    assert (p.file, p.row, p.column, p.patient) == ("wide.csv", 2, column, "P1")
    assert words in p.message


def test_missing_and_unknown_draw_columns(tmp_path):
    header = HEADER.replace(",day_first_follow_up\n", ",ctc_week_8\n")
    found = problems(tmp_path, ROW.format(b="1", hb="0", f="2", hf="0", d="5"), header=header)
    assert [(p.row, p.column) for p in found] == [(1, "ctc_week_8"), (1, "day_first_follow_up")]
    assert "'week_8' is not a known timepoint" in found[0].message
    assert found[1].message == "column is missing (for the first_follow_up draw)"


def test_patient_problems_use_wide_rows(tmp_path):
    found = problems(
        tmp_path,
        ROW.format(b="1", hb="0", f="2", hf="0", d="5"),
        ROW.format(b="1", hb="0", f="2", hf="0", d="5").replace("P1,50", "P2,-4"),
        ROW.format(b="1", hb="0", f="2", hf="0", d="5").replace("P1,", ","),
    )
    assert [(p.row, p.column) for p in found] == [(3, "age_years"), (4, "patient_id")]


def test_bad_files(tmp_path):
    with pytest.raises(CohortError, match="file does not exist"):
        from_wide(tmp_path / "nope.csv")
    with pytest.raises(CohortError, match="is a folder"):
        from_wide(tmp_path)
    path = write(tmp_path, HEADER.replace(",", ";"))  # ';' is read (issue 16), then checked
    with pytest.raises(CohortError, match="file has a header but no rows"):
        from_wide(path)
    path = write(tmp_path, HEADER.replace(",", "|"))
    with pytest.raises(CohortError, match="seems to use '|' as separator"):
        from_wide(path)
    path.write_bytes(b"PK\x03\x04" + bytes(50))
    with pytest.raises(CohortError, match=r"Excel workbook \(\.xlsx\)"):
        from_wide(path)
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(CohortError, match="no rows"):
        from_wide(path)


def test_missing_patient_column_in_a_dataframe(wide):
    with pytest.raises(CohortError) as info:
        from_wide(wide.drop(columns=["os_event"]))
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.message) == ("wide table", 1, "os_event", "column is missing")


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 6), st.binary(max_size=6)),
        min_size=1, max_size=4,
    )
)
def test_fuzz_wide_file(edits):
    data = bytearray((HEADER + ROW.format(b="1", hb="0", f="2", hf="0", d="5")
                      + ROW.format(b="", hb="", f="9", hf="9", d="30").replace("P1", "P2")).encode())
    for pos, cut, insert in edits:
        pos %= len(data) + 1
        data[pos : pos + cut] = insert
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wide.csv"
        path.write_bytes(bytes(data))
        try:
            out = from_wide(path)
        except CohortError as err:
            assert err.problems and str(err)
        else:
            assert out.n >= 1


def test_to_wide_writes_whole_days_and_counts_without_decimal_point(cohort, tmp_path):
    """A CSV written from ``to_wide`` reads 68 and 48, not 68.0 and 48.0 (issue 16)."""
    path = tmp_path / "wide.csv"
    to_wide(cohort).to_csv(path, index=False)
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("pfs_days", "os_days", "ctc_baseline", "her2_ctc_first_follow_up",
                   "day_follow_up_2"):
        assert not written[column].str.endswith(".0").any(), (column, list(written[column]))
    assert list(written["pfs_days"]) == ["420", "95", "180", "18", "700"]
    # a column with a fractional value keeps it (ages 54 and 61.5; a day 24.5)
    assert list(written["age_years"])[:2] == ["54.0", "61.5"]
    assert "24.5" in list(written["day_first_follow_up"])
    back = from_wide(path)
    pd.testing.assert_frame_equal(back.patients, cohort.patients)
