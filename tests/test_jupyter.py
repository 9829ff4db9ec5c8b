"""Glued numbers in Jupyter: the kernel answers jupyterlab-myst's ``{eval}`` expressions from
the glued values, formatted as the book's ``{glue:text}``, and leaves the book's build alone.

The kernel is asked as jupyterlab-myst asks it (its ``executeUserExpressions``): an execute
request with empty code and the cell's expressions as ``user_expressions``.
"""

from __future__ import annotations

import os

import pytest
from jupyter_client.manager import start_new_kernel

from ctcbook.report.glue import (
    BUILD_ENV,
    NOT_YET,
    PLACEHOLDER,
    answer,
    expressions,
    glued_figures,
    glued_name,
    glued_text,
    placeholder_expressions,
)

SOURCE = """import ctcbook as cb
from myst_nb import glue
cb.style()
glue("p_pfs", "0.023", display=False)
glue("n_exp", 7, display=False)
glue("share", 12.345, display=False)
glue("quoted", "it's", display=False)
mine = 41"""

FIGURE = """import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(1, 1))
glue("fig_small", fig, display=False)
plt.close(fig)"""


def kernel(build: str | None):
    env = {k: v for k, v in os.environ.items() if k != BUILD_ENV}
    if build is not None:
        env[BUILD_ENV] = build
    return start_new_kernel(kernel_name="python3", startup_timeout=180, env=env)


def run(kc, code: str, user_expressions: dict | None = None) -> tuple[dict, list[str]]:
    """Execute ``code``; return the reply's content and the HTML it displayed (a glue's own
    display_data, hidden in Jupyter, has only prefixed MIME types and no ``text/html``)."""
    shown = []
    reply = kc.execute_interactive(
        code, user_expressions=user_expressions or {}, timeout=120,
        output_hook=lambda msg: shown.append("".join(msg["content"]["data"]["text/html"]))
        if msg["msg_type"] == "display_data" and "text/html" in msg["content"]["data"]
        else None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"], shown


def asked(kc, *exprs: str) -> list[dict]:
    """What jupyterlab-myst receives for a markdown cell holding ``exprs``."""
    content, _ = run(kc, "", {str(i): e for i, e in enumerate(exprs)})
    return [content["user_expressions"][str(i)] for i in range(len(exprs))]


@pytest.mark.xdist_group("jupyter")
def test_the_kernel_answers_glued_names_as_the_book_shows_them():
    km, kc = kernel(None)
    try:
        before = asked(kc, "p_pfs")  # the markdown above the first code cell
        run(kc, SOURCE)
        p, n, share, quoted, later, mine, python = asked(
            kc, "p_pfs", "n_exp", "share:.1f", "quoted", "later", "mine", "mine + 1")
        run(kc, 'glue("later", "ok", display=False)')
        (later_again,) = asked(kc, "later")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert before[0]["status"] == "error" and before[0]["ename"] == "NameError"
    assert p == {"status": "ok", "data": {"text/plain": "0.023"}, "metadata": {}}  # no quotes
    assert n["data"]["text/plain"] == "7"
    assert share["data"]["text/plain"] == "12.3"  # the format spec of {glue:text}
    assert quoted["data"]["text/plain"] == "it's"
    assert later["data"]["text/plain"] == NOT_YET  # glued further down: not a NameError
    assert later_again["data"]["text/plain"] == "ok"  # ... until the cell is run again
    assert mine["data"]["text/plain"] == "41"  # the reader's own variable, not glued
    assert python["data"]["text/plain"] == "42"  # any other expression is Python


@pytest.mark.xdist_group("jupyter")
def test_glued_figures_are_shown_under_their_cell_and_text_is_not():
    km, kc = kernel(None)
    try:
        _, first = run(kc, SOURCE)
        _, second = run(kc, FIGURE)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert len(second) == 1 and '<img alt="fig_small" src="data:image/png;base64,' in second[0]
    assert first == []  # glued text goes into the sentences, not under the cell


@pytest.mark.xdist_group("jupyter")
def test_the_kernel_is_left_alone_while_the_book_is_built():
    km, kc = kernel("1")
    try:
        _, shown = run(kc, SOURCE + "\n" + FIGURE)
        (p,) = asked(kc, "p_pfs")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert shown == []
    assert p["status"] == "error" and p["ename"] == "NameError"


def test_expressions_and_their_placeholders():
    text = "p = {eval}`p_pfs`, {eval}`share:.1f` and again {eval}`p_pfs`; {glue:text}`x`"
    assert expressions(text) == ["p_pfs", "share:.1f"]
    assert placeholder_expressions(text) == [
        {"expression": e, "result": {"status": "ok", "data": {"text/plain": PLACEHOLDER},
                                     "metadata": {}}} for e in ("p_pfs", "share:.1f")]
    assert placeholder_expressions("no numbers") == []
    assert glued_name("hr_os:.2f") == ("hr_os", ".2f") and glued_name(" n ") == ("n", "")
    assert glued_name("a.sum()") is None and glued_name("1 + 1") is None


def test_answer_formats_like_glue_text_and_reports_errors():
    glued = {"p": {"text/plain": "'0.023'"}, "x": {"text/plain": "0.5"},
             "s": {"text/plain": "'abc'"}, "fig": {"image/png": "AAAA"}}
    assert answer("p", glued)["data"]["text/plain"] == "0.023"
    assert answer("x:.0%", glued)["data"]["text/plain"] == "50%"
    assert answer("nope", glued)["data"]["text/plain"] == NOT_YET
    bad = answer("s:.1f", glued)  # a word formatted as a number
    assert bad["status"] == "error" and bad["evalue"].startswith("s: ")
    assert answer("fig", glued)["status"] == "error"
    assert glued_text({"text/plain": ["'a", "b'"]}) == "ab"


def test_glued_figures_escape_and_skip_text():
    out = glued_figures([("a<b", {"image/png": "AAAA"}), ("t", {"text/plain": "1"})])
    assert '<img alt="a&lt;b" src="data:image/png;base64,AAAA">' in out
    assert "<code>t</code>" not in out
    assert glued_figures([("t", {"text/plain": "1"})]) == ""
