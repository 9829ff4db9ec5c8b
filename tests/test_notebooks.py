"""Every notebook is committed without outputs and executes without error."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    assert not with_outputs, f"{path.name}: cells {with_outputs} have outputs; strip them"
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert all(n is None for n in counts), f"{path.name}: execution counts are committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executes(path):
    nb = nbformat.read(path, as_version=4)
    # startup_timeout: on 2 busy cores (a book build runs beside) a kernel can take long to
    # answer its first request; 60 s (the default) was once not enough.
    client = NotebookClient(
        nb, timeout=600, startup_timeout=180, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error


def solution_code_cells(nb: dict) -> list[dict]:
    """Code cells between ``{solution-start}`` and ``{solution-end}`` (a gated solution)."""
    inside, cells = False, []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if "{solution-end}" in src and ("{solution-start}" not in src
                                             or src.index("{solution-end}") < src.index("{solution-start}")):
                inside = False
            if "{solution-start}" in src and src.rfind("{solution-start}") > src.rfind("{solution-end}"):
                inside = True
        elif inside:
            cells.append(cell)
    return cells


def test_solution_code_is_collapsed_in_jupyter():
    """In Jupyter a solution stays hidden until asked: its markdown is a closed dropdown
    (jupyterlab-myst), its code cells are collapsed (nbformat's ``jupyter.source_hidden``)."""
    found = 0
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in solution_code_cells(nb):
            found += 1
            hidden = cell["metadata"].get("jupyter", {})
            assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), (
                f"{path.name}: a solution's code cell is shown in Jupyter: "
                + "".join(cell["source"])[:80])
    assert found >= 5
