"""The book's sources: every bibliography entry is traceable, every citation resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

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


def notebook_markdown(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "markdown"]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_citation_in_the_book_is_in_the_bibliography():
    """Chapter pages cite with {cite:p}; notebooks with links to the DOI (or PubMed page) in
    parentheses, which the book reads as {cite:p} (ctcbook.publish.sphinxext.book_markdown)."""
    from ctcbook.publish.sphinxext import book_markdown, reference_urls

    keys = set(bib_entries())
    cited, problems = set(), []
    urls = reference_urls((BIB,))
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "book").glob("*.md")]
    for path in NOTEBOOKS:
        for text in notebook_markdown(path):
            converted, found = book_markdown(text, urls)
            texts.append(converted)
            problems += [f"{path.name}: {f}" for f in found]
    for text in texts:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited.update(k.strip() for k in group.split(","))
    assert not problems
    assert len(cited) >= 20, f"only {len(cited)} references cited"
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def author_year(entry) -> str:
    """How sphinxcontrib-bibtex's author_year style cites an entry: "Cohen, 1960", "Sim
    and Wright, 2005", "Hayashi et al., 2012"."""
    from pybtex.richtext import Text

    last = [Text.from_latex(" ".join(p.last_names)).render_as("text")
            for p in entry.persons["author"]]
    who = {1: last[0], 2: " and ".join(last[:2])}.get(len(last), f"{last[0]} et al.")
    return f"{who}, {entry.fields['year']}"


def test_notebook_citations_read_as_the_book_cites():
    """In Jupyter a citation is the text of the link: it must be what the book prints."""
    from pybtex.database import parse_file

    from ctcbook.publish.sphinxext import _CITATION, _REFERENCE, reference_urls

    entries, urls = parse_file(str(BIB)).entries, reference_urls((BIB,))
    wrong, n = [], 0
    for path in NOTEBOOKS:
        for text in notebook_markdown(path):
            for group in _CITATION.finditer(text):
                for m in re.finditer(_REFERENCE, group.group(0)):
                    n += 1
                    shown = re.match(r"\[([^\]]+)\]", m.group(0)).group(1)
                    url = unquote(m.group(1)).lower()
                    key = urls.get(url) or urls.get(url.rstrip("/") + "/")
                    if key is None or shown != author_year(entries[key]):
                        wrong.append(f"{path.name}: {m.group(0)}")
    assert n >= 20 and not wrong, wrong


def labels_in(path: Path) -> set[str]:
    """Labels defined in a page: ``(label)=`` targets and ``:name:``/``:label:`` options."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(notebook_markdown(path))
    found = re.findall(r"^\(([\w.:-]+)\)=$|^:(?:name|label): (\S+)$", text, flags=re.MULTILINE)
    return {a or b for a, b in found}


def test_notebooks_write_references_that_jupyter_follows():
    """jupyterlab-myst resolves labels within a notebook only and has no glue and no
    bibliography: a notebook refers to other pages by links to the file (with the target's
    label, which the book resolves), quotes numbers with {eval} and cites by links."""
    problems, links = [], 0
    for path in NOTEBOOKS:
        own = labels_in(path)
        for text in notebook_markdown(path):
            for role in re.findall(r"\{(glue:text|glue|cite:\w+|cite|doc|numref|eq)\}`", text):
                problems.append(f"{path.name}: {{{role}}} does not render in Jupyter")
            for label in re.findall(r"\{ref\}`(?:[^`<]*<)?([^`<>]+)>?`", text):
                if label not in own:
                    problems.append(f"{path.name}: {{ref}}`{label}` is on another page")
            for target, label in re.findall(r"\]\(([^()\s#:]+\.(?:ipynb|md))#([\w:.-]+)\)", text):
                links += 1
                file = (path.parent / target).resolve()
                if not file.is_file() or label not in labels_in(file):
                    problems.append(f"{path.name}: {target}#{label}: no such label in that file")
    assert links >= 50 and not problems, problems


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
