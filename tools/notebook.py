"""Write a notebook from a compact description (used to author the book's notebooks).

    from tools.notebook import md, code, write
    write("notebooks/01-x.ipynb", [md("# Title"), code("x = 1", tags=["hide-input"])])

Notebooks are written without outputs, with the ``python3`` kernel, ready to commit: every
markdown cell carries the placeholders Jupyter shows for its ``{eval}`` numbers before the
notebook runs (:func:`ctcbook.report.glue.placeholder_expressions`). After editing a notebook in
Jupyter (where running a markdown cell stores its numbers in the cell), reset them with

    python -m tools.notebook placeholders notebooks/*.ipynb
"""

from __future__ import annotations

import sys
import textwrap

import nbformat

from ctcbook.report.glue import placeholder_expressions


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
    nbformat.write(with_placeholders(nb), path)


def with_placeholders(nb):
    """``nb`` with each markdown cell's ``user_expressions`` set to the placeholders of its
    ``{eval}`` expressions (none: no such metadata)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        expressions = placeholder_expressions(cell.source)
        if expressions:
            cell.metadata["user_expressions"] = expressions
        else:
            cell.metadata.pop("user_expressions", None)
    return nb


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "placeholders":
        sys.exit("usage: python -m tools.notebook placeholders NOTEBOOK.ipynb ...")
    for name in sys.argv[2:]:
        nbformat.write(with_placeholders(nbformat.read(name, as_version=4)), name)
