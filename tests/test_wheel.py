"""An installed wheel carries the shipped cohort: ``load_cohort()`` works outside the repository.

The test builds the wheel from a copy of the sources (``pip wheel --no-deps
--no-build-isolation``: no network), installs it into a fresh virtual environment that sees
this environment's packages for the dependencies only (a ``.pth`` line; the editable
install of ctcbook itself is not picked up), and runs Python there from a folder outside the
repository with ``CTCBOOK_DATA`` unset.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COHORT_FILES = ("patients.csv", "ctc.csv", "cohort.yaml")

PROBE = """
import json, ctcbook
from ctcbook.cohort.format import SHIPPED
from ctcbook.cohort.io import validate_cohort
problems = validate_cohort()
out = {"file": ctcbook.__file__, "shipped": str(SHIPPED), "problems": [str(p) for p in problems]}
if not problems:
    cohort = ctcbook.load_cohort()
    out.update(n=cohort.n, draws=len(cohort.ctc), synthetic=cohort.synthetic)
print(json.dumps(out))
"""


#: What a wheel is built from (pyproject.toml's readme and licence included).
BUILD_INPUTS = ("ctcbook", "data", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md",
                "LICENSE")


def _sources(dest: Path) -> Path:
    """Copy the build inputs into ``dest`` (the build writes there, never in the repository)."""
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = _sources(base / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(base / "dist"), str(src)], check=True)
    (wheel,) = (base / "dist").glob("ctcbook-*.whl")
    env_dir = base / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (numpy, pandas, ...) from this environment, after the wheel's own files
    Path(purelib, "zz_ctcbook_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def _probe(python: Path, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CTCBOOK_DATA", "PYTHONPATH")}
    out = subprocess.run([str(python), "-c", PROBE], cwd=cwd, env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def test_installed_wheel_loads_the_shipped_cohort(installed, tmp_path):
    result = _probe(installed, tmp_path)
    env_dir = installed.parents[1]
    assert Path(result["file"]).is_relative_to(env_dir), "ctcbook was not imported from the wheel"
    assert Path(result["shipped"]).is_relative_to(env_dir)
    assert result["problems"] == []
    assert (result["n"], result["draws"], result["synthetic"]) == (52, 101, True)
    sums = dict(reversed(line.split("  "))
                for line in (ROOT / "data" / "SHA256SUMS").read_text(encoding="utf-8").splitlines())
    for name in COHORT_FILES:  # the wheel's copy is byte-identical to data/
        data = (Path(result["shipped"]) / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sums[name], name


def test_missing_shipped_cohort_is_a_clear_problem(installed, tmp_path):
    shipped = Path(_probe(installed, tmp_path)["shipped"])
    backup = tmp_path / "kept"
    shutil.move(shipped, backup)
    try:
        result = _probe(installed, tmp_path)
    finally:
        shutil.move(backup, shipped)
    (problem,) = result["problems"]
    assert "the shipped cohort is missing" in problem and "CTCBOOK_DATA" in problem
