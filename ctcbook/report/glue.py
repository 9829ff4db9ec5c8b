"""Glued numbers made visible when a notebook runs in JupyterLab or Notebook 7.

The book quotes computed numbers in its prose with ``myst_nb.glue`` and the
``{glue:text}`` role. Jupyter Book fills them in when it builds the HTML; in Jupyter the
MyST renderer (``jupyterlab-myst``) has no glue support and shows each such number by its
name (``p_pfs``). So that a reader running the notebook still sees the numbers, and
sees them computed by the code they just ran, :func:`show_glued_values` shows under each
code cell a small table of the values it glued ("``p_pfs`` in the text: 0.023"), and a
glued figure as the figure.

It is installed by :func:`ctcbook.report.figures.style` (called in every notebook's first
cell) and does nothing outside an IPython kernel, or during the book's build
(``CTCBOOK_BOOK_BUILD`` set by the book's Sphinx extension), where the glued values
reach the page through Jupyter Book instead.
"""

from __future__ import annotations

import html
import os
from typing import Any

#: Set (to anything but "" or "0") while the book is built: no tables are shown then.
BUILD_ENV = "CTCBOOK_BOOK_BUILD"

_STATE_ATTR = "_ctcbook_glued"


def _plain(text: Any) -> str:
    text = "".join(text) if isinstance(text, list) else str(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def glued_table(items: list[tuple[str, dict]]) -> str:
    """HTML of the glued values: one row per name, text values as text, images as images."""
    rows = []
    for name, bundle in items:
        if "image/png" in bundle:
            data = "".join(bundle["image/png"]) if isinstance(bundle["image/png"], list) \
                else bundle["image/png"]
            value = f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
        elif "text/plain" in bundle:
            value = html.escape(_plain(bundle["text/plain"]))
        else:
            value = "(" + html.escape(", ".join(sorted(bundle))) + ")"
        rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{value}</td></tr>")
    return ("<details open class='ctcbook-glued'><summary>Numbers this cell puts into the "
            "text (in Jupyter the text shows their names)</summary><table><thead><tr>"
            "<th>name in the text</th><th>value</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></details>")


def show_glued_values(enable: bool | None = None) -> bool:
    """Show the values each code cell glues, under the cell (in a Jupyter kernel only).

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
    seen: list[tuple[str, dict]] = []
    pub = ip.display_pub
    original = pub.publish

    def publish(data, metadata=None, *args, **kwargs):
        original(data, metadata, *args, **kwargs)
        scrap = (metadata or {}).get("scrapbook") if isinstance(metadata, dict) else None
        prefix = scrap.get("mime_prefix") if isinstance(scrap, dict) else None
        if prefix:  # glue(..., display=False): hidden in Jupyter, so show it after the cell
            seen.append((str(scrap.get("name")),
                         {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}))

    def post_execute():
        if seen:
            from IPython.display import HTML, display

            items = list(seen)
            seen.clear()
            display(HTML(glued_table(items)))

    pub.publish = publish
    ip.events.register("post_execute", post_execute)
    setattr(ip, _STATE_ATTR, seen)
    return True
