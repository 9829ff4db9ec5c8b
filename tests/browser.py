"""Headless Chromium for the tests (Debian's ``chromium`` driven by Playwright).

The browser is never downloaded: Playwright is pointed at the system Chromium. Set
``CTCBOOK_CHROMIUM`` to use another binary, or ``CTCBOOK_SKIP_BROWSER=1`` to skip the
browser tests explicitly (they fail, not skip, when no browser can be found).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """The Chromium binary to drive, or fail (skip only on explicit opt-out)."""
    if os.environ.get("CTCBOOK_SKIP_BROWSER") == "1":
        pytest.skip("browser tests skipped: CTCBOOK_SKIP_BROWSER=1")
    candidates = [os.environ.get("CTCBOOK_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.fail(
        "No Chromium found for the browser tests. Install Debian's 'chromium' package "
        "(the README's test command does), set CTCBOOK_CHROMIUM=/path/to/chromium, or "
        "opt out with CTCBOOK_SKIP_BROWSER=1."
    )


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in {"data", "blob", "about", "file", "chrome-error"}:
        return True
    return parsed.hostname in LOCAL_HOSTS


@contextmanager
def browser_page():
    """Yield ``(page, log)``: a fresh page whose non-local requests are blocked and logged.

    ``log`` collects ``errors`` (uncaught JavaScript errors and console errors),
    ``failed`` (requests that failed), ``external`` (requests to other hosts, blocked)
    and ``bad_status`` (responses with status >= 400).
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    log: dict[str, list[str]] = {"errors": [], "failed": [], "external": [], "bad_status": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def guard(route):
            if is_local(route.request.url):
                route.continue_()
            else:
                log["external"].append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("pageerror", lambda exc: log["errors"].append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: log["errors"].append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error"
            else None,
        )
        page.on(
            "requestfailed",
            lambda req: log["failed"].append(f"{req.url} ({req.failure})")
            if is_local(req.url)
            else None,
        )
        page.on(
            "response",
            lambda resp: log["bad_status"].append(f"{resp.status} {resp.url}")
            if resp.status >= 400
            else None,
        )
        try:
            yield page, log
        finally:
            context.close()
            browser.close()
