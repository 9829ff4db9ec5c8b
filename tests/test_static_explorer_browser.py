"""The static explorers in headless Chromium with no network.

On the built book: each explorer page loads offline (over http://127.0.0.1 and from
file://), every control changes the figure and the reported numbers, the update happens
synchronously inside the input event (so it is painted in the next frame), no request
leaves the machine, a link with the choices in its query opens that view (and a reload
keeps it), keyboard-only use reaches and changes every control with a visible focus, and a
live region announces the new p-value and hazard ratio.

On stand-alone pages of the shipped cohort: the thinned, shared and compressed curves draw
the same picture as the explorer before thinning (its SVG paths, committed in
``tests/data/explorer_paths_n52.json``), within 1 SVG unit (about 1 CSS pixel).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import browser_page
from svg_paths import hausdorff

import ctcbook as cb

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("book")]

ROOT = Path(__file__).resolve().parents[1]
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

# The explorer's choices as the page shows them.
CHOICES = """root => {
    const out = {};
    root.querySelectorAll('[data-control]').forEach(row => {
        const name = row.getAttribute('data-control');
        const input = row.querySelector('input[type=range], select');
        out[name] = input ? input.value : row.querySelector('input[type=radio]:checked').value;
    });
    return out;
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
    """The goal of issue 14 is 2 MB at any n; with the shipped cohort it is far below."""
    size = (built_book / PAGES[kind]).stat().st_size
    assert size < 300_000, f"{PAGES[kind]} is {size / 1e6:.2f} MB"


# ------------------------------------------------------------------ shareable links

LINKS = {
    "threshold": ({"threshold": "8", "timepoint": "landmark", "endpoint": "os"},
                  ["Overall survival", "≥ 8 per 7.5 mL", "landmark"]),
    "her2": ({"her2_rule": ">=30%", "timepoint": "any", "endpoint": "os"},
             ["Overall survival", "≥ 30% of CTCs HER2+", "any draw"]),
    "cutpoint": ({"threshold": "12", "timepoint": "baseline", "endpoint": "pfs"},
                 ["Progression-free survival", "≥ 12 per 7.5 mL", "baseline"]),
}


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_link_opens_the_same_view_and_a_reload_keeps_it(built_book, book_server, kind):
    from urllib.parse import parse_qs, urlencode, urlparse

    choices, words = LINKS[kind]
    for base in (f"{book_server}/{PAGES[kind]}", (built_book / PAGES[kind]).resolve().as_uri()):
        with browser_page() as (page, log):
            page.goto(f"{base}?{urlencode(choices)}", wait_until="load")
            root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
            assert root.evaluate(CHOICES) == choices
            title = root.query_selector(".ctcx-title").inner_text()
            assert all(w in title for w in words), title
            assert root.query_selector(".ctcx-urlnote").is_hidden()
            shown = root.evaluate(SNAPSHOT)
            # the link on the page is the same view
            href = root.query_selector("a.ctcx-link").get_attribute("href")
            assert {k: v[0] for k, v in parse_qs(urlparse(href).query).items()} == choices
            # a move writes the URL; a reload keeps the choice
            root.evaluate(MOVE, ["endpoint", "radio", "pfs" if choices["endpoint"] == "os" else "os"])
            moved = root.evaluate(CHOICES)
            query = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
            assert query == moved
            page.reload(wait_until="load")
            root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
            assert root.evaluate(CHOICES) == moved
            # and the original link still gives the original view
            page.goto(f"{base}?{urlencode(choices)}", wait_until="load")
            root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
            assert root.evaluate(SNAPSHOT) == shown
            assert not log["errors"], log["errors"]


def test_a_link_with_a_choice_not_offered_says_so(built_book, book_server):
    with browser_page() as (page, log):
        page.goto(f"{book_server}/{PAGES['threshold']}?threshold=99&endpoint=os", wait_until="load")
        root = page.wait_for_selector("#ctcx-threshold[data-ready='1']", timeout=15000)
        choices = root.evaluate(CHOICES)
        assert choices["threshold"] == "5" and choices["endpoint"] == "os"
        note = root.query_selector(".ctcx-urlnote")
        assert note.is_visible() and "threshold=99" in note.inner_text()
        assert not log["errors"], log["errors"]


# ------------------------------------------------------------------ keyboard and ARIA

FOCUS = """() => {
    const el = document.activeElement;
    const root = el && el.closest('div.ctcx');
    const s = getComputedStyle(el);
    return {inside: !!root, kind: root ? root.getAttribute('data-kind') : null,
            tag: el.tagName.toLowerCase(), type: el.getAttribute('type'),
            name: el.closest('[data-control]') ? el.closest('[data-control]').getAttribute('data-control') : null,
            value: el.value, checked: !!el.checked,
            last: el.tagName === 'SELECT' && el.selectedIndex === el.options.length - 1,
            outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
            renders: root ? parseInt(root.getAttribute('data-renders'), 10) : null};
}"""


@pytest.mark.parametrize("kind", list(PAGES))
def test_keyboard_alone_reaches_and_changes_every_control(built_book, book_server, kind):
    with browser_page() as (page, log):
        page.goto(f"{book_server}/{PAGES[kind]}", wait_until="load")
        root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
        names = root.evaluate("r => Array.from(r.querySelectorAll('[data-control]')).map(x => x.getAttribute('data-control'))")
        page.keyboard.press("Tab")
        presses = 1
        while not page.evaluate(FOCUS)["inside"]:
            page.keyboard.press("Tab")
            presses += 1
            assert presses < 400, "Tab never reached the explorer"
        changed = {}
        while True:
            focus = page.evaluate(FOCUS)
            if not focus["inside"]:
                break
            if focus["name"]:
                assert focus["outline"], f"{focus['name']}: no visible focus outline"
                before = focus
                key = {"range": "ArrowRight", "radio": "ArrowRight"}.get(
                    focus["type"], "ArrowUp" if focus["last"] else "ArrowDown")
                page.keyboard.press(key)
                after = page.evaluate(FOCUS)
                assert after["inside"] and after["name"] == before["name"]
                assert after["value"] != before["value"], f"{kind}: {key} did not change {before['name']}"
                assert after["renders"] == before["renders"] + 1, f"{kind}: {before['name']} did not redraw"
                changed[focus["name"]] = (before["value"], after["value"])
            page.keyboard.press("Tab")
            presses += 1
            assert presses < 600
        assert sorted(changed) == sorted(names), f"{kind}: keyboard reached {sorted(changed)} of {names}"
        # the live region announces the new numbers once the reader stops (after ~0.4 s); an
        # announcement of an intermediate state (a slow machine pausing between key presses)
        # may come first, so wait for the one of the view now shown
        page.wait_for_function(
            """k => {
                const r = document.getElementById('ctcx-' + k);
                const said = r.querySelector('.ctcx-live').textContent;
                return said.includes('Log-rank p') && said.includes(r.querySelector('.ctcx-p').innerText);
            }""", arg=kind, timeout=5000)
        live = root.query_selector(".ctcx-live")
        assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
        said = live.text_content()
        assert root.query_selector(".ctcx-p").inner_text() in said
        hr = root.query_selector(".ctcx-hr").inner_text()
        assert hr in said or hr == "–", said
        # every control has an accessible name
        unnamed = root.evaluate("""r => Array.from(r.querySelectorAll('input, select'))
            .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')).map(c => c.id)""")
        assert not unnamed
        group = root.query_selector("[role=radiogroup]")
        assert group and page.evaluate(
            "g => document.getElementById(g.getAttribute('aria-labelledby')).textContent", group)
        assert not log["errors"], log["errors"]


def test_note_about_an_empty_group_is_not_drawn_over_the_curves(built_book, book_server):
    with browser_page() as (page, log):
        page.goto(f"{book_server}/{PAGES['threshold']}?threshold=5&timepoint=change&endpoint=os",
                  wait_until="load")
        root = page.wait_for_selector("#ctcx-threshold[data-ready='1']", timeout=15000)
        note = root.query_selector(".ctcx-figmsg")
        groups = root.evaluate("r => Array.from(r.querySelectorAll('.ctcx-table tbody tr td:nth-child(2)')).map(td => td.textContent)")
        if "0" not in groups:
            pytest.skip("no empty group at threshold 5 in change mode for this cohort")
        assert note.is_visible() and "No patient" in note.inner_text()
        assert not root.query_selector("svg.ctcx-plot .ctcx-message-box")
        assert root.query_selector_all("svg.ctcx-plot path.ctcx-curve")


# ------------------------------------------------------- same picture after thinning

REFERENCE = json.loads((ROOT / "tests/data/explorer_paths_n52.json").read_text())

SET_AND_READ = """(root, [names, values]) => {
    names.forEach((name, i) => {
        const value = values[i];
        const input = root.querySelector(`input[type=range][name="${name}"], select[name="${name}"]`);
        if (input) {
            input.value = value;
            input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
        } else {
            root.querySelector(`[data-control="${name}"] input[value="${value}"]`).click();
        }
    });
    return Array.from(root.querySelectorAll(
        'svg.ctcx-plot path.ctcx-curve, svg.ctcx-plot path.ctcx-band, svg.ctcx-plot path.ctcx-censor'))
        .map(p => ({cls: p.getAttribute('class'), d: p.getAttribute('d'),
                    stroke: p.getAttribute('stroke'), fill: p.getAttribute('fill')}));
}"""


@pytest.fixture(scope="module")
def standalone_pages(tmp_path_factory):
    """The three explorers of the shipped cohort as stand-alone pages (no book build)."""
    folder = tmp_path_factory.mktemp("explorers")
    cohort = cb.load_cohort(ROOT / "data")
    head = "<!doctype html><html><head><meta charset='utf-8'></head><body>"
    for kind in PAGES:
        page = head + cb.explorer_html(cohort, kind) + "</body></html>"
        (folder / f"{kind}.html").write_text(page, encoding="utf-8")
    return folder


def test_thinned_explorers_draw_the_picture_of_the_unthinned_ones(standalone_pages):
    """Curves, bands and censoring marks at n=52 against the explorer before thinning.

    The reference paths were drawn by the explorer of the commit before the thinning
    (full curves as JSON), with one fix: the lower edge of the confidence band stepped one
    time point early there. Tolerance: 1 SVG unit of the 680-wide figure (about 1 CSS
    pixel), the sum of the thinning tolerance (0.5), the rounding of the encoded times and
    probabilities and of the path coordinates.
    """
    worst: dict[str, float] = {}
    with browser_page() as (page, log):
        for kind in PAGES:
            page.goto((standalone_pages / f"{kind}.html").as_uri(), wait_until="load")
            root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=15000)
            names = ["her2_rule" if kind == "her2" else "threshold", "timepoint", "endpoint"]
            for key, expected in REFERENCE.items():
                if not key.startswith(kind + "|"):
                    continue
                drawn = root.evaluate(SET_AND_READ, [names, key.split("|")[1:]])
                assert [(p["cls"], p["stroke"], p["fill"]) for p in drawn] == \
                       [(p["cls"], p["stroke"], p["fill"]) for p in expected], key
                for new, old in zip(drawn, expected, strict=True):
                    distance = hausdorff(new["d"], old["d"])
                    worst[new["cls"]] = max(worst.get(new["cls"], 0.0), distance)
                    assert distance <= 1.0, f"{key} {new['cls']}: {distance:.2f} SVG units apart"
        assert not log["errors"], log["errors"]
    print("largest distance per kind of path (SVG units):", worst)
    assert len(worst) == 3
