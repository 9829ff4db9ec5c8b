"""The book builds from scratch with warnings as errors, and its HTML is self-contained."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.book, pytest.mark.xdist_group("book")]

EXTERNAL_ASSET = re.compile(
    r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["'](?:https?:)?//"""
    r"""|<link\b[^>]*\bhref=["'](?:https?:)?//[^"']*["'][^>]*>""",
    re.IGNORECASE,
)


def toc_files(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def test_every_toc_entry_becomes_a_page(built_book, root):
    for name in toc_files(root):
        assert (built_book / f"{name}.html").is_file(), f"{name} was not built"


def test_no_page_loads_anything_from_another_host(built_book):
    offenders = {}
    for page in built_book.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        hits = [m.group(0) for m in EXTERNAL_ASSET.finditer(text)]
        # <link rel="canonical"> or rel="license" would be harmless; stylesheets and preloads are not
        hits = [h for h in hits if not re.search(r'rel=["\'](?:canonical|license)', h)]
        if hits:
            offenders[str(page.relative_to(built_book))] = hits[:3]
    assert not offenders, f"pages reference external assets: {offenders}"


def test_mathjax_is_served_locally(built_book):
    mathjax = built_book / "_static" / "mathjax" / "tex-mml-chtml.js"
    assert mathjax.is_file()
    assert (built_book / "_static" / "mathjax" / "LICENSE").is_file()
    fonts = list((built_book / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    assert fonts, "MathJax fonts are missing from the build"


def test_no_thebe_on_pages(built_book):
    for page in built_book.rglob("*.html"):
        assert "THEBE_JS_URL" not in page.read_text(encoding="utf-8"), page.name


def article_text(page: Path) -> str:
    """The visible text of a page's article (tags and scripts stripped)."""
    html = page.read_text(encoding="utf-8")
    start, end = html.find("<article"), html.rfind("</article>")
    html = html[start:end] if start >= 0 and end > start else html
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_a_students_cohort_changes_every_notebook_page(built_book, root, tmp_path):
    """Issue 8: simulate a cohort as a student would, rebuild the book on it, and every
    page computed from the cohort shows different numbers (and still says "synthetic")."""
    import subprocess
    import sys

    from conftest import build_book

    cohort = tmp_path / "student-20261"
    subprocess.run(
        [sys.executable, "-m", "ctcbook", "simulate", "--n", "52", "--seed", "20261",
         "--out", str(cohort)],
        check=True, capture_output=True, text=True,
    )
    result = build_book(tmp_path / "book", env={"CTCBOOK_DATA": str(cohort)})
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]
    student = tmp_path / "book" / "_build" / "html"

    # Pages computed from the cohort (a page of pure simulation, which never loads the
    # cohort, rightly stays the same).
    notebook_pages = [
        built_book / "notebooks" / f"{nb.stem}.html"
        for nb in sorted((root / "notebooks").glob("*.ipynb"))
        if "load_cohort(" in nb.read_text(encoding="utf-8")
    ]
    assert len(notebook_pages) >= 15
    unchanged = [
        page.name
        for page in notebook_pages
        if article_text(page) == article_text(student / "notebooks" / page.name)
    ]
    assert not unchanged, f"pages identical on another cohort: {unchanged}"
    first = article_text(student / "notebooks" / notebook_pages[0].name)
    assert "synthetic cohort" in first


TABLE_TAG = re.compile(r"<table\b[^>]*>", re.IGNORECASE)
CLASS_ATTR = re.compile(r"""\bclass\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def test_no_page_shows_a_raw_pandas_table(built_book):
    """Tables are rendered with ``cb.html_table`` (no index, readable headers), never as a
    DataFrame repr: every ``<table>`` of class ``dataframe`` also has ``ctcbook-table``."""
    offenders = {}
    for page in sorted(built_book.rglob("*.html")):
        for tag in TABLE_TAG.findall(page.read_text(encoding="utf-8")):
            match = CLASS_ATTR.search(tag)
            classes = match.group(1).split() if match else []
            if "dataframe" in classes and "ctcbook-table" not in classes:
                offenders.setdefault(str(page.relative_to(built_book)), []).append(tag)
    assert not offenders, f"raw pandas tables (use cb.html_table): {offenders}"


def test_every_page_declares_a_favicon_that_is_built(built_book):
    """Without a declared icon a browser requests /favicon.ico on every page: a 404."""
    missing = {}
    for page in built_book.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "_static" in page.parts or 'http-equiv="Refresh"' in text or "http-equiv=\"refresh\"" in text:
            continue  # theme templates, and the root index.html (a redirect)
        m = re.search(r'<link[^>]*rel="icon"[^>]*href="([^"]+)"', text)
        if m is None or not (page.parent / m.group(1)).resolve().is_file():
            missing[str(page.relative_to(built_book))] = m.group(1) if m else None
    assert not missing, f"pages without a built favicon: {dict(list(missing.items())[:5])}"
