"""The book's sources: every bibliography entry is traceable, every citation resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"


def bib_entries() -> dict[str, str]:
    text = BIB.read_text(encoding="utf-8")
    starts = [m for m in re.finditer(r"^@\w+\{([^,]+),", text, flags=re.MULTILINE)]
    entries = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        entries[m.group(1).strip()] = text[m.start():end]
    return entries


def test_every_entry_has_a_doi_or_pmid():
    entries = bib_entries()
    assert len(entries) >= 20
    missing = [
        key for key, body in entries.items()
        if not re.search(r"^\s*(doi\s*=\s*\{10\.\d{4,}/\S+\}|pmid\s*=\s*\{\d+\})", body,
                         flags=re.MULTILINE | re.IGNORECASE)
    ]
    assert not missing, f"entries without a DOI or PMID: {missing}"


def test_keys_are_unique():
    keys = re.findall(r"^@\w+\{([^,]+),", BIB.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert len(keys) == len(set(keys))


def test_every_citation_in_the_book_is_in_the_bibliography():
    keys = set(bib_entries())
    cited = set()
    sources = list((ROOT / "book").glob("*.md")) + list((ROOT / "notebooks").glob("*.ipynb"))
    for path in sources:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in group.split(","))
    assert cited, "no citations found"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_introduction_says_next_what_the_next_page_is():
    """The Introduction's last line names the page its "Next" button opens (_toc.yml order)."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*-?\s*(?:root|file):\s*(\S+)", toc, flags=re.MULTILINE)
    after = files[files.index("book/introduction") + 1]
    label = re.match(r"\((.+?)\)=", (ROOT / f"{after}.md").read_text(encoding="utf-8")).group(1)
    lines = [ln for ln in (ROOT / "book" / "introduction.md").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    last = lines[-2] + " " + lines[-1]
    first_ref = re.search(r"\{ref\}`(?:[^`<]*<)?([^`>]+)>?`", last)
    assert last.startswith("**Next:**") and first_ref, last
    assert first_ref.group(1) == label, f"the Introduction ends pointing to {first_ref.group(1)}"


def test_data_dictionary_page_includes_the_one_source():
    """book/data-dictionary.md shows data/README.md's dictionary (no second hand-kept copy)."""
    page = (ROOT / "book" / "data-dictionary.md").read_text(encoding="utf-8")
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    options = dict(re.findall(r'^:(start-after|end-before): "(.+)"$', page, flags=re.MULTILINE))
    assert "```{include} ../data/README.md" in page
    start, end = readme.index(options["start-after"]), readme.index(options["end-before"])
    part = readme[start:end]
    assert "### `patients.csv`: one row per patient" in part and "| `her2_positive_ctc` |" in part
    assert "|" not in page  # no table typed here: the dictionary lives in data/README.md
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: book/data-dictionary" in toc
    assert "{ref}`data dictionary <data-dictionary>`" in (ROOT / "book" / "own-data.md").read_text(
        encoding="utf-8")


# The shipped cohort's headline counts written out: on a student's cohort they are wrong
# (5 to 10 HER2+ patients). Chapter 10 (beyond-small-groups, notebook 15) is rewritten apart.
HARD_CODED_COUNTS = re.compile(
    r"\b(?:six|forty[- ]three)\s+(?:patients|women|against|in the key group)\b"
    r"|\bgroup of six\b|\bforty[- ]three\b", re.IGNORECASE)
CHAPTER_10 = {"beyond-small-groups.md", "15-how-stable-are-six-patients.ipynb"}


def test_prose_does_not_hard_code_the_cohorts_counts():
    import json

    found = []
    for path in sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "notebooks").glob("*.ipynb")):
        if path.name in CHAPTER_10:
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        else:
            text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m.group(0)!r}" for m in HARD_CODED_COUNTS.finditer(text)]
    assert not found, f"counts of the shipped cohort typed into prose (glue or word them): {found}"
