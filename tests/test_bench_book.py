"""The README and the own-data chapter quote the last whole-book benchmark, unchanged.

``benchmarks/bench_book.py --write`` stores its figures in ``benchmarks/results`` and copies
the table between markers into both pages; this checks the copies match the stored
results (one source of truth), not the speed (benchmarks are not tests).
"""

from __future__ import annotations

import json

from scripts import ROOT, load_script


def bench_module():
    return load_script("benchmarks/bench_book.py")


def test_pages_quote_the_stored_results():
    bench = bench_module()
    result = json.loads((ROOT / "benchmarks" / "results" / "bench_book.json").read_text())
    expected = bench.report(result)
    assert (ROOT / "benchmarks" / "results" / "bench_book.md").read_text() == expected
    for page in bench.QUOTED_IN:
        text = page.read_text(encoding="utf-8")
        block = text.split(bench.BLOCK_START, 1)[1].split(bench.BLOCK_END, 1)[0]
        assert block.strip() == expected.strip(), f"{page.name}: re-run bench_book.py --quote-only"


def test_stored_results_cover_the_sizes_and_every_notebook():
    result = json.loads((ROOT / "benchmarks" / "results" / "bench_book.json").read_text())
    assert 52 in result["sizes"] and max(result["sizes"]) >= 5000
    notebooks = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert set(result["notebooks"]) == notebooks
