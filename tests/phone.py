"""Checks of a page at phone width, run in the browser (used by tests/test_phone_layout.py).

``WIDE`` lists the elements that stick out of the viewport sideways and are not inside a
box that scrolls sideways on its own (``overflow-x: auto | scroll``), outermost only;
elements not displayed, invisible or clipped to nothing (screen-reader-only text) are not
counted.
``UNLABELLED`` lists the visible form controls whose label is not beside them: a label
(``<label for>``, a wrapping ``<label>`` or ``aria-labelledby``) on the same line and at
most 24 px away. A search box whose only label is the text shown inside it (placeholder
equal to its aria-label, while empty) passes. Both describe each element by tag, id/class and a bit of its text.
"""

PHONE = {"width": 390, "height": 844}

_DESCRIBE = """
const describe = el => {
    const cls = (el.getAttribute('class') || '').trim().split(/\\s+/).slice(0, 3).join('.');
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls ? '.' + cls : ''} "${text}"`;
};
// clipped to nothing: the screen-reader-only pattern (e.g. MathJax's assistive MathML)
const clippedAway = s => {
    if (s.clipPath && s.clipPath.startsWith('inset(50%')) return true;
    const m = /rect\\(([-\\d.]+)px,? ([-\\d.]+)px,? ([-\\d.]+)px,? ([-\\d.]+)px\\)/.exec(s.clip || '');
    return !!m && (parseFloat(m[2]) - parseFloat(m[4]) <= 1 || parseFloat(m[3]) - parseFloat(m[1]) <= 1);
};
const shown = el => {
    for (let a = el; a; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse') return false;
        if (clippedAway(s)) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
};
"""

WIDE = "() => {" + _DESCRIBE + """
    const vw = document.documentElement.clientWidth;
    const scrollsX = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    const fits = r => r.left >= -1 && r.right <= vw + 1;
    const out = [];
    const seen = new Set();
    for (const el of document.body.querySelectorAll('*')) {
        if (['SCRIPT', 'STYLE', 'TITLE', 'DESC'].includes(el.tagName.toUpperCase())) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || fits(r)) continue;
        let inBox = false, reported = false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (seen.has(a)) { reported = true; break; }
            if (scrollsX(a) && fits(a.getBoundingClientRect())) { inBox = true; break; }
        }
        if (inBox || reported || !shown(el)) continue;
        // off-canvas parts of the theme (closed drawers) are moved out of view on purpose
        if (getComputedStyle(el).position === 'fixed' && (r.right <= 0 || r.left >= vw)) continue;
        seen.add(el);
        out.push(`${describe(el)} spans x ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return {scrollWidth: document.documentElement.scrollWidth, width: vw, wide: out};
}"""

UNLABELLED = "() => {" + _DESCRIBE + """
    const out = [];
    const controls = document.querySelectorAll(
        'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea');
    for (const c of controls) {
        if (!shown(c)) continue;
        let labels = Array.from(c.labels || []);
        const ids = (c.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
        labels = labels.concat(ids.map(id => document.getElementById(id)).filter(Boolean));
        labels = labels.filter(shown);
        if (!labels.length) {
            // a search box labelled by the words shown inside it (its placeholder, also its
            // aria-label), as the theme's search box is
            const ph = c.getAttribute('placeholder');
            if (c.type === 'search' && ph && !c.value && c.getAttribute('aria-label') === ph) continue;
            out.push(`${describe(c)}: no visible label`);
            continue;
        }
        const r = c.getBoundingClientRect();
        const beside = labels.some(l => {
            if (l.contains(c)) {
                // a wrapping label: its own text must sit on the control's line
                const range = document.createRange();
                range.selectNodeContents(l);
                const rects = Array.from(range.getClientRects()).filter(x => x.width > 0);
                return rects.some(x => x.top < r.bottom && x.bottom > r.top &&
                                       Math.max(x.left - r.right, r.left - x.right) <= 24);
            }
            const b = l.getBoundingClientRect();
            const sameLine = b.top < r.bottom && b.bottom > r.top;
            const gap = Math.max(b.left - r.right, r.left - b.right, 0);
            return sameLine && gap <= 24;
        });
        if (!beside) {
            const b = labels[0].getBoundingClientRect();
            out.push(`${describe(c)} at (${Math.round(r.left)}, ${Math.round(r.top)}) but its label ` +
                     `${describe(labels[0])} at (${Math.round(b.left)}, ${Math.round(b.top)})`);
        }
    }
    return out;
}"""
