"""Glued numbers in the sentences, in the book and in JupyterLab or Notebook 7 alike.

The notebooks quote a computed number in their prose as ``{eval}`name``` (or
``{eval}`name:.1f```, with a format spec as in myst-nb's ``{glue:text}``), where ``name`` is
a key the notebook glues with ``myst_nb.glue``. One source, two renderers:

- **The book.** :mod:`ctcbook.publish.sphinxext` gives ``{eval}`` the meaning of myst-nb's
  ``{glue:text}``: the text of the value glued in the executed (cached) notebook.
- **Jupyter.** jupyterlab-myst evaluates a markdown cell's ``{eval}`` expressions when the
  cell is run by sending them to the kernel as *user expressions*; it keeps the answers in
  the cell's ``user_expressions`` metadata and shows them in the sentence. Measured in
  JupyterLab 4.6 and Notebook 7.6 (jupyterlab-myst 2.7): after Run All the kernel answers
  once every code cell has run; stepping with Shift+Enter, when the cell is reached. :func:`show_glued_values`,
  installed by :func:`ctcbook.report.figures.style` in every notebook's first code cell, makes
  the kernel answer an expression that is a glued name from the values glued so far,
  formatted by myst-nb's own function, so the sentence reads as in the book.

Before the notebook has run, the committed ``user_expressions`` metadata of each markdown
cell holds a placeholder (:data:`PLACEHOLDER`, written by :func:`placeholder_expressions`)
instead of the name. A glued figure has no place in a Jupyter sentence: it is shown under
the code cell that glued it (the book's ``glue:figure`` is an unknown directive there).

Nothing happens outside an IPython kernel, or while the book is built
(``CTCBOOK_BOOK_BUILD``, set by the book's Sphinx extension).
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

#: Set (to anything but "" or "0") while the book is built: the kernel is left alone then.
BUILD_ENV = "CTCBOOK_BOOK_BUILD"
#: Shown in Jupyter for a number before the notebook has run.
PLACEHOLDER = "[…]"
#: Shown in Jupyter for a name the notebook has not glued yet (a cell run out of order).
NOT_YET = "[not computed yet: run the code above, then this cell]"

#: An inline expression in a markdown cell.
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
_GLUED_NAME = re.compile(r"^([A-Za-z_]\w*)(?::(.*))?$")

_STATE_ATTR = "_ctcbook_glued"


def glued_name(expression: str) -> tuple[str, str] | None:
    """``(name, format_spec)`` when ``expression`` reads ``name`` or ``name:spec``, else None."""
    match = _GLUED_NAME.match(expression.strip())
    return (match.group(1), match.group(2) or "") if match else None


def expressions(markdown: str) -> list[str]:
    """The ``{eval}`` expressions of a markdown cell, each once, in order."""
    return list(dict.fromkeys(EVAL_ROLE.findall(markdown)))


def placeholder_expressions(markdown: str) -> list[dict]:
    """The ``user_expressions`` metadata a markdown cell is committed with: every
    expression answered by :data:`PLACEHOLDER` until the notebook runs."""
    return [{"expression": e, "result": {"status": "ok", "data": {"text/plain": PLACEHOLDER},
                                         "metadata": {}}} for e in expressions(markdown)]


def _plain(text: Any) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def glued_text(bundle: dict, format_spec: str = "") -> str:
    """The text of a glued value as the book's ``{glue:text}`` shows it (myst-nb's
    ``format_plain_text``: quotes of a string removed, then ``format_spec`` applied)."""
    from myst_nb.core.variables import format_plain_text

    if "text/plain" not in bundle:
        raise ValueError(f"no text/plain in the glued value ({', '.join(sorted(bundle))})")
    return format_plain_text(_plain(bundle["text/plain"]), format_spec or "s")


def answer(expression: str, glued: dict[str, dict]) -> dict:
    """The kernel's reply to one user expression that names a glued value."""
    name, spec = glued_name(expression) or (expression, "")
    if name not in glued:
        return {"status": "ok", "data": {"text/plain": NOT_YET}, "metadata": {}}
    try:
        text = glued_text(glued[name], spec)
    except Exception as exc:  # noqa: BLE001 - shown in the sentence, like the book's warning
        return {"status": "error", "ename": type(exc).__name__,
                "evalue": f"{name}: {exc}", "traceback": []}
    return {"status": "ok", "data": {"text/plain": text}, "metadata": {}}


def glued_figures(items: list[tuple[str, dict]]) -> str:
    """HTML of the figures a cell glued, each under its name (the text shows no figures)."""
    shown = []
    for name, bundle in items:
        if "image/png" not in bundle:
            continue
        shown.append(f"<figure><img alt=\"{html.escape(name)}\" src=\"data:image/png;base64,"
                     f"{_plain(bundle['image/png'])}\"><figcaption>Figure "
                     f"<code>{html.escape(name)}</code> (shown in the text of the book)"
                     "</figcaption></figure>")
    return "<div class='ctcbook-glued'>" + "".join(shown) + "</div>" if shown else ""


def show_glued_values(enable: bool | None = None) -> bool:
    """Let the kernel answer ``{eval}`` expressions from the glued values, and show glued
    figures under their cell (in a Jupyter kernel only).

    Parameters
    ----------
    enable : bool, optional
        None (default): on in an IPython kernel, unless the book is being built.

    Returns
    -------
    bool
        Whether it is on (installing twice is harmless).
    """
    if enable is None:
        enable = os.environ.get(BUILD_ENV, "") in ("", "0")
    if not enable:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_pub") or not hasattr(ip, "events"):
        return False
    if getattr(ip, _STATE_ATTR, None) is not None:
        return True
    glued: dict[str, dict] = {}
    figures: list[tuple[str, dict]] = []
    pub = ip.display_pub
    publish_original = pub.publish
    evaluate_original = ip.user_expressions

    def publish(data, metadata=None, *args, **kwargs):
        publish_original(data, metadata, *args, **kwargs)
        scrap = (metadata or {}).get("scrapbook") if isinstance(metadata, dict) else None
        prefix = scrap.get("mime_prefix") if isinstance(scrap, dict) else None
        if prefix:
            name = str(scrap.get("name"))
            glued[name] = {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}
            if "image/png" in glued[name]:
                figures.append((name, glued[name]))

    def user_expressions(exprs: dict) -> dict:
        # a glued name (or one not defined yet) is answered from the glued values; any
        # other expression is Python, evaluated as IPython would
        ours = {key: e for key, e in exprs.items() if (n := glued_name(e)) is not None
                and (n[0] in glued or n[0] not in ip.user_ns)}
        out = evaluate_original({k: e for k, e in exprs.items() if k not in ours})
        out.update({key: answer(e, glued) for key, e in ours.items()})
        return out

    def post_execute():
        if figures:
            from IPython.display import HTML, display

            items = list(figures)
            figures.clear()
            display(HTML(glued_figures(items)))

    pub.publish = publish
    ip.user_expressions = user_expressions
    ip.events.register("post_execute", post_execute)
    setattr(ip, _STATE_ATTR, glued)
    return True
