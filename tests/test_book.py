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
