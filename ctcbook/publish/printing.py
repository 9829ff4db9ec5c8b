"""Print the built book to PDF with Debian's Chromium: the whole book and an exercises handout.

``python -m ctcbook pdf --out DIR`` builds the book (``jupyter-book build``, cached) and prints

* ``DIR/ctcbook.pdf``: a title page, a table of contents with page numbers, then every page
  of the book in the order of ``_toc.yml``, each page printed by Chromium with the book's print
  stylesheet (``static/ctcbook-print.css``: no navigation or buttons, figures and tables kept
  whole), page numbers in the footer and a PDF outline (bookmarks) per page;
* ``DIR/ctcbook-exercises.pdf``: every exercise of the book (without its solution), grouped
  by page, numbered as in the book, with room to answer.

Chromium is driven through Playwright's Python API, pointed at the system browser
(``/usr/bin/chromium``, or ``CTCBOOK_CHROMIUM``): no browser is downloaded and no LaTeX is
needed. Pages are opened from ``file://`` with every non-local request blocked, so printing
works offline, like the book.

How page numbers are made: Chromium numbers the pages of one document only, so every page of
the book is printed on its own, the pages are counted, the contents (title and table of
contents, whose length is fixed before the numbers are known) are printed with the start page
of each entry, and the footer (book title, page n of N) is printed as a separate layer of
blank pages and stamped onto the merged document with ``pypdf``.
"""

from __future__ import annotations

import html
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "BookPage",
    "Printed",
    "PrintError",
    "book_pages",
    "build_book",
    "chromium_executable",
    "exercises_html",
    "print_book",
    "print_exercises",
    "print_html",
    "select_pages",
]

PAPER = "A4"
MARGIN = {"top": "16mm", "bottom": "20mm", "left": "16mm", "right": "16mm"}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    "--allow-file-access-from-files",
]


class PrintError(Exception):
    """A failure the user can act on (no browser, no built book, a page that failed)."""


@dataclass(frozen=True)
class BookPage:
    """One page of the built book, in reading order."""

    title: str
    path: Path
    part: str
    level: int  # 1 for a chapter, 2 for a section under it


@dataclass(frozen=True)
class Printed:
    """A PDF written by this module."""

    path: Path
    pages: int
    seconds: float


def chromium_executable() -> str:
    """Debian's Chromium (or ``CTCBOOK_CHROMIUM``); a clear error when there is none."""
    candidates = [os.environ.get("CTCBOOK_CHROMIUM"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    raise PrintError("no Chromium found: install Debian's 'chromium' package "
                     "(apt-get install chromium) or set CTCBOOK_CHROMIUM=/path/to/chromium")


def build_book(source: Path, path_output: Path | None = None, *, hide_solutions: bool = False,
               extra_env: dict[str, str] | None = None) -> Path:
    """Run ``jupyter-book build`` on ``source``; return the ``_build/html`` folder.

    ``hide_solutions`` builds the book without the exercises' solutions
    (``CTCBOOK_HIDE_SOLUTIONS=1``, see :mod:`ctcbook.publish.sphinxext`).
    """
    source = Path(source)
    if not (source / "_config.yml").is_file():
        raise PrintError(f"{source} is not a book (no _config.yml)")
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe) if exe.exists() else "jupyter-book", "build", str(source)]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    env = {**os.environ, **(extra_env or {})}
    if hide_solutions:
        env["CTCBOOK_HIDE_SOLUTIONS"] = "1"
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise PrintError("jupyter-book build failed:\n" + (result.stdout + result.stderr)[-4000:])
    return (Path(path_output) if path_output is not None else source) / "_build" / "html"


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def book_pages(html_dir: Path) -> list[BookPage]:
    """The book's pages in reading order, from the navigation of the built ``index.html``."""
    html_dir = Path(html_dir)
    index = html_dir / "index.html"
    if not index.is_file():
        raise PrintError(f"{html_dir} holds no built book (no index.html); build it first")
    soup = _soup(index)
    root_target = _redirect_target(soup)
    if root_target is not None:  # Jupyter Book's index.html redirects to the root page
        index = (html_dir / root_target).resolve()
        soup = _soup(index)
    title = soup.find("h1")
    pages = [BookPage(_text(title) if title else "Home", index, "", 1)]
    nav = soup.select_one("nav.bd-docs-nav") or soup.select_one(".bd-sidebar-primary nav")
    if nav is None:
        raise PrintError(f"{index} has no navigation to read the pages' order from")
    part = ""
    seen = {index}
    for element in nav.select('p.caption, a.internal[href]:not([href=""])'):
        if element.name == "p":
            part = _text(element)
            continue
        target = (index.parent / element["href"].split("#")[0]).resolve()
        if target in seen or not target.is_file():
            continue
        seen.add(target)
        item = element.find_parent("li")
        level = 2 if item is not None and "toctree-l2" in (item.get("class") or []) else 1
        pages.append(BookPage(_text(element), target, part, level))
    return pages


def select_pages(pages: list[BookPage], html_dir: Path,
                 patterns: Iterable[str] | None) -> list[BookPage]:
    """The pages whose path relative to ``html_dir`` matches one of the glob ``patterns``.

    No patterns: every page. The first page of the book (its title) is kept as the PDF's
    title page only when it matches.
    """
    from fnmatch import fnmatch

    if not patterns:
        return pages
    patterns = list(patterns)
    chosen = [p for p in pages if any(
        fnmatch(p.path.relative_to(Path(html_dir).resolve()).as_posix(), pat)
        or fnmatch(p.path.relative_to(Path(html_dir).resolve()).with_suffix("").as_posix(), pat)
        for pat in patterns)]
    if not chosen:
        raise PrintError("no page of the book matches " + ", ".join(patterns)
                         + " (patterns match paths such as notebooks/04-*.html or book/methods)")
    return chosen


def _redirect_target(soup) -> str | None:
    meta = soup.select_one('meta[http-equiv="refresh" i]')
    if meta is None:
        return None
    content = meta.get("content", "")
    return content.split("url=", 1)[1].strip() if "url=" in content.lower() else None


def _text(element) -> str:
    return " ".join(element.get_text(" ").split()).replace(" ,", ",").replace("# ", "").strip()


class Browser:
    """One headless Chromium for a whole print job; non-local requests are blocked.

    ``with Browser() as b: print_html(..., browser=b)`` prints many documents with one launch.
    """

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=chromium_executable(),
                                                headless=True, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context()
        self.blocked: list[str] = []

        def guard(route):
            url = urlparse(route.request.url)
            if url.scheme in {"file", "data", "blob", "about"}:
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        self.context.route("**/*", guard)
        return self

    def __exit__(self, *exc):
        self.browser.close()
        self._pw.stop()

    def pdf(self, url: str, *, html_class: str = "", footer: str | None = None) -> bytes:
        page = self.context.new_page()
        try:
            page.goto(url, wait_until="load", timeout=120_000)
            _settle(page)
            if html_class:
                page.evaluate("c => document.documentElement.classList.add(...c.split(' '))",
                              html_class)
            options = dict(format=PAPER, print_background=True, margin=MARGIN,
                           prefer_css_page_size=False)
            if footer is not None:
                options.update(display_header_footer=True, header_template="<span></span>",
                               footer_template=footer)
            return page.pdf(**options)
        finally:
            page.close()


def _settle(page) -> None:
    """Wait until MathJax has typeset and every image has loaded."""
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
        }
        await Promise.all(Array.from(document.images).map(img => img.complete ? null :
            new Promise(done => { img.onload = img.onerror = done; })));
        if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
    }""")


def _count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _contents_html(title: str, subtitle: str, entries: list[tuple[BookPage, int]]) -> str:
    rows = []
    part = None
    for page, number in entries:
        if page.part and page.part != part:
            part = page.part
            rows.append(f"<li class='part'>{html.escape(part)}</li>")
        rows.append(f"<li class='l{page.level}'><span class='t'>{html.escape(page.title)}</span>"
                    f"<span class='n'>{number}</span></li>")
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; color: #000; }}
.title {{ break-after: page; padding-top: 70mm; text-align: center; }}
.title h1 {{ font-size: 24pt; margin-bottom: 8mm; }}
.title p {{ font-size: 12pt; }}
h2 {{ font-size: 16pt; }}
ol.toc {{ list-style: none; padding: 0; }}
ol.toc li {{ display: flex; gap: 4mm; padding: 1mm 0; break-inside: avoid; }}
ol.toc li .t {{ flex: 1; border-bottom: 1px dotted #888; }}
ol.toc li.part {{ font-weight: bold; margin-top: 4mm; }}
ol.toc li.l2 {{ padding-left: 8mm; }}
</style></head><body>
<section class="title"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></section>
<h2 id="contents">Contents</h2>
<ol class="toc">{''.join(rows)}</ol>
</body></html>"""


def _footer(title: str, margin: str = "0 16mm") -> str:
    """Chromium's footer template: the title and "Page n of N"."""
    return ("<div style='font-family: DejaVu Sans, sans-serif; font-size: 8pt; width: 100%; "
            f"margin: {margin}; display: flex; justify-content: space-between; color: #333;'>"
            f"<span>{html.escape(title)}</span>"
            "<span>Page <span class='pageNumber'></span> of <span class='totalPages'></span></span>"
            "</div>")


def _footer_layer(n_pages: int) -> str:
    """``n_pages`` blank pages, for Chromium to print the footer on."""
    pages = "".join("<div class='p'></div>" for _ in range(n_pages))
    return ("<!DOCTYPE html><html><head><style>@page { margin: 0 } body { margin: 0 }"
            ".p { height: 296mm; break-after: page; }</style></head><body>"
            f"{pages}</body></html>")


def print_html(document: str, out: Path, *, base: Path | None = None, footer_title: str = "",
               browser: Browser | None = None) -> Printed:
    """Print an HTML document (a string) to ``out`` with page numbers in the footer.

    ``base`` is the folder that relative links in ``document`` resolve against.
    """
    start = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(base) if base is not None else out.parent
    tmp = folder / f".ctcbook-print-{os.getpid()}-{out.stem}.html"
    tmp.write_text(document, encoding="utf-8")
    footer = _footer(footer_title)
    try:
        if browser is None:
            with Browser() as own:
                pdf = own.pdf(tmp.as_uri(), footer=footer)
        else:
            pdf = browser.pdf(tmp.as_uri(), footer=footer)
    finally:
        tmp.unlink(missing_ok=True)
    out.write_bytes(pdf)
    return Printed(out, _count(pdf), time.perf_counter() - start)


def print_book(html_dir: Path, out: Path, *, solutions: bool = False,
               pages: Iterable[BookPage] | None = None) -> Printed:
    """Print the whole built book (``html_dir`` = ``_build/html``) to one PDF at ``out``.

    ``solutions=True`` prints the exercises' solutions opened; by default they are left
    out, as they are collapsed on screen.
    """
    from pypdf import PdfReader, PdfWriter

    start = time.perf_counter()
    html_dir = Path(html_dir)
    pages = list(pages) if pages is not None else book_pages(html_dir)
    title = pages[0].title
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    klass = "ctcbook-print" + (" ctcbook-print-solutions" if solutions else "")
    with Browser() as browser:
        printed = [browser.pdf(p.path.as_uri(), html_class=klass) for p in pages]
        counts = [_count(b) for b in printed]
        subtitle = "Printed from the HTML book; the interactive explorers show their default view."
        # the contents' length does not depend on the numbers it shows: measure it once
        draft = _contents_html(title, subtitle, [(p, 9999) for p in pages])
        tmp = html_dir / f".ctcbook-contents-{os.getpid()}.html"
        try:
            tmp.write_text(draft, encoding="utf-8")
            n_front = _count(browser.pdf(tmp.as_uri()))
            starts, n = [], n_front + 1
            for c in counts:
                starts.append(n)
                n += c
            tmp.write_text(_contents_html(title, subtitle, list(zip(pages, starts, strict=True))),
                           encoding="utf-8")
            front = browser.pdf(tmp.as_uri())
            if _count(front) != n_front:
                raise PrintError("the table of contents changed length; please report it")
            total = n - 1
            tmp.write_text(_footer_layer(total), encoding="utf-8")
            layer = browser.pdf(tmp.as_uri(), footer=_footer(title, "0 16mm 6mm"))
        finally:
            tmp.unlink(missing_ok=True)
        if browser.blocked:
            raise PrintError("a page asked for the network while printing: "
                             + ", ".join(sorted(set(browser.blocked))[:5]))

    writer = PdfWriter()
    for doc in [front, *printed]:
        writer.append(PdfReader(io.BytesIO(doc)))
    overlay = PdfReader(io.BytesIO(layer))
    if len(overlay.pages) < total:
        raise PrintError(f"the page-number layer has {len(overlay.pages)} pages for {total}")
    for i, page in enumerate(writer.pages):
        page.merge_page(overlay.pages[i])
    writer.add_outline_item(title="Contents", page_number=0 if n_front == 1 else 1)
    parents: dict[str, object] = {}
    for p, s in zip(pages, starts, strict=True):
        parent = None
        if p.part:
            if p.part not in parents:
                parents[p.part] = writer.add_outline_item(title=p.part, page_number=s - 1)
            parent = parents[p.part]
        writer.add_outline_item(title=p.title, page_number=s - 1, parent=parent)
    writer.add_metadata({"/Title": title, "/Creator": "ctcbook (Chromium print-to-PDF)"})
    with out.open("wb") as fh:
        writer.write(fh)
    return Printed(out, total, time.perf_counter() - start)


def exercises_html(html_dir: Path, *, title: str, heading: str = "", note: str = "",
                   pages: Iterable[BookPage] | None = None) -> tuple[str, int]:
    """An HTML handout of every exercise of the built book (no solutions).

    Returns the document (to be saved one folder below ``html_dir``, like the book's pages,
    so that its links resolve) and the number of exercises.
    """

    html_dir = Path(html_dir)
    pages = list(pages) if pages is not None else book_pages(html_dir)
    head = None
    sections, n = [], 0
    for page in pages:
        soup = _soup(page.path)
        if head is None:
            head = soup.head
        found = soup.select("div.exercise")
        if not found:
            continue
        body = [f"<h2>{html.escape(page.title)}</h2>"]
        for ex in found:
            for drop in ex.select(".solution, .headerlink"):
                drop.decompose()
            for link in ex.find_all("a"):
                link.unwrap()  # references point into the book; keep their text
            n += 1
            body.append(f"<div class='ctcbook-handout-item'>{ex}"
                        "<div class='ctcbook-answer' aria-hidden='true'></div></div>")
        sections.append("<section class='ctcbook-handout-page'>" + "".join(body) + "</section>")
    if head is None:
        raise PrintError(f"{html_dir} has no pages")
    # keep the book's stylesheets and MathJax, rebased from the page's folder to html_dir/_print
    keep = [str(tag) for tag in head.select('meta[charset], link[rel~="stylesheet"], '
                                            'script[src*="mathjax" i], script:-soup-contains("MathJax")')]
    style = """<style>
.ctcbook-handout-item { break-inside: avoid; page-break-inside: avoid; margin-bottom: 4mm; }
.ctcbook-answer { height: 28mm; border: 1px solid #999; border-top: none; margin-top: -2mm; }
.ctcbook-handout-head { border-bottom: 1px solid #000; margin-bottom: 4mm; }
.ctcbook-handout-head p { margin: 1mm 0; }
h2 { break-after: avoid; font-size: 13pt; margin-top: 6mm; }
body { font-size: 10.5pt; }
</style>"""
    top = (f"<div class='ctcbook-handout-head'><h1>{html.escape(title)}</h1>"
           + (f"<p><strong>{html.escape(heading)}</strong></p>" if heading else "")
           + (f"<p>{html.escape(note)}</p>" if note else "") + "</div>")
    document = ("<!DOCTYPE html><html lang='en' class='ctcbook-print'><head>" + "".join(keep)
                + style + f"<title>{html.escape(title)}</title></head><body>"
                + "<main class='bd-article'>" + top + "".join(sections)
                + "</main></body></html>")
    return document, n


def print_exercises(html_dir: Path, out: Path, *, title: str = "Exercises",
                    heading: str = "", note: str = "",
                    pages: Iterable[BookPage] | None = None) -> tuple[Printed, int]:
    """Print the exercises handout of the built book to ``out``; return it and the count."""
    html_dir = Path(html_dir)
    document, n = exercises_html(html_dir, title=title, heading=heading, note=note, pages=pages)
    folder = html_dir / "_static"  # one folder below html_dir, like the book's pages
    return print_html(document, out, base=folder, footer_title=title), n
