"""Ship the repository's data/ folder (the synthetic cohort) inside the wheel.

The cohort has one copy in the repository, data/. A wheel carries it as package data in
ctcbook/cohort/shipped/, where ``ctcbook.cohort.format.SHIPPED`` looks first; an editable
install (a clone) reads data/ itself. Everything else is configured in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: The files of data/ a wheel carries (the cohort, its checksums and its data dictionary).
COHORT_FILES = ("patients.csv", "ctc.csv", "cohort.yaml", "SHA256SUMS", "README.md")


class BuildPyWithCohort(build_py):
    """``build_py`` that also copies data/ into the built package (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "ctcbook" / "cohort" / "shipped"
        self.mkpath(str(target))
        for name in COHORT_FILES:
            self.copy_file(str(Path("data") / name), str(target / name))


setup(cmdclass={"build_py": BuildPyWithCohort})
