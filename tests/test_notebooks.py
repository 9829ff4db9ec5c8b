"""Every notebook is committed without outputs and executes without error, and in Jupyter
every number of its text is filled in after Run All."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ctcbook.report.glue import (
    BUILD_ENV,
    NOT_YET,
    PLACEHOLDER,
    expressions,
    placeholder_expressions,
)

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
    # the numbers jupyterlab-myst stores in a markdown cell once it ran are outputs too:
    # committed, every {eval} number shows the placeholder until the notebook runs
    stale = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
             and c.metadata.get("user_expressions", []) != placeholder_expressions(c.source)]
    assert not stale, (f"{path.name}: markdown cells {stale} do not hold the placeholders of "
                       "their {eval} numbers; run: python -m tools.notebook placeholders "
                       f"notebooks/{path.name}")


def ask(client: NotebookClient, exprs: list[str]) -> list[dict]:
    """The kernel's answers to a markdown cell's expressions, asked as jupyterlab-myst asks
    (its ``executeUserExpressions``: an execute request with empty code)."""
    msg_id = client.kc.execute("", silent=False, store_history=False,
                               user_expressions={str(i): e for i, e in enumerate(exprs)})
    reply = client.wait_for_reply(msg_id)["content"]
    assert reply["status"] == "ok", reply
    return [reply["user_expressions"][str(i)] for i in range(len(exprs))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executes_and_fills_every_number_of_its_text(path):
    """The notebook runs top to bottom without error, and each markdown cell's ``{eval}``
    numbers, asked of the kernel when the cell is reached (after the code cells above it:
    a reader stepping with Shift+Enter; after Run All jupyterlab-myst asks once everything
    ran, which this order covers too), are answered with a value: not a NameError (a number
    above the first code cell), not "not computed yet" (glued further down), not an error."""
    nb = nbformat.read(path, as_version=4)
    # startup_timeout: on 2 busy cores (a book build runs beside) a kernel can take long to
    # answer its first request; 60 s (the default) was once not enough.
    client = NotebookClient(
        nb, timeout=600, startup_timeout=180, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # as a reader's kernel: not the book's build (a test building the book in this process
    # may have set CTCBOOK_BOOK_BUILD, which the kernel would inherit)
    env = {k: v for k, v in os.environ.items() if k != BUILD_ENV}
    problems = []
    with client.setup_kernel(env=env):
        client.wait_for_reply(client.kc.kernel_info())
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                # raises CellExecutionError, naming the cell, on any error
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                continue
            exprs = expressions(cell.source)
            for expr, result in zip(exprs, ask(client, exprs) if exprs else [], strict=True):
                text = result.get("data", {}).get("text/plain")
                if result["status"] != "ok" or text in (NOT_YET, PLACEHOLDER, None):
                    problems.append(f"cell {index}: {expr!r} -> "
                                    f"{text or result.get('ename', '')} {result.get('evalue', '')}")
    assert not problems, f"{path.name}: numbers not filled in after Run All: {problems}"


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


# ------------------------------------------------------- the field's libraries, in view

LIFELINES_FITS = {"KaplanMeierFitter", "logrank_test", "multivariate_logrank_test", "CoxPHFitter",
                  "CoxTimeVaryingFitter"}


def _called_names(source: str) -> set[str]:
    """Names called in a cell (``f(...)`` and ``obj.f(...)``); IPython magics are skipped."""
    import ast

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
    return names


def _shown_code_cells(nb: dict) -> list[dict]:
    """Code cells whose code a reader sees (maybe behind a click): not removed, not a solution."""
    hidden = {id(c) for c in solution_code_cells(nb)}
    return [c for c in nb["cells"] if c["cell_type"] == "code" and id(c) not in hidden
            and not {"remove-cell", "remove-input"} & set(c["metadata"].get("tags", []))]


def notebooks_fitting_with_lifelines() -> list[str]:
    """Notebooks with a visible code cell that fits a model or runs a test with lifelines."""
    out = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if any(LIFELINES_FITS & _called_names("".join(c["source"])) for c in _shown_code_cells(nb)):
            out.append(path.name)
    return out


def seaborn_figures_shown() -> list[str]:
    """Figures the book shows that a seaborn-drawn ``cb.plot_*`` function made.

    A figure is shown when its cell carries figure metadata (``mystnb.figure``) or glues it
    under a name that a ``{glue:figure}`` directive of the notebook shows.
    """
    import re

    from test_plotting import SEABORN_FIGURES

    out = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        shown = set(re.findall(r"\{glue:figure\}\s+(\S+)", text))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            drawn = set(SEABORN_FIGURES) & _called_names(source)
            glued = set(re.findall(r"glue\(\s*[\"'](\w+)[\"']\s*,\s*(?:ax|fig|axes)", source))
            if drawn and ("figure" in cell["metadata"].get("mystnb", {}) or glued & shown):
                out += [f"{path.name}: {name}" for name in sorted(drawn)]
    return out


def test_notebooks_fit_with_lifelines_in_view():
    """Issue 12: a reader sees lifelines do the analyses in at least six notebooks."""
    found = notebooks_fitting_with_lifelines()
    assert len(found) >= 6, found


def test_seaborn_draws_at_least_four_figures_of_the_book():
    found = seaborn_figures_shown()
    assert len(found) >= 4, found


def test_the_counts_see_what_they_count(tmp_path):
    """The counters are not vacuous: a hidden fit and an unshown figure do not count."""
    assert _called_names("from lifelines import CoxPHFitter\nCoxPHFitter().fit(d, 't', 'e')") >= {"CoxPHFitter", "fit"}
    hidden = {"cell_type": "code", "metadata": {"tags": ["remove-input"]}, "source": ["CoxPHFitter()"]}
    shown = {"cell_type": "code", "metadata": {"tags": ["hide-input"]}, "source": ["CoxPHFitter()"]}
    assert _shown_code_cells({"cells": [hidden, shown]}) == [shown]


def test_notebooks_import_no_private_helpers():
    """Notebooks use public names (cb.*), never a module's private helper."""
    import re

    bad = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                for m in re.finditer(r"from ctcbook\.[\w.]+ import ([^\n]+)", "".join(cell["source"])):
                    names = [n.strip(" ()") for n in m.group(1).split(",")]
                    bad += [f"{path.name}: {n}" for n in names if n.startswith("_") or n in {
                        "p_text", "explorer_data", "counting_process"}]
    assert bad == []
