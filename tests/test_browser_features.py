"""Reader-facing features checked in headless Chromium: collapsed solutions, printing."""

from __future__ import annotations

import pytest
from browser import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]


def pages_with_solutions(html_root):
    found = []
    for page in sorted(html_root.rglob("*.html")):
        if 'class="solution' in page.read_text(encoding="utf-8"):
            found.append(page.relative_to(html_root).as_posix())
    return found


def test_every_results_and_beyond_chapter_has_exercises(built_book):
    pages = pages_with_solutions(built_book)
    for expected in ("notebooks/05-do-her2-positive-ctcs-predict-survival.html",
                     "book/beyond-cutpoints.html", "book/beyond-timepoints.html",
                     "book/beyond-small-groups.html", "book/beyond-next-study.html"):
        assert expected in pages


def test_solutions_start_collapsed_and_open_on_click(built_book, book_server):
    pages = pages_with_solutions(built_book)
    assert pages, "no page has an exercise solution"
    problems = []
    with browser_page() as (page, log):
        for name in pages:
            page.goto(f"{book_server}/{name}", wait_until="load")
            solutions = page.locator("div.solution.dropdown")
            count = solutions.count()
            if not count:
                problems.append(f"{name}: solutions are not dropdowns")
                continue
            for i in range(count):
                body = solutions.nth(i).locator(":scope > :not(.admonition-title)").first
                if body.is_visible():
                    problems.append(f"{name}: solution {i + 1} is open on load")
            first = solutions.first
            first.locator(".admonition-title").click()
            body = first.locator(":scope > :not(.admonition-title)").first
            body.wait_for(state="visible", timeout=5000)
        assert not log["errors"], log["errors"]
    assert not problems, problems


def test_a_chapter_prints_without_navigation(book_server):
    with browser_page() as (page, log):
        page.goto(f"{book_server}/notebooks/05-do-her2-positive-ctcs-predict-survival.html")
        page.emulate_media(media="print")
        for selector in (".bd-sidebar-primary", ".bd-header", ".prev-next-area",
                         ".bd-sidebar-secondary"):
            for i in range(page.locator(selector).count()):
                assert not page.locator(selector).nth(i).is_visible(), selector
        breaks = page.evaluate(
            "() => Array.from(document.querySelectorAll('figure, img'))"
            ".map(el => getComputedStyle(el).breakInside)"
        )
        assert breaks and all(b == "avoid" for b in breaks), breaks
        article = page.evaluate(
            "() => document.querySelector('article').getBoundingClientRect().width"
        )
        assert article > 0.85 * page.evaluate("() => document.documentElement.clientWidth")
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
