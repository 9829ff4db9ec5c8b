"""Every page of the built book, opened in headless Chromium with no network.

Fails on a JavaScript error, a failed request, a request to a non-local host, an image
that did not load, or a formula MathJax did not typeset.
"""

from __future__ import annotations

import pytest
from browser import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]

IMAGES_BROKEN = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'))"""

UNTYPESET_MATH = """() => Array.from(document.querySelectorAll('.math'))
    .filter(el => !el.querySelector('mjx-container') && !el.closest('mjx-container'))
    .length"""


def pages(html_root):
    """Every page of the site (theme template fragments under _static/ are not pages)."""
    names = (p.relative_to(html_root).as_posix() for p in html_root.rglob("*.html"))
    return sorted(n for n in names if not n.startswith(("_static/", "_sources/", "_images/")))


def test_every_page_is_whole_offline(built_book, book_server):
    problems = {}
    with browser_page() as (page, log):
        for name in pages(built_book):
            for key in log:
                log[key].clear()
            page.goto(f"{book_server}/{name}", wait_until="load")
            page.wait_for_load_state("networkidle")
            if page.locator(".math").count():
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=15000,
                )
                page.evaluate("() => MathJax.startup.promise")
                untypeset = page.evaluate(UNTYPESET_MATH)
                if untypeset:
                    log["errors"].append(f"{untypeset} formulas not typeset by MathJax")
            broken = page.evaluate(IMAGES_BROKEN)
            if broken:
                log["errors"].append(f"images not loaded: {broken}")
            found = {key: list(value) for key, value in log.items() if value}
            if found:
                problems[name] = found
    assert not problems, f"pages with problems: {problems}"


def test_pages_were_found(built_book):
    names = pages(built_book)
    assert "book/index.html" in names and "book/introduction.html" in names
