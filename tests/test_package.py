"""The package's public surface: every exported name resolves, import stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import ctcbook
from ctcbook.cohort import paper


def _documented_constant(module, name: str) -> bool:
    """True when ``module`` assigns ``name`` at top level right under a ``#:`` comment."""
    source = Path(module.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.parse(source).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return lines[node.lineno - 2].lstrip().startswith("#:")
    return False


@pytest.mark.parametrize("name", sorted(ctcbook._API))
def test_every_public_name_is_the_documented_object_of_its_module(name):
    """``cb.NAME`` is the object its module defines (not a copy, not a re-export from
    elsewhere), with a docstring (functions, classes) or a ``#:`` comment (constants)."""
    module = importlib.import_module(f"ctcbook.{ctcbook._API[name]}")
    obj = getattr(ctcbook, name)
    assert obj is getattr(module, name)
    if callable(obj):  # functions, classes, cached functions
        assert obj.__module__ == module.__name__, f"{name} is defined in {obj.__module__}"
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    else:
        assert _documented_constant(module, name), f"{name}: no '#:' comment in {module.__name__}"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ctcbook.nope  # noqa: B018


def test_import_does_not_pull_in_heavy_dependencies():
    code = (
        "import sys, ctcbook; "
        "heavy = [m for m in ('lifelines', 'matplotlib', 'ipywidgets') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_published_numbers_are_shipped_with_the_package():
    numbers = paper.published()
    assert numbers["study"]["n_enrolled"] == 52
    assert numbers["first_follow_up_groups"] == {"her2_positive_ctc": 6, "no_her2_positive_ctc": 43}
    assert numbers["logrank_first_follow_up_her2_ctc"] == {"pfs_p": 0.001, "os_p": 0.013}
