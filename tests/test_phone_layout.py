"""Every page of the built book on a phone (390 x 844 CSS px), in headless Chromium.

Fails on any element wider than the viewport that is not inside a box scrolling sideways
on its own, on a page that scrolls sideways, and on a form control whose label is not
beside it (``tests/phone.py`` has the checks). The explorers must be drawn for the phone:
the Kaplan-Meier figure at the real width with its text at full size, the risk table as a
table of text in a box of its own.

Screenshots at 390 px of the explorer pages (and of any page that fails) are saved as test
artefacts in ``test-artefacts/phone/`` at the repository root (ignored by git), or in
``$CTCBOOK_ARTEFACTS/phone/`` when that is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import browser_page
from phone import PHONE, UNLABELLED, WIDE
from test_browser import pages

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]

ROOT = Path(__file__).resolve().parents[1]
EXPLORERS = {
    "notebooks/08-explore-the-ctc-threshold.html": "threshold",
    "notebooks/09-explore-the-her2-rule.html": "her2",
    "notebooks/10-explore-the-cutpoint-curve.html": "cutpoint",
}

# Rendered size (CSS px) of the smallest text in the explorer's Kaplan-Meier figure, and
# whether the figure was drawn for the phone (not a desktop figure shrunk to fit).
LEGIBILITY = """root => {
    const svg = root.querySelector('svg.ctcx-plot');
    const heights = Array.from(svg.querySelectorAll('text'))
        .filter(t => t.textContent.trim())
        .map(t => parseFloat(getComputedStyle(t).fontSize) *
                  svg.getBoundingClientRect().width / svg.viewBox.baseVal.width);
    const risk = root.querySelector('.ctcx-riskbox');
    return {layout: svg.getAttribute('data-layout'), smallest: Math.min(...heights),
            riskTable: !!risk && !risk.hidden && !!risk.querySelector('table'),
            riskInSvg: !!svg.querySelector('.ctcx-risk')};
}"""


def artefacts() -> Path:
    base = Path(os.environ.get("CTCBOOK_ARTEFACTS") or ROOT / "test-artefacts")
    folder = base / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot_name(name: str) -> str:
    return name.replace("/", "__").removesuffix(".html") + ".png"


def test_no_page_is_wider_than_a_phone_and_every_label_is_beside_its_control(built_book, book_server):
    problems = {}
    folder = artefacts()
    with browser_page() as (page, log):
        page.set_viewport_size(PHONE)
        for name in pages(built_book):
            if 'http-equiv="Refresh"' in (built_book / name).read_text(encoding="utf-8")[:500]:
                continue  # a redirect stub (the site's index.html): its target is checked
            page.goto(f"{book_server}/{name}", wait_until="load")
            if name in EXPLORERS:
                page.wait_for_selector(f"#ctcx-{EXPLORERS[name]}[data-ready='1']", timeout=15000)
            if page.locator(".math").count():
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=15000)
                page.evaluate("() => MathJax.startup.promise")
            wide = page.evaluate(WIDE)
            unlabelled = page.evaluate(UNLABELLED)
            found = []
            if wide["scrollWidth"] > wide["width"]:
                found.append(f"the page scrolls sideways ({wide['scrollWidth']} px wide)")
            found += [f"wider than the screen: {w}" for w in wide["wide"]]
            found += [f"label not beside its control: {u}" for u in unlabelled]
            if found:
                problems[name] = found
            if found or name in EXPLORERS:
                page.screenshot(path=str(folder / _shot_name(name)), full_page=True)
        assert not log["errors"], log["errors"]
    assert not problems, f"pages that do not fit a phone (screenshots in {folder}): {problems}"


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_explorers_are_drawn_for_the_phone(built_book, book_server, name):
    kind = EXPLORERS[name]
    with browser_page() as (page, log):
        page.set_viewport_size(PHONE)
        page.goto(f"{book_server}/{name}", wait_until="load")
        root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
        seen = root.evaluate(LEGIBILITY)
        assert seen["layout"] == "narrow", "the desktop figure was shrunk to the phone"
        assert seen["smallest"] >= 10, f"text {seen['smallest']:.1f} px high in the figure"
        assert seen["riskTable"] and not seen["riskInSvg"], "risk table not a table of text"
        box = root.bounding_box()
        top = page.evaluate("() => window.scrollY")
        page.screenshot(path=str(artefacts() / f"explorer-{kind}.png"), full_page=True,
                        clip={**box, "y": box["y"] + top})
        # turned to landscape / a desktop window: the desktop figure comes back
        page.set_viewport_size({"width": 1280, "height": 900})
        page.wait_for_function(
            f"() => document.querySelector('#ctcx-{kind} svg.ctcx-plot').getAttribute('data-layout') === 'wide'",
            timeout=5000)
        seen = root.evaluate(LEGIBILITY)
        assert seen["riskInSvg"] and not seen["riskTable"]
        assert not log["errors"], log["errors"]
