"""Choosing the pages to print (``ctcbook pdf --pages``), and clear errors before any printing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctcbook.__main__ import main
from ctcbook.publish.printing import BookPage, PrintError, book_pages, select_pages


def fake_book(tmp_path: Path) -> tuple[Path, list[BookPage]]:
    html = tmp_path / "html"
    pages = []
    for name in ("book/index", "book/methods", "notebooks/04-five", "notebooks/05-her2"):
        path = html / f"{name}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<h1>x</h1>", encoding="utf-8")
        pages.append(BookPage(name, path.resolve(), "", 1))
    return html, pages


def test_patterns_choose_pages_in_book_order(tmp_path):
    html, pages = fake_book(tmp_path)
    assert select_pages(pages, html, None) == pages
    chosen = select_pages(pages, html, ["notebooks/0[45]-*", "book/methods"])
    assert [p.title for p in chosen] == ["book/methods", "notebooks/04-five", "notebooks/05-her2"]


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path):
    html, pages = fake_book(tmp_path)
    with pytest.raises(PrintError, match="no page of the book matches nothing"):
        select_pages(pages, html, ["nothing"])


def test_no_built_book_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(PrintError, match="no index.html"):
        book_pages(tmp_path)
    assert main(["pdf", str(tmp_path), "--out", str(tmp_path / "pdf")]) == 1
    out, err = capsys.readouterr()
    assert "holds no built book" in err and "Traceback" not in out + err
