"""``python -m ctcbook pdf``: the whole book and the exercises handout, printed by Chromium.

The PDFs are read back with pypdf: a contents page whose page numbers are where each page
really starts, page numbers on every page, nothing of the screen's interactive chrome
("Show code cell" bars, collapsed solutions), and every exercise in the handout. The print
stylesheet is also checked in the browser (print media): figures and tables may not be split
across pages, and what is collapsed or interactive on screen is not printed.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from browser import browser_page
from pypdf import PdfReader

from ctcbook.__main__ import main
from ctcbook.publish.answerkey import EXERCISES
from ctcbook.publish.printing import book_pages

pytestmark = [pytest.mark.browser, pytest.mark.book, pytest.mark.xdist_group("book")]

SCREEN_ONLY = ["Show code cell", "Hide code cell", "Solution to", "Toggle hidden content"]


def norm(text: str) -> str:
    """Extracted text, comparable: ligatures (fi) undone, quotes straightened, spaces single."""
    return " ".join(unicodedata.normalize("NFKC", text).replace("’", "'").split())


@pytest.fixture(scope="module")
def printed(built_book, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    assert main(["pdf", str(built_book), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def book_text(printed) -> list[str]:
    return [norm(p.extract_text()) for p in PdfReader(printed / "ctcbook.pdf").pages]


def outline(reader: PdfReader) -> dict[str, int]:
    found = {}

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found[norm(item.title)] = reader.get_destination_page_number(item)
    walk(reader.outline)
    return found


def test_every_page_of_the_book_starts_where_the_contents_say(printed, built_book, book_text):
    reader = PdfReader(printed / "ctcbook.pdf")
    pages = book_pages(built_book)
    starts = outline(reader)
    contents = " ".join(book_text[:starts[norm(pages[1].title)]])
    assert "Contents" in contents
    assert len(pages) > 20
    for page in pages:
        title = norm(page.title)
        index = starts[title]
        # the page's own heading is on the page where the outline puts it
        assert title.split(". ", 1)[-1][:30] in re.sub(r"-\s+", "-", book_text[index]), (title, index)
        # and the contents list it with that (1-based) page number
        assert re.search(re.escape(title) + r"\s*" + str(index + 1) + r"\b", contents), title


def test_every_page_is_numbered(book_text):
    total = len(book_text)
    assert total > 50
    for i, text in enumerate(book_text, start=1):
        assert f"Page {i} of {total}" in text, i


def test_chapter_titles_are_in_the_pdf(book_text):
    whole = " ".join(book_text)
    for title in ("Introduction", "Methods", "Do HER2-positive CTCs predict survival?",
                  "Explore the CTC threshold", "Glossary", "References"):
        assert title in whole


def test_nothing_collapsed_or_interactive_is_printed(book_text, printed):
    handout = " ".join(norm(p.extract_text())
                       for p in PdfReader(printed / "ctcbook-exercises.pdf").pages)
    for text in (" ".join(book_text), handout):
        for phrase in SCREEN_ONLY:
            assert phrase not in text


def test_the_handout_has_every_exercise_and_page_numbers(printed):
    reader = PdfReader(printed / "ctcbook-exercises.pdf")
    texts = [norm(p.extract_text()) for p in reader.pages]
    whole = " ".join(texts)
    numbers = set(re.findall(r"Exercise (\d+\.\d+|\d+)", whole))
    assert len(numbers) >= len(EXERCISES)
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {len(texts)}" in text
    assert "Compute the log-rank test by hand" in whole


def test_print_stylesheet_keeps_figures_whole_and_hides_the_screen_chrome(built_book):
    """In print media: figures, tables and explorers unsplittable; bars, solutions, controls gone."""
    with browser_page() as (page, log):
        for name in ("notebooks/04-does-a-count-of-five-predict-survival.html",
                     "notebooks/08-explore-the-ctc-threshold.html"):
            page.goto((built_book / name).as_uri())
            page.emulate_media(media="print")
            result = page.evaluate("""() => {
                const style = el => getComputedStyle(el);
                const whole = Array.from(document.querySelectorAll(
                    'article figure, article img, article table, article svg.ctcx-plot'));
                const split = whole.filter(el => style(el).breakInside !== 'avoid'
                                              && style(el).pageBreakInside !== 'avoid');
                const chrome = Array.from(document.querySelectorAll(
                    'details.hide, .solution.dropdown, .ctcx-controls, button.toggle-button'));
                const shown = chrome.filter(el => style(el).display !== 'none');
                return {whole: whole.length, split: split.map(e => e.outerHTML.slice(0, 80)),
                        chrome: chrome.length, shown: shown.map(e => e.className)};
            }""")
            assert result["whole"] > 0 and result["split"] == [], (name, result)
            assert result["chrome"] > 0 and result["shown"] == [], (name, result)
        assert not log["errors"], log["errors"]
