"""A book without solutions (``CTCBOOK_HIDE_SOLUTIONS=1``, the class kit's student build).

A two-exercise Sphinx project (one plain solution, one gated solution-start/end, as the
book's notebooks use) is built with and without the switch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONF = '''
extensions = ["myst_parser", "sphinx_exercise", "ctcbook.publish.sphinxext"]
myst_enable_extensions = ["colon_fence"]
html_theme = "sphinx_book_theme"
'''

INDEX = '''# Mini

:::{exercise}
:label: ex-one
Question one.
:::

:::{solution} ex-one
:class: dropdown
Answer one.
:::

```{exercise-start}
:label: ex-two
```
Question two.
```{exercise-end}
```

```{solution-start} ex-two
:class: dropdown
```
Answer two.
```{solution-end}
```
'''


def build(tmp_path: Path, hide: str | None) -> str:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.md").write_text(INDEX, encoding="utf-8")
    out = tmp_path / f"out-{hide}"
    env = {k: v for k, v in os.environ.items() if k != "CTCBOOK_HIDE_SOLUTIONS"}
    if hide is not None:
        env["CTCBOOK_HIDE_SOLUTIONS"] = hide
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W",
                             str(src), str(out)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("hide", ["1", "true"])
def test_hide_solutions_removes_plain_and_gated_solutions(tmp_path, hide):
    page = build(tmp_path, hide)
    assert "Question one" in page and "Question two" in page
    assert "Answer one" not in page and "Answer two" not in page


def test_solutions_are_kept_by_default(tmp_path):
    page = build(tmp_path, None)
    assert "Answer one" in page and "Answer two" in page
