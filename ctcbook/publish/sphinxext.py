"""Sphinx extension for the book (listed in ``_config.yml``).

Five jobs:

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

4. **Launch buttons.** ``_config.yml`` names Binder (and, for a course, a JupyterHub) as
   places to run a notebook page, but a launch link needs the repository's public address,
   which only the place that publishes the book knows. The publishing workflow sets
   ``CTCBOOK_REPOSITORY_URL`` (and ``CTCBOOK_REPOSITORY_BRANCH``); without a repository
   address the launch buttons are left out rather than pointing somewhere wrong. They are
   plain links: a page never contacts a hub until a reader clicks one.

5. **A book without solutions.** With ``CTCBOOK_HIDE_SOLUTIONS=1`` every solution of
   sphinx-exercise (plain and gated ``solution-start``/``solution-end``, with the code cells
   between them) is removed from the pages: the class kit's student build. sphinx-exercise's
   own ``hide_solutions`` option drops only plain solutions and breaks gated ones.

6. **One notebook source for the book and for Jupyter.** jupyterlab-myst cannot read glued
   values, labels on other pages or the bibliography, so the notebooks write them in forms
   both can follow, and this extension reads them the book's way (:func:`book_markdown`):

   - ``{eval}`name``` (or ``{eval}`name:.2f```) is the value glued under ``name``, exactly
     as myst-nb's ``{glue:text}`` (in Jupyter the kernel answers it: :mod:`ctcbook.report.glue`);
   - ``[text](05-....ipynb#label)`` or ``[text](../book/methods.md#label)``, a link to another
     page with the label of its target, becomes ``{ref}`text <label>``` (Jupyter opens
     the file);
   - ``([Hayashi et al., 2012](https://doi.org/...); [...](...))``, links in parentheses to
     the DOI (or PubMed page) of entries of the bibliography, becomes ``{cite:p}`key,...```
     (Jupyter links to the paper).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

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
    from ctcbook.cohort.io import cohort_path

    digest = hashlib.sha256()
    folder = cohort_path().resolve()
    digest.update(str(folder).encode())
    if folder.is_dir():
        for file in sorted(p for p in folder.iterdir() if p.is_file()):
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    digest.update(f"hide-solutions={hide_solutions()}".encode())
    package = Path(__file__).resolve().parents[1]
    for file in sorted(package.rglob("*")):
        if file.is_file() and file.suffix in {".py", ".yaml", ".js", ".css", ".html"}:
            digest.update(str(file.relative_to(package)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def hide_solutions() -> bool:
    """Whether this build leaves out the exercises' solutions (``CTCBOOK_HIDE_SOLUTIONS=1``)."""
    return os.environ.get("CTCBOOK_HIDE_SOLUTIONS", "").strip().lower() in {"1", "true", "yes"}


def _remove_solutions(app: Sphinx, doctree) -> None:
    if hide_solutions():
        from sphinx_exercise.nodes import solution_node

        for node in list(doctree.findall(solution_node)):
            node.parent.remove(node)


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

    from ctcbook.cohort.io import cohort_path

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


# Jupyter Book 1's default repository (its own), used when _config.yml names none.
_PLACEHOLDER_REPOSITORIES = {"https://github.com/executablebooks/jupyter-book"}
_LAUNCH_SERVICES = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url")


def launch_theme_options(options: dict, repository_url: str | None = None,
                         branch: str | None = None) -> dict:
    """Theme options with the repository that launch buttons open, or with no launch buttons.

    ``repository_url`` (from ``CTCBOOK_REPOSITORY_URL``) overrides ``_config.yml``'s
    ``repository.url``; when neither names a repository, every launch service is switched
    off, since a Binder or JupyterHub link needs to know what to check out.
    """
    opts = dict(options)
    if "launch_buttons" not in opts:  # not a Jupyter Book theme configuration
        return opts
    launch = dict(opts.get("launch_buttons") or {})
    url = (repository_url or "").strip().rstrip("/") or str(opts.get("repository_url") or "")
    if url in _PLACEHOLDER_REPOSITORIES:
        url = ""
    if url:
        opts["repository_url"] = url
        if branch:
            opts["repository_branch"] = branch
    else:
        opts["repository_url"] = ""
        launch.update({key: "" for key in _LAUNCH_SERVICES if key in launch})
    opts["launch_buttons"] = launch
    return opts


def _set_theme_options(app: Sphinx, config) -> None:
    options = launch_theme_options(
        config.html_theme_options,
        os.environ.get("CTCBOOK_REPOSITORY_URL"),
        os.environ.get("CTCBOOK_REPOSITORY_BRANCH"),
    )
    config.html_theme_options = {**options, "extra_footer": footer_html()}


# A link to a label on another page: [text](file.ipynb#label) or [text](../book/page.md#label).
_LINK_TO_LABEL = re.compile(
    r"(?<![!\]])\[([^\]`<>]+)\]\(((?![a-z][\w+.-]*:)[^()\s#]+\.(?:ipynb|md))#([\w:.-]+)\)")
# A reference as a link to its DOI or PubMed page; a citation is one or more in parentheses.
# (characters of a DOI that Markdown or HTML would read, such as ( ) < >, are %-encoded)
_REFERENCE_URL = r"https://doi\.org/[^()\s]+|https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/?"
_REFERENCE = rf"\[[^\]]+\]\(({_REFERENCE_URL})\)"
_CITATION = re.compile(rf"\((?:{_REFERENCE})(?:;\s*(?:{_REFERENCE}))*\)")


@functools.lru_cache(maxsize=4)
def reference_urls(bibfiles: tuple[Path, ...]) -> dict[str, str]:
    """The bibliography's entries by the address a notebook links them with: the DOI's
    (``https://doi.org/10...``) or, without a DOI, the PubMed page's."""
    from pybtex.database import parse_file

    urls = {}
    for path in bibfiles:
        for key, entry in parse_file(str(path)).entries.items():
            fields = {k.lower(): v for k, v in entry.fields.items()}
            if "doi" in fields:
                urls[f"https://doi.org/{fields['doi']}".lower()] = key
            if "pmid" in fields:
                urls[f"https://pubmed.ncbi.nlm.nih.gov/{fields['pmid']}/"] = key
    return urls


def book_markdown(text: str, urls: dict[str, str]) -> tuple[str, list[str]]:
    """A notebook's markdown as the book reads it: links to labels on other pages become
    ``{ref}`` and parenthesised links to references become ``{cite:p}`` (see the module's
    item 6). Returns the text and the problems found (links to unknown references)."""
    problems: list[str] = []

    def citation(match: re.Match) -> str:
        keys = []
        for url in re.findall(_REFERENCE, match.group(0)):
            url = unquote(url).lower()
            key = urls.get(url) or urls.get(url.rstrip("/") + "/")
            if key is None:
                problems.append(f"{url} is not in the bibliography (book/references.bib)")
                return match.group(0)
            keys.append(key)
        return "{cite:p}`" + ",".join(keys) + "`"

    text = _CITATION.sub(citation, text)
    text = _LINK_TO_LABEL.sub(lambda m: "{ref}`" + m.group(1).replace("\n", " ").strip()
                              + " <" + m.group(3) + ">`", text)
    return text, problems


def _read_notebook_as_book(app: Sphinx, docname: str, source: list[str]) -> None:
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    # a book without sphinxcontrib-bibtex has no bibliography: DOI links stay links
    bibfiles = getattr(app.config, "bibtex_bibfiles", None) or ()
    urls = reference_urls(tuple(Path(app.srcdir) / f for f in bibfiles))
    nb = json.loads(source[0])
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        new, problems = book_markdown(text, urls)
        for problem in problems:
            logger.warning(f"[ctcbook] markdown cell {index}: {problem}",
                           location=docname, type="ctcbook", subtype="citation")
        cell["source"] = new
    source[0] = json.dumps(nb)


def setup(app: Sphinx) -> dict:
    # The notebooks' kernels inherit this: the Jupyter-only answers to {eval} and the figures
    # shown under their cells (ctcbook.report.glue.show_glued_values) stay out of the book.
    os.environ.setdefault("CTCBOOK_BOOK_BUILD", "1")
    app.setup_extension("sphinx_thebe")
    _remove_thebe(app)
    app.connect("env-get-outdated", _check_inputs)
    app.connect("builder-inited", _add_static_path)
    app.connect("config-inited", _set_theme_options)
    app.connect("doctree-read", _remove_solutions)
    # {eval}`name` in a notebook: the glued value, as {glue:text}`name` (item 6)
    from myst_nb.ext.glue.roles import PasteTextRole

    app.add_role("eval", PasteTextRole(), override=True)
    app.connect("source-read", _read_notebook_as_book)
    app.add_css_file("ctcbook-print.css", media="print")
    app.add_css_file("ctcbook-layout.css", media="screen")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
