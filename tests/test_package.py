"""The package's public surface: every exported name resolves, import stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ctcbook
from ctcbook.cohort import paper


@pytest.mark.parametrize("name", sorted(ctcbook._API))
def test_every_public_name_resolves(name):
    assert getattr(ctcbook, name) is not None


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
