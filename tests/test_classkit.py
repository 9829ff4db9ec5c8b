"""The class kit (``python -m ctcbook class``): roster, seeds, answer keys, files and PDFs.

The decisive check: a student's answer key holds the numbers the book itself computes on
that student's cohort. The notebooks that pose the exercises are executed on the cohort
(``CTCBOOK_DATA``) and their glued numbers compared with the key.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from ctcbook.__main__ import main
from ctcbook.cohort.io import load_cohort
from ctcbook.publish import classkit
from ctcbook.publish.answerkey import EXERCISES, answer_key
from ctcbook.publish.classkit import ClassKitError, read_roster, student_seed
from ctcbook.simulation.synthetic import simulate_cohort

ROOT = Path(__file__).resolve().parents[1]


def roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def key_of(cohort) -> dict[str, dict[str, str]]:
    return {e.exercise.label: dict(e.numbers) for e in answer_key(cohort)}


# ---------------------------------------------------------------------------- roster and seeds


def test_roster_reads_the_student_id_column(tmp_path):
    path = roster(tmp_path, "Name,Student_ID\nAnn,s1\n\nBob, s2 \n")
    assert read_roster(path) == ["s1", "s2"]


@pytest.mark.parametrize("text, message", [
    ("name\nAnn\n", "no column 'student_id'"),
    ("student_id\ns1\n\ns1\n", "row 4, column student_id: 's1' repeats row 2"),
    ("student_id,name\n,Ann\n", "row 2, column student_id: empty student id"),
    ("student_id\na/b\na_b\n", "give the same folder name 'a_b'"),
    ("", "the file is empty"),
    ("student_id\n", "no student ids"),
])
def test_roster_problems_name_the_row_and_column(tmp_path, text, message):
    with pytest.raises(ClassKitError, match=re.escape(message)):
        read_roster(roster(tmp_path, text))


def test_missing_roster_is_a_clear_error(tmp_path, capsys):
    code = main(["class", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "kit")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "nope.csv: no such file" in err and "Traceback" not in out + err


def test_seed_is_the_documented_hash_of_the_id():
    expected = int(hashlib.sha256(b"ctcbook-class:20261").hexdigest()[:8], 16)
    assert student_seed("20261") == expected
    assert student_seed("20261") != student_seed("20262")
    assert "sha256(\"ctcbook-class:\" + id)" in classkit.__doc__


# ---------------------------------------------------------------------------- the key


def exercise_labels_in_the_book() -> set[str]:
    """Every exercise label of the book's sources (``:label: ex-...`` of an exercise)."""
    labels = set()
    sources = [*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.ipynb")]
    for path in sources:
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        else:
            text = path.read_text(encoding="utf-8")
        for block in re.findall(r"[:`]{3}\{exercise(?:-start)?\}\s*\n((?::\w[\w-]*:.*\n)*)", text):
            labels.update(re.findall(r":label:\s*(\S+)", block))
    return labels


def test_every_exercise_of_the_book_is_in_the_key():
    """A new exercise must be added to ``answerkey.EXERCISES`` (see its docstring)."""
    in_book = exercise_labels_in_the_book()
    in_key = [ex.label for ex in EXERCISES]
    assert len(in_key) == len(set(in_key))
    assert in_book, "no exercises found in the book's sources"
    assert in_book - set(in_key) == set(), "exercises missing from the answer key"
    assert set(in_key) - in_book == set(), "answer-key entries for exercises the book lacks"


def test_key_is_deterministic_and_differs_between_cohorts():
    a, b = simulate_cohort(n=52, seed=11), simulate_cohort(n=52, seed=12)
    assert key_of(a) == key_of(simulate_cohort(n=52, seed=11))
    assert key_of(a) != key_of(b)


def test_key_counts_match_a_direct_computation():
    cohort = simulate_cohort(n=52, seed=student_seed("s001"))
    key = key_of(cohort)
    ctc = cohort.ctc
    baseline = ctc[ctc["timepoint"] == "baseline"]["ctc_count"]
    assert key["ex-ctc-counts-mean"]["mean CTC count at baseline (per 7.5 mL)"] == f"{baseline.mean():.1f}"
    neg = int((cohort.patients["primary_her2"] == "negative").sum())
    assert key["ex-table1-share"]["HER2-negative primary, all patients"].startswith(f"{neg} of 52")
    assert key["ex-kappa-hand"] == {"observed agreement p_o": "0.70",
                                    "chance agreement p_e": "0.50", "kappa": "0.40"}


def test_new_checks_keys_match_a_direct_computation():
    """The c-index and monotone-likelihood keys against lifelines and the Firth fit directly.

    c-index: Harrell's c of lifelines' ``CoxPHFitter`` (``concordance_index_``) on the
    complete cases, and the likelihood-ratio test from its log-likelihoods. Monotone
    likelihood (Heinze & Schemper 2001): with no deaths in the small group the estimate is 0,
    no Wald interval exists and every bootstrap ratio is 0; Firth's estimate is finite.
    """
    from lifelines import CoxPHFitter
    from scipy import stats

    from ctcbook.cohort.rules import patient_table
    from ctcbook.report.tables import format_p
    from ctcbook.stats.firth import cox_firth, round_hr

    cohort = simulate_cohort(n=52, seed=student_seed("s003"))
    key = key_of(cohort)
    table = patient_table(cohort)

    known = table["her2_pos_first_follow_up"].dropna()
    k, n = int(known.sum()), len(known)
    cindex = key["ex-checks-cindex"]
    assert cindex["patients with HER2+ CTCs at first follow-up"] == f"{k} of {n}"
    assert cindex["pairs the marker can reorder"].startswith(f"{k} × {n - k} = {k * (n - k)} of {n * (n - 1) // 2} ")
    for ep in ("pfs", "os"):
        d = table[[f"{ep}_days", f"{ep}_event", "ctc_pos_baseline", "her2_pos_first_follow_up"]].dropna()
        base = CoxPHFitter().fit(d.drop(columns="her2_pos_first_follow_up"), f"{ep}_days", f"{ep}_event")
        full = CoxPHFitter().fit(d, f"{ep}_days", f"{ep}_event")
        p = stats.chi2.sf(2 * (full.log_likelihood_ - base.log_likelihood_), 1)
        assert cindex[f"c-index, count model and with HER2 status ({ep.upper()})"] == (
            f"{base.concordance_index_:.3f} to {full.concordance_index_:.3f} "
            f"(likelihood-ratio p = {format_p(p)})")

    d = table.dropna(subset=["her2_pos_first_follow_up"])
    small = d["her2_pos_first_follow_up"].to_numpy() == 1
    event = d["os_event"].to_numpy() * ~small
    firth = cox_firth(d["os_days"].to_numpy(), event, small.astype(float), names=["g"]).summary.loc[0]
    mono = key["ex-beyond-monotone"]
    assert mono["Wald: hazard ratio (95% interval)"] == "0 (0 to ∞)"
    assert mono["Profile likelihood: hazard ratio (95% interval)"].startswith("0 (0 to ")
    assert mono["Firth, profile penalised likelihood: hazard ratio (95% interval)"] == (
        f"{round_hr(firth['hazard_ratio'])} ({round_hr(firth['ci_lower'])} to {round_hr(firth['ci_upper'])})")
    assert 0 < firth["hazard_ratio"] < np.inf
    assert mono["Bootstrap percentile: hazard ratio (95% interval)"] == "0 (0 to 0)"
    assert key["ex-checks-holm-hand"] == {"Holm": "0.03, 0.04, 0.04", "Benjamini-Hochberg": "0.03, 0.03, 0.04"}


def glued(path: Path) -> dict[str, str]:
    """Execute a notebook (on ``CTCBOOK_DATA``) and return its glued values as text."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, startup_timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            key = scrap.get("mime_prefix", "") + "text/plain"
            if scrap.get("name") and key in output.get("data", {}):
                values[scrap["name"]] = output["data"][key].strip("'\"")
    return values


def test_key_equals_what_the_book_computes_on_the_students_cohort(tmp_path, monkeypatch):
    student = "s002"
    folder = tmp_path / "cohort"
    from ctcbook.cohort.io import write_cohort

    write_cohort(simulate_cohort(n=52, seed=student_seed(student)), folder)
    cohort = load_cohort(folder)
    key = key_of(cohort)
    monkeypatch.setenv("CTCBOOK_DATA", str(folder))
    nb = ROOT / "notebooks"

    g = glued(nb / "02-who-were-the-patients.ipynb")
    assert key["ex-table1-share"]["HER2-negative primary, known status"] == (
        f"{g['n_primary_neg']} of {g['n_known']} ({float(g['share_neg_known']):.1f}%)")

    g = glued(nb / "04-does-a-count-of-five-predict-survival.ipynb")
    read = key["ex-read-km"]
    assert [read[q] for q in read] == [g["rt6_at_risk"], g["rt6_events"], g["rt6_censored"], g["rt6_n"]]
    assert key["ex-threshold-three"][">= 5 CTCs at baseline: patients, PFS log-rank"] == (
        f"{g['n_exp_pfs_baseline']}, {g['p_pfs_baseline']}")

    g = glued(nb / "05-do-her2-positive-ctcs-predict-survival.ipynb")
    six = key["ex-six-patients"]
    assert six["HER2+ CTCs at first follow-up: patients"] == g["n_exp_pfs"]
    assert six["HER2+ group: progressions or deaths (PFS events)"] == g["events_exp_pfs"]
    assert six["PFS log-rank p"] == g["p_pfs"]

    g = glued(nb / "06-which-factors-are-independent.ipynb")
    assert key["ex-hr-per-line"]["HR per prior line (multivariate PFS), as the exercise quotes it"] == g["hr_pfs_prior"]
    epv = key["ex-events-per-variable"]
    assert epv["events in the multivariate PFS model"] == g["multi_events_pfs"]
    assert epv["events in the multivariate OS model"] == g["multi_events_os"]

    g = glued(nb / "24-what-do-her2-positive-ctcs-add.ipynb")
    cindex = key["ex-checks-cindex"]
    assert cindex["patients with HER2+ CTCs at first follow-up"].startswith(f"{g['n_her2']} of ")
    for ep in ("pfs", "os"):
        assert cindex[f"c-index, count model and with HER2 status ({ep.upper()})"] == (
            f"{g[f'c0_{ep}']} to {g[f'c1_{ep}']} (likelihood-ratio p = {g[f'lr_p_{ep}']})")


# ---------------------------------------------------------------------------- the kit


@pytest.mark.browser
def test_class_command_writes_cohorts_keys_and_pdfs(tmp_path, capsys):
    """Three students, keys printed with Chromium (the book build is tested by test_book)."""
    from pypdf import PdfReader

    path = roster(tmp_path, "student_id\ns001\ns002\ns003\n")
    out = tmp_path / "kit"
    code = main(["class", str(path), "--out", str(out), "--no-book"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "class kit for 3 students" in stdout
    for sid in ("s001", "s002", "s003"):
        folder = out / "students" / sid
        cohort = load_cohort(folder / "cohort")
        pd.testing.assert_frame_equal(
            cohort.patients, simulate_cohort(n=52, seed=student_seed(sid)).patients,
            check_dtype=False)
        page = (folder / "answer-key.html").read_text(encoding="utf-8")
        key = key_of(cohort)
        for quantity, value in key["ex-six-patients"].items():
            assert f"<td>{quantity}</td><td class='v'>{value}</td>" in html.unescape(page)
        text = " ".join(p.extract_text() for p in PdfReader(folder / "answer-key.pdf").pages)
        assert f"student {sid}" in text and str(student_seed(sid)) in text
        assert key["ex-read-km"]["size of the group"] in text
    combined = PdfReader(out / "answer-keys.pdf")
    text = " ".join(p.extract_text() for p in combined.pages)
    assert all(f"student {sid}" in text for sid in ("s001", "s002", "s003"))
    assert (out / "index.html").is_file()
    # nothing is overwritten without --force
    assert main(["class", str(path), "--out", str(out), "--no-pdf"]) == 1
    assert "not empty" in capsys.readouterr().err


def test_key_carries_the_exercise_numbers_of_the_built_book(tmp_path):
    """Numbers are read from the built pages (sphinx-exercise's caption) and shown in the key."""
    from ctcbook.publish.answerkey import answer_key_html, exercise_numbers

    page = tmp_path / "notebooks" / "04.html"
    page.parent.mkdir()
    page.write_text('<div class="exercise admonition" id="ex-read-km"><p class="admonition-title">'
                    '<span class="caption-number">Exercise 3.6 </span></p></div>', encoding="utf-8")
    numbers = exercise_numbers(tmp_path)
    assert numbers == {"ex-read-km": "Exercise 3.6"}
    cohort = simulate_cohort(n=52, seed=1)
    text = answer_key_html("s1", 1, cohort, answer_key(cohort), numbers)
    assert "<h2>Exercise 3.6: Reading a curve and its table" in text
    assert "<h2>Mean or median count" in text  # no number known: the title alone
    numbers = {"ex-read-km": "Exercise 3.10", "ex-table1-share": "Exercise 3.9"}
    text = answer_key_html("s1", 1, cohort, answer_key(cohort), numbers)
    assert text.index("Exercise 3.9:") < text.index("Exercise 3.10:") < text.index("Mean or median")
