"""Sphinx extension for the book (listed in ``_config.yml``).

It removes Thebe. Jupyter Book 1 always loads ``sphinx_thebe``, which registers its
configuration script at every ``env-before-read-docs`` event, so a build that reads
documents twice in one process declares ``const THEBE_JS_URL`` twice and every page
raises a JavaScript error. Thebe also needs a live Binder or Jupyter server, which an
offline book does not have: the book's live explorers run in a local Jupyter instead.
Disconnecting Thebe's event handlers keeps its script (and its unpkg.com URL) out of
every page.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _remove_thebe(app: Sphinx) -> None:
    for listeners in app.events.listeners.values():
        listeners[:] = [
            listener
            for listener in listeners
            if not getattr(listener.handler, "__module__", "").startswith("sphinx_thebe")
        ]
    app.registry.css_files = [
        (name, attrs) for name, attrs in app.registry.css_files if "thebe" not in str(name)
    ]
    app.registry.js_files = [
        (name, attrs) for name, attrs in app.registry.js_files if "thebe" not in str(name)
    ]


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_thebe")
    _remove_thebe(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
