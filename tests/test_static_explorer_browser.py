"""The static explorers of the built book, in headless Chromium with no network.

Each explorer page loads offline (over http://127.0.0.1 and from file://), every control
changes the figure and the reported numbers, the update happens synchronously inside the
input event (so it is painted in the next frame), and no request leaves the machine.
"""

from __future__ import annotations

import re

import pytest
from browser import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]

PAGES = {
    "threshold": "notebooks/08-explore-the-ctc-threshold.html",
    "her2": "notebooks/09-explore-the-her2-rule.html",
    "cutpoint": "notebooks/10-explore-the-cutpoint-curve.html",
}
# (control name, how to change it, new value)
MOVES = {
    "threshold": [("threshold", "range", "12"), ("timepoint", "select", "baseline"),
                  ("endpoint", "radio", "os"), ("timepoint", "select", "change"),
                  ("threshold", "range", "2")],
    "her2": [("her2_rule", "radio", ">=2"), ("timepoint", "select", "any"),
             ("endpoint", "radio", "os"), ("timepoint", "select", "landmark"),
             ("her2_rule", "radio", ">=50%")],
    "cutpoint": [("threshold", "range", "20"), ("timepoint", "select", "baseline"),
                 ("endpoint", "radio", "os"), ("threshold", "range", "3")],
}

SNAPSHOT = """root => ({
    svg: root.querySelector('svg.ctcx-plot').innerHTML,
    cut: root.querySelector('svg.ctcx-cutplot') ? root.querySelector('svg.ctcx-cutplot').innerHTML : '',
    numbers: root.querySelector('.ctcx-numbers').textContent
             + (root.querySelector('.ctcx-cutnumbers') || {textContent: ''}).textContent,
    desc: root.querySelector('svg.ctcx-plot desc').textContent,
})"""

# Change a control inside one evaluate call and report whether the explorer re-rendered
# before the call returned (synchronously, within the event) and how long it took.
MOVE = """(root, [name, kind, value]) => {
    const before = parseInt(root.getAttribute('data-renders'), 10);
    const t0 = performance.now();
    if (kind === 'range' || kind === 'select') {
        const input = root.querySelector(`[name="${name}"]`);
        input.value = value;
        input.dispatchEvent(new Event(kind === 'range' ? 'input' : 'change', {bubbles: true}));
    } else {
        const radio = root.querySelector(`[data-control="${name}"] input[value="${value}"]`);
        radio.click();
    }
    return {sync: parseInt(root.getAttribute('data-renders'), 10) === before + 1,
            ms: performance.now() - t0};
}"""


def _check_explorer(page, kind):
    root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
    state = root.evaluate(SNAPSHOT)
    assert "synthetic" in root.inner_text().lower()
    assert root.query_selector("svg.ctcx-plot").get_attribute("role") == "img"
    assert state["desc"], "the SVG has no description"
    assert root.query_selector_all("path.ctcx-curve"), "no Kaplan-Meier curve drawn"
    if kind == "cutpoint":  # issue 16: p ticks as numbers, no "1e-2"; the key below the axis
        ticks = root.evaluate("""root => Array.from(root.querySelectorAll(
            'svg.ctcx-cutplot .ctcx-axes text[text-anchor="end"]')).map(t => t.textContent)""")
        ticks = [t for t in ticks if re.fullmatch(r"[0-9.eE+\-]+", t)]  # the p-axis labels
        assert "0.05" in ticks and not any("e" in t.lower() for t in ticks), ticks
        boxes = root.evaluate("""root => {
            const svg = root.querySelector('svg.ctcx-cutplot');
            const label = svg.querySelector('.ctcx-corrected-label');
            const axis = svg.querySelector('.ctcx-axis');
            return label ? [label.getBBox().y, axis.getBBox().y] : null; }""")
        assert boxes is None or boxes[0] > boxes[1], "the corrected-p label is inside the plot"
    timings = []
    for name, how, value in MOVES[kind]:
        moved = root.evaluate(MOVE, [name, how, value])
        assert moved["sync"], f"{kind}: {name} did not re-render within the event"
        timings.append(moved["ms"])
        new = root.evaluate(SNAPSHOT)
        assert new["svg"] != state["svg"] or new["cut"] != state["cut"], f"{kind}: {name} did not change the figure"
        assert new["numbers"] != state["numbers"], f"{kind}: {name} did not change the numbers"
        state = new
    # the real input path too: Playwright types into the controls
    control = root.query_selector("select")
    before = root.evaluate(SNAPSHOT)
    options = [o.get_attribute("value") for o in control.query_selector_all("option")]
    control.select_option(options[0] if options[0] != control.input_value() else options[1])
    assert root.evaluate(SNAPSHOT) != before
    return timings


@pytest.mark.parametrize("kind", list(PAGES))
def test_explorer_works_offline(built_book, book_server, kind):
    with browser_page() as (page, log):
        page.goto(f"{book_server}/{PAGES[kind]}", wait_until="load")
        timings = _check_explorer(page, kind)
        page.wait_for_load_state("networkidle")
        print(f"{kind}: re-render ms per move {[round(t, 2) for t in timings]}")
        assert not log["external"], f"requests left the machine: {log['external']}"
        assert not log["errors"] and not log["failed"] and not log["bad_status"], log
        # the live widget cell is shown as code only (not run in the book): no dead widgets
        assert not page.query_selector(".jupyter-widgets, .widget-area")


@pytest.mark.parametrize("kind", list(PAGES))
def test_explorer_works_from_file_url(built_book, kind):
    url = (built_book / PAGES[kind]).resolve().as_uri()
    with browser_page() as (page, log):
        page.goto(url, wait_until="load")
        _check_explorer(page, kind)
        assert not log["external"], f"requests left the machine: {log['external']}"
        assert not log["errors"], log["errors"]


@pytest.mark.parametrize("kind", list(PAGES))
def test_explorer_page_is_small(built_book, kind):
    size = (built_book / PAGES[kind]).stat().st_size
    assert size < 5_000_000, f"{PAGES[kind]} is {size / 1e6:.1f} MB"
