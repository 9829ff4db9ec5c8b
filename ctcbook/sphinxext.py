"""Sphinx extension for the book (listed in ``_config.yml``).

Four jobs:

0. **Footer.** Every page's footer says whether the cohort the book was built on is
   synthetic (from its ``cohort.yaml``), so a build on real data never claims otherwise.

1. **Print and screen.** Adds the book's print stylesheet (``static/ctcbook-print.css``), so
   a chapter printed from the browser has no navigation and no figure split across pages,
   and its screen layout (``static/ctcbook-layout.css``): on a phone, wide tables, cell
   outputs and display formulas scroll sideways in their own box instead of widening the
   page.

2. **Remove Thebe.** Jupyter Book 1 always loads ``sphinx_thebe``, which registers its
   configuration script at every ``env-before-read-docs`` event, so a build that reads
   documents declares ``const THEBE_JS_URL`` twice and every page raises a JavaScript
   error. Thebe also needs a live Binder or Jupyter server, which an offline book does
   not have (the live explorers run in a local Jupyter instead). Disconnecting Thebe's
   handlers keeps its script, and its unpkg.com URL, out of every page.

3. **Re-execute when the inputs change.** ``execute_notebooks: cache`` re-runs a notebook
   only when one of its code cells changes. But every number in the book also depends
   on the cohort (``CTCBOOK_DATA``) and on the ``ctcbook`` package. The extension keeps a
   fingerprint of both next to the execution cache; when it changes, the cache is
   cleared and every document is re-read, so ``CTCBOOK_DATA=DIR jupyter-book build .``
   really rebuilds the book on DIR, and a no-change rebuild stays fast.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

_FINGERPRINT = "ctcbook-fingerprint.txt"


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


def inputs_fingerprint() -> str:
    """Hash of what every notebook reads: the cohort files and the ctcbook sources."""
    from ctcbook.cohort import cohort_path

    digest = hashlib.sha256()
    folder = cohort_path().resolve()
    digest.update(str(folder).encode())
    if folder.is_dir():
        for file in sorted(p for p in folder.iterdir() if p.is_file()):
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    package = Path(__file__).resolve().parent
    for file in sorted(package.rglob("*")):
        if file.is_file() and file.suffix in {".py", ".yaml", ".js", ".css", ".html"}:
            digest.update(str(file.relative_to(package)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _cache_dir(app: Sphinx) -> Path:
    configured = getattr(app.config, "nb_execution_cache_path", "")
    if configured:
        return Path(configured)
    return Path(app.outdir).parent / ".jupyter_cache"


def _check_inputs(app: Sphinx, env, added, changed, removed) -> list[str]:
    cache = _cache_dir(app)
    stamp = cache.parent / _FINGERPRINT
    current = inputs_fingerprint()
    previous = stamp.read_text() if stamp.exists() else None
    if previous == current:
        return []
    if previous is not None:
        logger.info("[ctcbook] cohort or package changed: clearing the execution cache")
        shutil.rmtree(cache, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return sorted(env.found_docs)


STATIC = Path(__file__).resolve().parent / "static"


def _add_static_path(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def cohort_is_synthetic() -> bool:
    """Whether the cohort the book is built on says it is synthetic (its ``cohort.yaml``).

    Anything unreadable counts as real data: the footer then errs on the side of care.
    """
    import yaml

    from ctcbook.cohort import cohort_path

    meta = cohort_path() / "cohort.yaml"
    try:
        return yaml.safe_load(meta.read_text(encoding="utf-8")).get("synthetic") is True
    except Exception:  # noqa: BLE001 - missing or malformed metadata means "not synthetic"
        return False


def footer_html() -> str:
    """The footer of every page: says whether the data behind the book are synthetic."""
    if cohort_is_synthetic():
        return (
            "<p>The patient-level data in this book are <strong>synthetic</strong>: generated "
            "by a statistical model calibrated to the published numbers of Hayashi et al. "
            "(2012), not collected from real patients.</p>"
        )
    return (
        "<p>This book was built on a cohort that is <strong>not marked as synthetic</strong>: "
        "its pages may contain summaries of real patients' data. Keep this build private; "
        "do not publish it.</p>"
    )


def _set_footer(app: Sphinx, config) -> None:
    config.html_theme_options = {**config.html_theme_options, "extra_footer": footer_html()}


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_thebe")
    _remove_thebe(app)
    app.connect("env-get-outdated", _check_inputs)
    app.connect("builder-inited", _add_static_path)
    app.connect("config-inited", _set_footer)
    app.add_css_file("ctcbook-print.css", media="print")
    app.add_css_file("ctcbook-layout.css", media="screen")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
