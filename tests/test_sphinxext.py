"""The book's Sphinx extension: Thebe removed, execution cache tied to cohort and package."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ctcbook.publish import sphinxext


def fake_app(tmp_path):
    outdir = tmp_path / "_build" / "html"
    outdir.mkdir(parents=True)
    return SimpleNamespace(outdir=str(outdir), config=SimpleNamespace(nb_execution_cache_path=""))


def test_first_build_reads_everything_and_records_the_inputs(tmp_path, monkeypatch):
    monkeypatch.delenv("CTCBOOK_DATA", raising=False)
    app = fake_app(tmp_path)
    env = SimpleNamespace(found_docs={"a", "b"})
    assert sphinxext._check_inputs(app, env, set(), set(), set()) == ["a", "b"]
    stamp = tmp_path / "_build" / sphinxext._FINGERPRINT
    assert stamp.read_text() == sphinxext.inputs_fingerprint()


def test_no_change_rebuild_rereads_nothing_and_keeps_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("CTCBOOK_DATA", raising=False)
    app = fake_app(tmp_path)
    env = SimpleNamespace(found_docs={"a", "b"})
    sphinxext._check_inputs(app, env, set(), set(), set())
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("cached outputs")
    assert sphinxext._check_inputs(app, env, set(), set(), set()) == []
    assert (cache / "global.db").exists()


def test_another_cohort_clears_the_cache_and_rereads_everything(tmp_path, monkeypatch):
    monkeypatch.delenv("CTCBOOK_DATA", raising=False)
    app = fake_app(tmp_path)
    env = SimpleNamespace(found_docs={"a", "b"})
    sphinxext._check_inputs(app, env, set(), set(), set())
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("cached outputs")

    other = tmp_path / "other-cohort"
    other.mkdir()
    (other / "patients.csv").write_text("patient_id\n")
    monkeypatch.setenv("CTCBOOK_DATA", str(other))
    assert sphinxext._check_inputs(app, env, set(), set(), set()) == ["a", "b"]
    assert not cache.exists()


def test_fingerprint_follows_the_cohort_files(tmp_path, monkeypatch):
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "patients.csv").write_text("one")
    monkeypatch.setenv("CTCBOOK_DATA", str(folder))
    first = sphinxext.inputs_fingerprint()
    assert sphinxext.inputs_fingerprint() == first
    (folder / "patients.csv").write_text("two")
    assert sphinxext.inputs_fingerprint() != first


def test_thebe_handlers_are_disconnected():
    class Registry:
        css_files = [("sphinx-thebe.css", {}), ("keep.css", {})]
        js_files = [("sphinx-thebe.js", {}), ("keep.js", {})]

    def thebe_handler(*args):
        pass

    thebe_handler.__module__ = "sphinx_thebe"

    def other_handler(*args):
        pass

    listeners = {
        "env-before-read-docs": [
            SimpleNamespace(handler=thebe_handler),
            SimpleNamespace(handler=other_handler),
        ]
    }
    app = SimpleNamespace(events=SimpleNamespace(listeners=listeners), registry=Registry())
    sphinxext._remove_thebe(app)
    assert [x.handler for x in listeners["env-before-read-docs"]] == [other_handler]
    assert app.registry.css_files == [("keep.css", {})]
    assert app.registry.js_files == [("keep.js", {})]


def test_footer_says_synthetic_only_for_a_synthetic_cohort(tmp_path, monkeypatch):
    monkeypatch.delenv("CTCBOOK_DATA", raising=False)
    assert sphinxext.cohort_is_synthetic()  # the shipped cohort
    assert "<strong>synthetic</strong>" in sphinxext.footer_html()

    real = tmp_path / "real"
    real.mkdir()
    monkeypatch.setenv("CTCBOOK_DATA", str(real))
    assert not sphinxext.cohort_is_synthetic()  # no cohort.yaml: a user's real data
    assert "not marked as synthetic" in sphinxext.footer_html()
    (real / "cohort.yaml").write_text("synthetic: [unclosed")
    assert not sphinxext.cohort_is_synthetic()
    (real / "cohort.yaml").write_text("synthetic: true\n")
    assert sphinxext.cohort_is_synthetic()


# ------------------------------------------------- notebook markdown read the book's way

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"


def test_links_with_a_label_become_references():
    from ctcbook.publish.sphinxext import book_markdown

    text = ("See [Cox models](06-which-factors-are-independent.ipynb#results-cox) and\n"
            "[Statistical\nmethods](../book/methods.md#methods-statistics); not [a file](x.ipynb),"
            " [a site](https://example.org/a.md#b) or ![an image](fig.md#x).")
    out, problems = book_markdown(text, {})
    assert problems == []
    assert out == ("See {ref}`Cox models <results-cox>` and\n"
                   "{ref}`Statistical methods <methods-statistics>`; not [a file](x.ipynb),"
                   " [a site](https://example.org/a.md#b) or ![an image](fig.md#x).")


def test_doi_links_in_parentheses_become_citations():
    """Keys from book/references.bib: a DOI with characters Markdown reads (%-encoded), a
    PubMed page for an entry without a DOI, several references in one pair of parentheses."""
    from ctcbook.publish.sphinxext import book_markdown, reference_urls

    urls = reference_urls((BIB,))
    text = ("shorter ([Hayashi et al., 2012](https://doi.org/10.1007/s10147-011-0260-0)), "
            "c-index ([Harrell et al., 1996](https://doi.org/10.1002/%28SICI%291097-0258"
            "%2819960229%2915:4%3C361::AID-SIM168%3E3.0.CO;2-4)); log-rank "
            "([Mantel, 1966](https://pubmed.ncbi.nlm.nih.gov/5910392/)); kappa "
            "([Cohen, 1960](https://doi.org/10.1177/001316446002000104);\n"
            "[Sim and Wright, 2005](https://doi.org/10.1093/ptj/85.3.257)); a plain link "
            "[the paper](https://doi.org/10.1007/s10147-011-0260-0) stays a link.")
    out, problems = book_markdown(text, urls)
    assert problems == []
    assert out == ("shorter {cite:p}`hayashi2012`, c-index {cite:p}`harrell1996`; log-rank "
                   "{cite:p}`mantel1966`; kappa {cite:p}`cohen1960,sim2005`; a plain link "
                   "[the paper](https://doi.org/10.1007/s10147-011-0260-0) stays a link.")


def test_a_doi_missing_from_the_bibliography_is_a_problem():
    from ctcbook.publish.sphinxext import book_markdown, reference_urls

    text = "([Nobody, 2020](https://doi.org/10.9999/none))"
    out, problems = book_markdown(text, reference_urls((BIB,)))
    assert out == text
    assert problems == ["https://doi.org/10.9999/none is not in the bibliography "
                        "(book/references.bib)"]

