"""The answer key of the class kit: the numbers each exercise of the book asks for, on a cohort.

:data:`EXERCISES` lists every exercise of the book with a function that computes, from a
student's cohort, the numbers the exercise asks for, with the same ``ctcbook`` calls as the
notebook that poses it. Exercises whose answer does not depend on the cohort (a worked
example, a reasoning question, a simulation with its own seed) say so. To add an exercise to
the key, append a :class:`KeyExercise` to :data:`EXERCISES` (its ``label`` is the exercise's
label in the book; a test checks that every exercise of the book is listed).
:mod:`ctcbook.publish.classkit` writes the keys of a whole class.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["EXERCISES", "KEY_CSS", "KeyEntry", "KeyExercise", "answer_key", "answer_key_html",
           "exercise_numbers"]


@dataclass(frozen=True)
class KeyExercise:
    """One exercise of the book and how to compute its numbers from a cohort.

    ``compute(cohort, table)`` returns ``[(quantity, value), ...]`` (values as printed), or
    is ``None`` when the answer does not depend on the cohort; ``note`` then says why.
    """

    label: str
    page: str
    title: str
    compute: Callable | None = None
    note: str = ""


def _fmt(x: float, digits: int = 1) -> str:
    return "not reached" if not np.isfinite(x) else f"{x:.{digits}f}"


def _ctc_counts_mean(cohort, table):
    baseline = table["ctc_baseline"].dropna()
    return [("mean CTC count at baseline (per 7.5 mL)", _fmt(float(baseline.mean()))),
            ("median CTC count at baseline", _fmt(float(baseline.median()))),
            ("largest count at baseline", str(int(baseline.max())))]


def _table1_share(cohort, table):
    primary = table["primary_her2"].value_counts()
    neg = int(primary.get("negative", 0))
    known = int(table["primary_her2"].isin(["positive", "negative"]).sum())
    return [("HER2-negative primary, all patients", f"{neg} of {cohort.n} ({100 * neg / cohort.n:.1f}%)"),
            ("HER2-negative primary, known status",
             f"{neg} of {known} ({100 * neg / max(known, 1):.1f}%)")]


def _reverse_km(cohort, table):
    from ctcbook.stats.compare import follow_up

    fu = follow_up(table)
    return [("reverse Kaplan-Meier median follow-up (days)", _fmt(fu["reverse_km_median_days"], 0)),
            ("simple median of the observed times (days)", _fmt(fu["median_days"], 0))]


def _kappa_hand(cohort, table):
    from ctcbook.stats.agreement import cohen_kappa

    k = cohen_kappa(np.array([[20, 5], [10, 15]]))
    return [("observed agreement p_o", f"{k.observed:.2f}"),
            ("chance agreement p_e", f"{k.expected:.2f}"), ("kappa", f"{k.kappa:.2f}")]


def _read_km(cohort, table):
    from ctcbook.cohort.paper import DAYS_PER_MONTH
    from ctcbook.stats.survival import risk_table

    d = table.dropna(subset=["ctc_pos_first_follow_up"])
    rt = risk_table(d["pfs_days"] / DAYS_PER_MONTH, d["pfs_event"], d["ctc_pos_first_follow_up"], [6])
    at6 = rt[rt["group"] == 1.0].iloc[0]
    return [("at risk at 6 months (>= 5 CTCs at first follow-up, PFS)", str(int(at6["at_risk"]))),
            ("progressed or died by 6 months", str(int(at6["events"]))),
            ("censored by 6 months", str(int(at6["censored"]))),
            ("size of the group", str(int((d["ctc_pos_first_follow_up"] == 1).sum())))]


def _threshold_three(cohort, table):
    from ctcbook.cohort.rules import patient_table
    from ctcbook.report.tables import p_text
    from ctcbook.stats.compare import compare_survival

    t3 = patient_table(cohort, threshold=3)
    movers = int(((table["ctc_baseline"] >= 3) & (table["ctc_baseline"] < 5)).sum())
    r3 = compare_survival(t3, "ctc_pos_baseline", "pfs")
    r5 = compare_survival(table, "ctc_pos_baseline", "pfs")
    return [("patients who move (3 or 4 CTCs at baseline)", str(movers)),
            (">= 3 CTCs at baseline: patients, PFS log-rank", f"{int(r3.groups.n[1])}, {p_text(r3.logrank_p)}"),
            (">= 5 CTCs at baseline: patients, PFS log-rank", f"{int(r5.groups.n[1])}, {p_text(r5.logrank_p)}")]


def _logrank_hand(cohort, table):
    from ctcbook.stats.survival import logrank

    r = logrank(np.array([2, 4, 6, 3, 8, 5]), np.array([1, 1, 1, 1, 1, 0]),
                np.array(["A", "A", "A", "B", "B", "B"]))
    return [("O_A, E_A", "3, 1.90"), ("chi-square", f"{r.statistic:.3f}")]


def _six_patients(cohort, table):
    from ctcbook.report.tables import p_text
    from ctcbook.stats.compare import compare_survival

    r = compare_survival(table, "her2_pos_first_follow_up", "pfs")
    row = r.groups.iloc[1]
    return [("HER2+ CTCs at first follow-up: patients", str(int(row["n"]))),
            ("HER2+ group: progressions or deaths (PFS events)", str(int(row["events"]))),
            ("PFS log-rank p", p_text(r.logrank_p))]


def _multi(table, endpoint):
    from ctcbook.cohort.paper import MULTIVARIATE_COVARIATES
    from ctcbook.stats.compare import cox_table

    return cox_table(table, list(MULTIVARIATE_COVARIATES), endpoint, multivariate=True)


def _hr_per_line(cohort, table):
    from ctcbook.cohort.paper import format_hr

    row = _multi(table, "pfs").set_index("covariate").loc["prior_therapies"]
    return [("HR per prior line (multivariate PFS), as the exercise quotes it",
             format_hr(row["hr"], row["hr_lower"], row["hr_upper"])),
            ("three vs one prior line: HR squared", f"{row['hr'] ** 2:.2f}")]


def _events_per_variable(cohort, table):
    out = []
    for ep in ("pfs", "os"):
        events = int(_multi(table, ep)["events"].iloc[0])
        out.append((f"events in the multivariate {ep.upper()} model", str(events)))
        out.append((f"covariates allowed by ten events per variable ({ep.upper()})", str(events // 10)))
    return out


def _which_patient(cohort, table):
    from ctcbook.stats.resampling import sensitivity

    d = table.dropna(subset=["her2_pos_first_follow_up", "os_days", "os_event"])
    s = sensitivity(d["os_days"], d["os_event"], d["her2_pos_first_follow_up"], ids=d["patient_id"])
    top = s.query("change != 'none'").nlargest(3, "p_value")
    group = {1: "HER2+ CTCs", 0: "no HER2+ CTCs"}
    return [(f"{i}. patient {r.patient} ({group[int(r.group)]}), {r.change}", f"OS log-rank p = {r.p_value:.3g}")
            for i, r in enumerate(top.itertuples(), start=1)]


def _design(cohort, table):
    from ctcbook.stats.power import sample_size, schoenfeld_events

    events = schoenfeld_events(2.0, 0.12, power=0.9)
    patients = sample_size(2.0, 0.12, power=0.9, median_negative_days=540.0, accrual_days=720.0,
                           follow_up_days=360.0)
    return [("deaths needed", str(int(events))), ("patients", str(int(patients)))]


def _monotone(cohort, table):
    from ctcbook.stats.firth import hazard_ratio_intervals, round_hr

    d = table.dropna(subset=["her2_pos_first_follow_up"]).copy()
    d.loc[d["her2_pos_first_follow_up"] == 1, "os_event"] = 0
    r = hazard_ratio_intervals(d["os_days"], d["os_event"], d["her2_pos_first_follow_up"],
                               n_boot=500, seed=1)
    return [(f"{row.method}: hazard ratio (95% interval)",
             f"{round_hr(row.hazard_ratio)} ({round_hr(row.ci_lower)} to {round_hr(row.ci_upper)})")
            for row in r.table.itertuples()]


def _holm_hand(cohort, table):
    from ctcbook.stats.modelcheck import adjust_pvalues

    p = [0.01, 0.02, 0.04]
    return [("Holm", ", ".join(f"{x:.2f}" for x in adjust_pvalues(p, "holm"))),
            ("Benjamini-Hochberg", ", ".join(f"{x:.2f}" for x in adjust_pvalues(p, "bh")))]


def _cindex(cohort, table):
    from ctcbook.cohort.paper import format_p
    from ctcbook.stats.modelcheck import added_value
    from ctcbook.stats.survival import ModelError

    known = table["her2_pos_first_follow_up"].dropna()
    n, k = len(known), int((known == 1).sum())
    pairs, mixed = n * (n - 1) // 2, k * (n - k)
    out = [("patients with HER2+ CTCs at first follow-up", f"{k} of {n}"),
           ("pairs the marker can reorder", f"{k} × {n - k} = {mixed} of {pairs} "
                                            f"({100 * mixed / max(pairs, 1):.0f}%)")]
    for ep in ("pfs", "os"):
        try:
            r = added_value(table, ["ctc_pos_baseline"], ["her2_pos_first_follow_up"], ep).set_index("model")
        except ModelError:
            out.append((f"c-index, count model and with HER2 status ({ep.upper()})", "not computable"))
            continue
        out.append((f"c-index, count model and with HER2 status ({ep.upper()})",
                    f"{r.loc['base', 'c_index']:.3f} to {r.loc['base + added', 'c_index']:.3f} "
                    f"(likelihood-ratio p = {format_p(r.loc['base + added', 'lr_p'])})"))
    return out


_SAME = "The same for every student: see the solution in the book."
_REASON = "A reasoning question: no number to compute; see the solution in the book."

#: Every exercise of the book, in the book's order. Append new exercises here.
EXERCISES: list[KeyExercise] = [
    KeyExercise("ex-ctc-counts-mean", "What do CTC counts look like?", "Mean or median count",
                _ctc_counts_mean),
    KeyExercise("ex-table1-share", "Who were the patients?", "Table 1 shares", _table1_share),
    KeyExercise("ex-reverse-km", "Who were the patients?", "Reverse Kaplan-Meier", _reverse_km),
    KeyExercise("ex-kappa-hand", "How do CTCs and HER2-positive CTCs change?", "Agreement by hand",
                _kappa_hand, note="A worked example: the same for every student."),
    KeyExercise("ex-read-km", "Does a count of five CTCs predict survival?",
                "Reading a curve and its table", _read_km),
    KeyExercise("ex-threshold-three", "Does a count of five CTCs predict survival?",
                "A threshold of three", _threshold_three),
    KeyExercise("ex-logrank-hand", "Do HER2-positive CTCs predict survival?", "Log-rank by hand",
                _logrank_hand, note="A worked example: the same for every student."),
    KeyExercise("ex-six-patients", "Do HER2-positive CTCs predict survival?",
                "Events in the HER2+ group",
                _six_patients),
    KeyExercise("ex-hr-per-line", "Which factors are independently prognostic?",
                "Hazard ratio per line of therapy", _hr_per_line),
    KeyExercise("ex-events-per-variable", "Which factors are independently prognostic?",
                "Events per variable", _events_per_variable),
    KeyExercise("ex-results-one-sided", "The paper's results", "One-sided or two-sided",
                note=_REASON),
    KeyExercise("ex-guarantee-time", "Discussion", "Guarantee time", note=_REASON),
    KeyExercise("ex-beyond-cutpoint-read", "Choosing a threshold", "Reading a searched threshold",
                note=_REASON),
    KeyExercise("ex-beyond-continuous-marker", "How often does the best cutpoint lie?",
                "A continuous marker",
                note="A simulation with its own seed, not the cohort: " + _SAME),
    KeyExercise("ex-beyond-landmark-choice", "Choosing a timepoint", "Choosing the landmark",
                note=_REASON),
    KeyExercise("ex-beyond-spot-immortal", "What does waiting for follow-up do?",
                "Spotting immortal time",
                note="A simulation with its own seed, not the cohort: " + _SAME),
    KeyExercise("ex-beyond-bootstrap-infinite", "Small groups",
                "An infinite bootstrap ratio",
                note=_REASON),
    KeyExercise("ex-beyond-which-patient", "How stable is a small group?",
                "Which patient matters",
                _which_patient),
    KeyExercise("ex-beyond-monotone", "How stable is a small group?",
                "When nobody in the small group has the event", _monotone),
    KeyExercise("ex-beyond-design", "How many patients would confirm it?", "Designing the study",
                _design, note="Fixed assumptions: the same for every student."),
    KeyExercise("ex-beyond-screening", "The study that should come next", "Screening for the marker",
                note="100 / 0.05 = 2000 patients screened: " + _SAME),
    KeyExercise("ex-beyond-checks-which", "Do the models hold?", "Which checks to ask for",
                note=_REASON),
    KeyExercise("ex-checks-ph-plot", "Do the hazards stay proportional?",
                "Reading a residual plot", note=_REASON),
    KeyExercise("ex-checks-rmst-tau", "How much longer, on average? Restricted mean survival time",
                "Choosing tau", note=_REASON),
    KeyExercise("ex-checks-holm-hand", "How many tests did the Results run?",
                "Holm and Benjamini-Hochberg by hand", _holm_hand,
                note="A worked example: the same for every student."),
    KeyExercise("ex-checks-cindex", "What do HER2-positive CTCs add to the count?",
                "A rare marker and the c-index", _cindex,
                note="The reasoning is the same for every student (see the solution in the book); "
                     "the numbers are those of this cohort."),
    KeyExercise("ex-checks-simon-makuch", "A survival curve for a marker measured later: "
                "the Simon-Makuch plot", "Simon-Makuch risk sets",
                note="A worked example with fixed days, not the cohort: " + _SAME),
]


@dataclass(frozen=True)
class KeyEntry:
    """The answer to one exercise on one cohort."""

    exercise: KeyExercise
    numbers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def answer_key(cohort) -> list[KeyEntry]:
    """The numbers each exercise of the book asks for, computed on ``cohort``."""
    from ctcbook.cohort.rules import patient_table

    table = patient_table(cohort)
    entries = []
    for ex in EXERCISES:
        numbers = tuple(ex.compute(cohort, table)) if ex.compute is not None else ()
        entries.append(KeyEntry(ex, numbers))
    return entries


#: The key's and the kit index's style (printed on A4 by Chromium).
KEY_CSS = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; max-width: 50em; margin: 1.5em auto; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
.meta { color: #333; margin-top: 0; }
section { break-inside: avoid; page-break-inside: avoid; border-top: 1px solid #bbb; padding: 0.3em 0; }
h2 { font-size: 11pt; margin: 0.3em 0; }
h2 code { font-weight: normal; color: #555; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; }
td { padding: 0.15em 0.4em; vertical-align: top; border-bottom: 1px dotted #ccc; }
td.v { white-space: nowrap; text-align: right; font-weight: bold; }
p.note { margin: 0.2em 0; color: #444; font-style: italic; }
"""


def exercise_numbers(html_dir: str | Path) -> dict[str, str]:
    """``{label: "Exercise 3.6"}`` for every exercise of a built book (its ``_build/html``)."""
    from bs4 import BeautifulSoup

    numbers = {}
    for page in sorted(Path(html_dir).rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for ex in soup.select("div.exercise[id]"):
            caption = ex.select_one(".caption-number")
            if caption is not None:
                numbers[ex["id"]] = " ".join(caption.get_text().split())
    return numbers


def answer_key_html(student_id: str, seed: int, cohort, entries: list[KeyEntry],
                    numbers: dict[str, str] | None = None) -> str:
    """The answer key of one student as a small self-contained HTML page.

    ``numbers`` (from :func:`exercise_numbers`) adds the exercises' numbers in the book.
    """
    e = html.escape
    numbers = numbers or {}

    def order(entry: KeyEntry) -> tuple:  # the book's numbering, as on the worksheet
        digits = re.findall(r"\d+", numbers.get(entry.exercise.label, ""))
        return tuple(int(d) for d in digits) if digits else (10**9,)

    entries = sorted(entries, key=order) if numbers else entries
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Answer key: {e(student_id)}</title><style>{KEY_CSS}</style></head><body>",
             f"<h1>Answer key: student {e(student_id)}</h1>",
             f"<p class='meta'>Cohort: seed {seed}, {cohort.n} patients, "
             f"{e(cohort.label)} (<code>python -m ctcbook simulate --seed {seed} --out my-cohort</code>). "
             "Computed with the book's functions on this cohort, without building the book.</p>"]
    for entry in entries:
        ex = entry.exercise
        number = f"{e(numbers[ex.label])}: " if ex.label in numbers else ""
        parts.append(f"<section id='{e(ex.label)}'><h2>{number}{e(ex.title)} "
                     f"<code>{e(ex.label)}</code> &middot; {e(ex.page)}</h2>")
        if entry.numbers:
            parts.append("<table>" + "".join(
                f"<tr><td>{e(q)}</td><td class='v'>{e(v)}</td></tr>" for q, v in entry.numbers)
                + "</table>")
        if ex.note:
            parts.append(f"<p class='note'>{e(ex.note)}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)
