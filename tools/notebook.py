"""Write a notebook from a compact description (used to author the book's notebooks).

    from tools.notebook import md, code, write
    write("notebooks/01-x.ipynb", [md("# Title"), code("x = 1", tags=["hide-input"])])

Notebooks are written without outputs, with the ``python3`` kernel, ready to commit.
"""

from __future__ import annotations

import textwrap

import nbformat


def md(text: str):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str, tags: list[str] | None = None, **mystnb):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    if mystnb:
        cell.metadata["mystnb"] = mystnb
    return cell


def write(path: str, cells: list) -> None:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"
    nbformat.write(nb, path)
