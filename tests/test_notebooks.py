"""Every notebook is committed without outputs and executes without error."""

from __future__ import annotations

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
