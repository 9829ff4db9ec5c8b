"""Regenerate ``tests/data/explorer_paths_n52.json``: the explorer's SVG paths before thinning.

``tests/test_static_explorer_browser.py::test_thinned_explorers_draw_the_picture_of_the_unthinned_ones``
checks that the thinned, shared and compressed curves of today's explorers draw the same
picture as the explorer before thinning. Its reference is made here, honestly, by the old
code itself:

1. a scratch git worktree of commit ``f344a56`` (the last commit before the thinning, whose
   explorers carry the full curves as JSON) is checked out in a temporary folder;
2. the CURRENT shipped cohort (``data/``) is copied into it;
3. one fix, and only that one, is applied to its ``ctcbook/explorers/assets/explorer.js``:
   the lower edge of the confidence band stepped one time point early there (``lo[i]``
   where ``lo[i - 1]`` is right; fixed in commit ``8ff0fe5``). The script stops if the line
   to fix is not found exactly once;
4. the three stand-alone explorer pages (threshold, her2, cutpoint) are built by the OLD
   package (a subprocess with ``PYTHONPATH`` = the scratch worktree, checked to import
   ``ctcbook`` from there), exactly as the test's ``standalone_pages`` fixture builds the
   new ones;
5. each page is opened in headless Debian Chromium (Playwright, ``tests/browser.py``, the
   test's 1280 x 900 viewport), and for every state in ``KEYS`` the test's own
   ``SET_AND_READ`` script (read from the test file's source, not copied) sets the controls
   and reads the curve, band and censoring-mark paths;
6. the JSON is written (``json.dumps(..., indent=0, sort_keys=True)``) and the scratch
   worktree is removed.

Run from the repository root whenever the shipped cohort changes::

    .venv/bin/python tools/explorer_reference.py

The old package loaded the model-2.0 cohort without any compatibility shim.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "f344a56"  # the commit before the thinning (8ff0fe5)
KINDS = ("threshold", "her2", "cutpoint")
# The states drawn: "kind|threshold or HER2 rule|time point|endpoint". No landmark state:
# since issue 12 the explorers' landmark is chapter 14's (one landmark day for everyone),
# which the old code does not compute, so it cannot draw the reference.
KEYS = [
    "cutpoint|20|baseline|os",
    "cutpoint|4|first_follow_up|pfs",
    "her2|>=1|first_follow_up|pfs",
    "her2|>=2|any|pfs",
    "her2|>=30%|baseline|os",
    "threshold|12|any|pfs",
    "threshold|1|baseline|os",
    "threshold|2|change|pfs",
    "threshold|30|first_follow_up|os",
    "threshold|5|change|os",
    "threshold|5|first_follow_up|pfs",
]
BAND_BUG = 'd += "V" + sy(lo[i]).toFixed(1) + "H" + sx(xs[i - 1]).toFixed(1);'
BAND_FIX = 'd += "V" + sy(lo[i - 1]).toFixed(1) + "H" + sx(xs[i - 1]).toFixed(1);'

BUILD = """
import sys
from pathlib import Path
import ctcbook as cb
scratch, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
assert Path(cb.__file__).resolve().is_relative_to(scratch), f"imported {cb.__file__}"
cohort = cb.load_cohort(scratch / "data")
head = "<!doctype html><html><head><meta charset='utf-8'></head><body>"
for kind in sys.argv[3:]:
    page = head + cb.explorer_html(cohort, kind) + "</body></html>"
    (out / f"{kind}.html").write_text(page, encoding="utf-8")
"""


def test_constant(name: str) -> str:
    """A string constant of the browser test, read from its source (not executed)."""
    source = (ROOT / "tests/test_static_explorer_browser.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{name} not found in tests/test_static_explorer_browser.py")


def git(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def old_pages(scratch: Path, pages: Path) -> None:
    """Check out COMMIT in ``scratch``, put the current cohort and the band fix in, build."""
    git("worktree", "add", "--detach", str(scratch), COMMIT)
    for src in (ROOT / "data").iterdir():
        if src.is_file():
            shutil.copy2(src, scratch / "data" / src.name)
    js = scratch / "ctcbook/explorers/assets/explorer.js"
    text = js.read_text(encoding="utf-8")
    if text.count(BAND_BUG) != 1:
        raise SystemExit(f"the lower-band line to fix is not found exactly once in {COMMIT}'s explorer.js")
    js.write_text(text.replace(BAND_BUG, BAND_FIX), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(scratch)}
    env.pop("CTCBOOK_DATA", None)
    # cwd = pages, so that '' on sys.path is not this repository (the new package)
    subprocess.run([sys.executable, "-c", BUILD, str(scratch), str(pages), *KINDS],
                   cwd=pages, env=env, check=True)


def draw(pages: Path) -> dict[str, list[dict]]:
    """The paths of every state in KEYS, read by the test's SET_AND_READ in Chromium."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import browser_page

    set_and_read = test_constant("SET_AND_READ")
    out: dict[str, list[dict]] = {}
    with browser_page() as (page, log):
        for kind in KINDS:
            page.goto((pages / f"{kind}.html").as_uri(), wait_until="load")
            root = page.wait_for_selector(f"#ctcx-{kind}[data-ready='1']", timeout=30000)
            names = ["her2_rule" if kind == "her2" else "threshold", "timepoint", "endpoint"]
            for key in KEYS:
                if key.startswith(kind + "|"):
                    out[key] = root.evaluate(set_and_read, [names, key.split("|")[1:]])
                    if not out[key]:
                        raise SystemExit(f"{key}: nothing drawn")
        if log["errors"] or log["failed"] or log["external"]:
            raise SystemExit(f"the old explorer reported problems: {log}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests/data/explorer_paths_n52.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctcbook-old-explorer-") as tmp:
        scratch, pages = Path(tmp) / "worktree", Path(tmp) / "pages"
        pages.mkdir()
        try:
            old_pages(scratch, pages)
            paths = draw(pages)
        finally:
            if scratch.exists():
                git("worktree", "remove", "--force", str(scratch))
    args.out.write_text(json.dumps(paths, indent=0, sort_keys=True), encoding="utf-8")
    print(f"wrote {len(paths)} states, {sum(map(len, paths.values()))} paths to {args.out}")


if __name__ == "__main__":
    main()
