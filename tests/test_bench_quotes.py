"""The README quotes the statistics benchmarks exactly as benchmarks/README.md keeps them.

One source of truth for every figure: benchmarks/README.md holds the block between the
``bench_stats`` markers, ``benchmarks/quote.py`` copies it. This checks the copies, not the
speed (benchmarks measure speed; tests do not).
"""

from __future__ import annotations

from scripts import ROOT, load_script


def test_readme_quotes_the_benchmark_figures_unchanged():
    quote = load_script("benchmarks/quote.py")
    figures = quote.block(quote.SOURCE.read_text(encoding="utf-8"), quote.SOURCE)
    assert "logrank_sweep" in figures and "maxstat" in figures and "n=10,000" in figures
    for page in quote.QUOTED_IN:
        copy = quote.block(page.read_text(encoding="utf-8"), page)
        assert copy == figures, f"{page.name}: run .venv/bin/python benchmarks/quote.py"


def test_no_other_copy_of_the_sweep_figures():
    """The README has no second table of the same benchmark outside the quoted block."""
    quote = load_script("benchmarks/quote.py")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = text.replace(quote.block(text, ROOT / "README.md"), "")
    assert "50 cutpoints" not in outside
