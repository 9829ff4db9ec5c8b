"""Copy the benchmark figures kept in benchmarks/README.md into README.md (one source of truth).

After a new run of ``bench_stats.py`` / ``bench_explore.py``, edit the block between the
``bench_stats`` markers in benchmarks/README.md, then run from the repository root::

    .venv/bin/python benchmarks/quote.py

``tests/test_bench_quotes.py`` fails while the two copies differ.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "benchmarks" / "README.md"
QUOTED_IN = (ROOT / "README.md",)
BLOCK_START = ("<!-- bench_stats:start (benchmarks/README.md is the source; "
               "benchmarks/quote.py copies it into README.md) -->")
BLOCK_END = "<!-- bench_stats:end -->"


def block(text: str, where: Path) -> str:
    """The text between the markers (markers excluded)."""
    if BLOCK_START not in text or BLOCK_END not in text.split(BLOCK_START, 1)[1]:
        raise SystemExit(f"{where}: no {BLOCK_START!r} ... {BLOCK_END!r} block")
    return text.split(BLOCK_START, 1)[1].split(BLOCK_END, 1)[0]


def main() -> int:
    figures = block(SOURCE.read_text(encoding="utf-8"), SOURCE)
    for path in QUOTED_IN:
        text = path.read_text(encoding="utf-8")
        old = block(text, path)
        path.write_text(text.replace(BLOCK_START + old + BLOCK_END,
                                     BLOCK_START + figures + BLOCK_END, 1), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {'unchanged' if old == figures else 'updated'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
