"""Glued numbers shown under their cells in a Jupyter kernel, and not in the book's build."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from ctcbook.report.glue import BUILD_ENV, glued_table

SOURCE = """import ctcbook as cb
from myst_nb import glue
cb.style()
glue("p_pfs", "0.023", display=False)
glue("n_exp", 7, display=False)"""


def run(env_value: str | None) -> list[dict]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE), nbformat.v4.new_code_cell("glue('k', 1.5, display=False)")]
    old = os.environ.get(BUILD_ENV)
    try:
        if env_value is None:
            os.environ.pop(BUILD_ENV, None)
        else:
            os.environ[BUILD_ENV] = env_value
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        if old is None:
            os.environ.pop(BUILD_ENV, None)
        else:
            os.environ[BUILD_ENV] = old
    return [cell.outputs for cell in nb.cells]


def html_of(outputs) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs
                   if o.get("output_type") == "display_data")


@pytest.mark.xdist_group("jupyter")
def test_glued_values_are_shown_under_the_cell_in_jupyter():
    first, second = run(None)
    shown = html_of(first)
    assert "<code>p_pfs</code></td><td>0.023</td>" in shown  # a string without its quotes
    assert "<code>n_exp</code></td><td>7</td>" in shown
    assert "<code>k</code></td><td>1.5</td>" in html_of(second)  # every cell, once installed
    assert "p_pfs" not in html_of(second)


@pytest.mark.xdist_group("jupyter")
def test_no_table_while_the_book_is_built():
    first, second = run("1")
    assert html_of(first) == "" and html_of(second) == ""


def test_glued_table_escapes_and_shows_images():
    text = glued_table([("a<b", {"text/plain": "'x & y'"}), ("fig", {"image/png": "AAAA"})])
    assert "<code>a&lt;b</code></td><td>x &amp; y</td>" in text
    assert '<img alt="fig" src="data:image/png;base64,AAAA">' in text
