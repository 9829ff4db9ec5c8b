"""Regenerate docs/screenshot.png (the README's picture) from a built book.

    .venv/bin/python tools/screenshot.py [_build/html]

Uses Debian's Chromium through Playwright (no browser download).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGE = "notebooks/05-do-her2-positive-ctcs-predict-survival.html"


def main() -> None:
    html = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html").resolve()
    out = Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto((html / PAGE).as_uri())
        page.locator("figure").first.scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, -260)")
        page.wait_for_timeout(500)
        page.screenshot(path=str(out))
        browser.close()
    print(out)


if __name__ == "__main__":
    main()
