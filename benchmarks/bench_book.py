"""How does the book's cost grow with the cohort? Executes every notebook at several sizes.

    .venv/bin/python benchmarks/bench_book.py                    # n = 52, 500, 5,000, 20,000
    .venv/bin/python benchmarks/bench_book.py --sizes 52 500     # a quick look
    .venv/bin/python benchmarks/bench_book.py --write            # also update the results file

n = 52 is the shipped cohort (``data/``); every other size is a simulated cohort written by
``python -m ctcbook simulate --n N --seed 3`` into a temporary folder. Each notebook is
executed top to bottom by nbclient (the executor ``jupyter-book build`` uses), with
``CTCBOOK_DATA`` pointing at the cohort, one notebook and one size at a time, in the order
sizes x notebooks, so that every size is measured in the same run on the same machine.

Prints, per notebook, the seconds at each size (kernel start included) and the growth
exponent b of ``seconds = a * n**b`` fitted by least squares on log-log scale over the sizes
from 500 up (below that the kernel start dominates), then the totals and the ratio of the
largest sizes to n = 52. With ``--write`` the figures also go to
``benchmarks/results/bench_book.json`` and ``benchmarks/results/bench_book.md``, and the
table is copied between the ``bench_book`` markers of README.md and book/own-data.md (one
source of truth; ``--quote-only`` re-copies it; a test checks the copies match).

This is a benchmark, not a test: it only reports. A notebook that fails or times out is
reported as such (its time is the time until the failure) and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_SIZES = (52, 500, 5000, 20000)


def cohort_for(n: int, workdir: Path) -> Path:
    """The cohort folder of size ``n``: the shipped one for 52, else a simulated one."""
    if n == 52:
        return ROOT / "data"
    out = workdir / f"cohort-{n}"
    if not (out / "patients.csv").exists():
        subprocess.run([sys.executable, "-m", "ctcbook", "simulate", "--n", str(n), "--seed",
                        "3", "--out", str(out)], check=True, capture_output=True)
    return out


def execute(path: Path, cohort: Path, timeout: int) -> dict:
    """Execute one notebook on ``cohort``; seconds in all and per code cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    previous = os.environ.get("CTCBOOK_DATA")
    os.environ["CTCBOOK_DATA"] = str(cohort)
    client = NotebookClient(nb, timeout=timeout, startup_timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    status = "ok"
    start = time.perf_counter()
    try:
        client.execute()
    except CellTimeoutError:
        status = "timeout"
    except CellExecutionError as exc:
        status = "error: " + str(exc).strip().splitlines()[-1][:120]
    finally:
        seconds = time.perf_counter() - start
        if previous is None:
            os.environ.pop("CTCBOOK_DATA", None)
        else:
            os.environ["CTCBOOK_DATA"] = previous
    cells = {}
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing \
                and "shell.execute_reply" in timing:
            from datetime import datetime
            t0 = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            t1 = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            cells[i] = (t1 - t0).total_seconds()
    return {"seconds": seconds, "status": status, "cells": cells}


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """Slope of log(seconds) on log(n) over the sizes >= 500 (nan with fewer than two)."""
    pairs = [(n, s) for n, s in zip(sizes, seconds, strict=True) if n >= 500 and s > 0]
    if len(pairs) < 2:
        return float("nan")
    x, y = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(x, y, 1)[0])


def markdown(result: dict) -> str:
    sizes = result["sizes"]
    head = "| notebook | " + " | ".join(f"n = {n:,}" for n in sizes) + " | growth exponent |"
    rows = [head, "|---|" + "---|" * len(sizes) + "---|"]
    for name, per in result["notebooks"].items():
        cells = []
        for n in sizes:
            r = per[str(n)]
            mark = "" if r["status"] == "ok" else f" ({r['status'].split(':')[0]})"
            cells.append(f"{r['seconds']:.1f}{mark}")
        b = per["exponent"]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {b:.2f} |" if b == b
                    else f"| {name} | " + " | ".join(cells) + " | — |")
    totals = result["totals"]
    b = result["total_exponent"]
    rows.append("| **all notebooks** | " + " | ".join(f"**{totals[str(n)]:.0f}**" for n in sizes)
                + (f" | {b:.2f} |" if b == b else " | — |"))
    return "\n".join(rows) + "\n"


BLOCK_START = "<!-- bench_book:start (written by benchmarks/bench_book.py --write) -->"
BLOCK_END = "<!-- bench_book:end -->"
#: The pages that quote the results (between BLOCK_START and BLOCK_END).
QUOTED_IN = (ROOT / "README.md", ROOT / "book" / "own-data.md")


def report(result: dict) -> str:
    """The table with one sentence of context: what the README and the book quote."""
    totals = result["totals"]
    lines = [f"Seconds to execute each notebook (kernel start included), all sizes in one run on "
             f"{result['machine']}, {result['date']}; n = 52 is the shipped cohort, the "
             "others `python -m ctcbook simulate --n N --seed 3`; the growth exponent b "
             "fits seconds = a n^b over n >= 500.", ""]
    lines.append(markdown(result).rstrip("\n"))
    if "52" in totals:
        ratios = [f"{totals[str(n)] / totals['52']:.1f} times at n = {n:,}"
                  for n in result["sizes"] if n != 52 and str(n) in totals]
        if ratios:
            lines += ["", "All notebooks together, against n = 52: " + "; ".join(ratios) + ". "
                      "On a machine shared with other jobs the load changes during a run, so "
                      "a ratio near or below 1 means the sizes cost about the same (kernel "
                      "start and imports dominate), not that a larger cohort is faster."]
    failed = [f"{name} at n = {int(n):,} ({r['status'].split(':')[0]})"
              for name, per in result["notebooks"].items() for n, r in per.items()
              if isinstance(r, dict) and r.get("status", "ok") != "ok"]
    lines += ["", "Failed: " + "; ".join(failed) + "." if failed else
              "Every notebook executed without error at every size."]
    return "\n".join(lines) + "\n"


def quote(text: str, paths=QUOTED_IN) -> None:
    """Replace the block between the markers of each page by ``text``."""
    for path in paths:
        page = path.read_text(encoding="utf-8")
        head, sep, rest = page.partition(BLOCK_START)
        if not sep:
            raise SystemExit(f"{path}: no {BLOCK_START!r} marker")
        _, sep2, tail = rest.partition(BLOCK_END)
        if not sep2:
            raise SystemExit(f"{path}: no {BLOCK_END!r} marker")
        path.write_text(head + BLOCK_START + "\n\n" + text + "\n" + BLOCK_END + tail,
                        encoding="utf-8")


def summarise(result: dict) -> None:
    """Add each notebook's growth exponent, the totals and their exponent."""
    sizes = result["sizes"]
    for per in result["notebooks"].values():
        per["exponent"] = exponent(sizes, [per[str(n)]["seconds"] for n in sizes])
    result["totals"] = {str(n): sum(per[str(n)]["seconds"] for per in result["notebooks"].values())
                        for n in sizes}
    result["total_exponent"] = exponent(sizes, [result["totals"][str(n)] for n in sizes])


def strip_cells(result: dict) -> dict:
    """The result without the per-cell seconds (kept out of the committed file)."""
    return {**result, "notebooks": {
        k: {n: ({kk: vv for kk, vv in v.items() if kk != "cells"} if isinstance(v, dict) else v)
            for n, v in per.items()}
        for k, per in result["notebooks"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--notebooks", nargs="*", default=None,
                        help="notebook name prefixes (e.g. 08 15); default all")
    parser.add_argument("--timeout", type=int, default=600, help="per cell, as in _config.yml")
    parser.add_argument("--cells", action="store_true", help="also print seconds per cell")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/bench_book.{json,md} and quote the "
                             "table in README.md and book/own-data.md")
    parser.add_argument("--quote-only", action="store_true",
                        help="only re-quote benchmarks/results/bench_book.json in the pages")
    args = parser.parse_args()
    if args.quote_only:
        final, partial = RESULTS / "bench_book.json", RESULTS / "bench_book.partial.json"
        result = json.loads((final if final.exists() else partial).read_text())
        if not final.exists():  # an interrupted run: the sizes every notebook reached
            done = [n for n in result["sizes"]
                    if all(str(n) in per for per in result["notebooks"].values())]
            result["sizes"] = done
            result["notebooks"] = {k: {n: v for n, v in per.items() if n in map(str, done)}
                                   for k, per in result["notebooks"].items()}
            summarise(result)
            slim = strip_cells(result)
            final.write_text(json.dumps(slim, indent=1) + "\n")
            result = slim
        (RESULTS / "bench_book.md").write_text(report(result))
        partial.unlink(missing_ok=True)
        quote(report(result))
        return

    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.notebooks)]
    result = {"sizes": args.sizes, "notebooks": {p.stem: {} for p in paths},
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                         f"{platform.python_version()}",
              "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory(prefix="ctcbook-bench-") as tmp:
        for n in args.sizes:
            cohort = cohort_for(n, Path(tmp))
            for path in paths:
                r = execute(path, cohort, args.timeout)
                result["notebooks"][path.stem][str(n)] = r
                slow = sorted(r["cells"].items(), key=lambda kv: -kv[1])[:3]
                detail = ", ".join(f"cell {i}: {s:.1f} s" for i, s in slow) if args.cells else ""
                print(f"n = {n:>6,}  {path.stem:<45} {r['seconds']:7.1f} s  {r['status']}"
                      f"  {detail}", flush=True)
                if args.write:  # what is measured so far survives an interrupted run
                    RESULTS.mkdir(parents=True, exist_ok=True)
                    (RESULTS / "bench_book.partial.json").write_text(json.dumps(result) + "\n")
    summarise(result)
    print()
    print(f"Seconds per notebook (kernel start included); {result['machine']}, {result['date']}")
    print()
    print(markdown(result))
    base = result["totals"].get("52")
    if base:
        for n in args.sizes:
            if n != 52:
                print(f"all notebooks at n = {n:,}: {result['totals'][str(n)] / base:.2f} x n = 52")
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        slim = strip_cells(result)
        (RESULTS / "bench_book.json").write_text(json.dumps(slim, indent=1) + "\n")
        (RESULTS / "bench_book.md").write_text(report(result))
        (RESULTS / "bench_book.partial.json").unlink(missing_ok=True)
        quote(report(result))
        print(f"wrote {RESULTS / 'bench_book.json'} and bench_book.md; quoted in "
              + ", ".join(str(p.relative_to(ROOT)) for p in QUOTED_IN))


if __name__ == "__main__":
    main()
