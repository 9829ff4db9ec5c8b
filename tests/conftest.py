"""Shared fixtures: the repository root, a freshly built book, a local web server."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def build_book(out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Build the book from ROOT into ``out`` with warnings as errors (a clean build)."""
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"]
    return subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=1800
    )


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The book built from scratch into a temporary folder; returns ``_build/html``.

    Set ``CTCBOOK_TEST_HTML`` to an existing ``_build/html`` to test that build instead
    (handy while working on the browser tests; CI always builds).
    """
    existing = os.environ.get("CTCBOOK_TEST_HTML")
    if existing:
        return Path(existing)
    out = tmp_path_factory.mktemp("book")
    result = build_book(out)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-8000:]}"
    return out / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def book_server(built_book):
    """Serve the built book on 127.0.0.1 (an ephemeral port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
