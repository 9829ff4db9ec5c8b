"""A notebook that fails or times out fails the build: a non-zero exit naming it.

The book's ``_config.yml`` sets ``nb_execution_raise_on_error``; without it myst-nb only
logs a warning and publishes the page with its glued numbers missing (what happened on a
5,000-patient cohort when one chapter hit the cell timeout). The tests build a tiny
throwaway book with the book's own execution settings and one broken notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.book]


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_the_book_raises_on_a_notebook_error():
    config = book_config()
    assert config["execute"]["allow_errors"] is False
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True


def tiny_book(folder: Path, source: str, timeout: int) -> None:
    """A two-page book with the book's execution settings and one notebook."""
    config = book_config()
    (folder / "_config.yml").write_text(yaml.safe_dump({
        "title": "tiny",
        "execute": {**config["execute"], "timeout": timeout},
        "sphinx": {"config": {
            "nb_execution_raise_on_error": config["sphinx"]["config"]["nb_execution_raise_on_error"],
        }},
    }), encoding="utf-8")
    (folder / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "intro", "chapters": [{"file": "chapter"}],
    }), encoding="utf-8")
    (folder / "intro.md").write_text("# Intro\n", encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter"),
                nbformat.v4.new_code_cell("patients = 3"),
                nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, folder / "chapter.ipynb")


def build(folder: Path, out: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(exe), "build", str(folder), "--path-output", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.mark.parametrize(("source", "timeout", "says"), [
    ("raise ValueError('this cohort breaks the chapter')", 60, "this cohort breaks the chapter"),
    ("import time\ntime.sleep(120)", 3, "time.sleep(120)"),
], ids=["error", "timeout"])
def test_a_failing_notebook_stops_the_build(tmp_path, source, timeout, says):
    book = tmp_path / "book"
    book.mkdir()
    tiny_book(book, source, timeout)
    result = build(book, tmp_path / "out")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "chapter.ipynb" in output  # the notebook is named
    assert says in output  # the failing cell (and the error) are shown
    assert not (tmp_path / "out" / "_build" / "html" / "chapter.html").exists()
