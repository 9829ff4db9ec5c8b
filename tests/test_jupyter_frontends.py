"""The notebooks in real Jupyter front ends (JupyterLab and Notebook 7), end to end: their
MyST rendered, their numbers filled into the text after Run All, and the live explorer.

Numbers, references and citations: before a notebook runs, every ``{eval}`` number of its
text shows the placeholder (never its name) and no reference or citation is marked "not
found"; after Run All (the Results notebooks 01 to 06, in both front ends) every number is
filled in: no placeholder, no name, no "not computed yet", no error, and in JupyterLab a
link to another chapter opens that notebook.

The live explorer (``cb.explorer_widget``):

The package promises that the ipywidgets explorer "works in JupyterLab and in Notebook 7";
``test_widgets.py`` drives it from Python only. Here a Jupyter server from the venv serves a
temporary copy of notebook 08's live cell (with the cells it depends on) to headless
Chromium, once in JupyterLab (``/lab/tree/...``) and once in Notebook 7 (``/notebooks/...``).
The browser runs the cells like a reader (Shift+Enter), waits for the widget (buttons,
slider, dropdown, image, numbers; no toggle-button label cut off), moves the threshold
slider with the mouse (a click on the track) and with the arrow keys on its focused handle,
picks another timepoint and endpoint, and checks after each move that a new image is shown
and that the title and numbers are exactly what ``cb.explore`` computes for the choices.

It fails on JavaScript errors and console errors once the cells run (when the widget is
in play), on the few load-time errors of the Jupyter shells unless they are the specific,
explained ones in ``KNOWN_SHELL_ERRORS``, on error or stderr output of a cell, on failed
or erroring local requests, and on any request to another host (blocked: the widget must
not need a CDN).

The server is isolated from the user's Jupyter set-up: its config, data, runtime, IPython,
lab settings and workspaces directories are temporary (the venv's ``share/jupyter`` stays
on the data path, so the widgets lab extension and the kernelspec are found), and it runs
in its own process group and is always shut down. Nothing under the repository is written.

Warnings: the server and the kernel are subprocesses, so their warnings (e.g. the kernel's
"running over TCP without encryption") go to the server log, not through pytest's
``filterwarnings = error``; this process only uses urllib and Playwright and needs no ignore.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser import browser_page, chromium_path

import ctcbook as cb
from ctcbook.cohort.io import SHIPPED
from ctcbook.explorers.core import THRESHOLD_RANGE, Exploration
from ctcbook.report.glue import NOT_YET, PLACEHOLDER, expressions

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("jupyter")]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_08 = ROOT / "notebooks" / "08-explore-the-ctc-threshold.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TOKEN = "ctcbook-frontend-test"
SERVER_START_TIMEOUT = 60  # seconds; about 5 s on an idle two-core machine
# Generous: in CI the first page load of a fresh virtual environment competes with a book
# build for the two cores (a 30 s wait for Notebook 7's cells once ran out there).
KERNEL_TIMEOUT = 90_000  # milliseconds: notebook shown, kernel started and connected
RUN_TIMEOUT = 120_000  # milliseconds: the three cells ran (imports, cohort, widget)
MOVE_TIMEOUT = 30_000  # milliseconds: one move computed in the kernel and shown

# Page errors thrown by the Jupyter shells while the page loads, before any cell runs (so
# before any widget code), with a reason. Matched exactly, and only in the load phase.
KNOWN_SHELL_ERRORS = {
    "notebook": {
        # Notebook 7.6's shortcuts plugin (bundled @jupyterlab/shortcuts-extension) reads
        # ``plugins[id].schema`` in a settings ``pluginChanged`` handler for a plugin that
        # the notebook page never loaded: thrown in notebook_core.js on every page load.
        "Cannot read properties of undefined (reading 'schema')",
        # The file browser's restore (bundled @jupyterlab/filebrowser) executes
        # ``filebrowser:open-path`` for the routed ``/notebooks/<file>``; the notebook page
        # has no file browser, so the command is not registered: thrown on every load.
        "Command 'filebrowser:open-path' not registered.",
    },
    "lab": set(),
}

# Front ends where the arrow keys do not reach a focused widget slider (a known issue,
# not ours): in Notebook 7.6 the keydown is consumed at the document's capture phase
# (default prevented, propagation stopped) by the notebook's command-mode ArrowRight/
# ArrowLeft key bindings (selector ``.jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite)
# :focus``), so noUiSlider never sees it; JupyterLab 4.6 delivers it. Checked both ways:
# if Notebook starts passing the keys, the test says so.
ARROW_KEYS_SWALLOWED = {"notebook"}


# --------------------------------------------------------------------------- notebook


def live_notebook() -> dict:
    """Notebook 08 reduced to what its live cell needs: the set-up, load and live cells.

    Cells tagged ``remove-cell``/``remove-input`` only feed the book (glue, the static
    explorer) and are left out; the live cell (tagged ``skip-execution``) is run as is.
    """
    nb = json.loads(NOTEBOOK_08.read_text(encoding="utf-8"))
    book_only = {"remove-cell", "remove-input"}
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"
             and not book_only & set(c["metadata"].get("tags", []))]
    live = [c for c in cells if "skip-execution" in c["metadata"].get("tags", [])]
    assert len(live) == 1, "notebook 08 should have one live cell (tagged skip-execution)"
    cells = cells[: cells.index(live[0]) + 1]
    assert "explorer_widget(" in "".join(live[0]["source"]), "the live cell calls explorer_widget"
    for cell in cells:
        cell["outputs"], cell["execution_count"] = [], None
    nb["cells"] = cells
    return nb


def live_choices() -> dict:
    """The live cell's initial choices (it sets ``grouping="ctc_count"``, else defaults)."""
    return {"threshold": 5, "timepoint": "first_follow_up", "her2_rule": ">=1",
            "endpoint": "pfs", "grouping": "ctc_count"}


# --------------------------------------------------------------------------- server


def _request(url: str, method: str = "GET", timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        err.close()
        return err.code, b""


class JupyterServer:
    """A Jupyter server (JupyterLab + Notebook 7) from this venv on 127.0.0.1, isolated."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        dirs = {name: base / name for name in
                ("config", "data", "runtime", "ipython", "settings", "workspaces")}
        for path in [self.root, *dirs.values()]:
            path.mkdir(parents=True)
        self.runtime = dirs["runtime"]
        # No calls home: no news feed, no update check, an extension manager that does not
        # query PyPI (the server side is outside the browser's request guard).
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps({
            "LabApp": {"news_url": None, "extension_manager": "readonly",
                       "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
        }))
        # ... and no "Would you like to get notified about official Jupyter news?" toast.
        notification = dirs["settings"] / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        # ... and every cell rendered, not only those in view (JupyterLab's default
        # "full" windowing leaves cells out of the DOM until scrolled to)
        tracker = dirs["settings"] / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "IPYTHON"))}  # e.g. JUPYTER_PATH, _TOKEN, _PORT
        env.update({
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),  # the venv's share/jupyter is still searched
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "CTCBOOK_DATA": str(SHIPPED),  # the kernel reads the shipped cohort, read-only
            "PYTHONNOUSERSITE": "1",
        })
        command = [
            sys.executable, "-m", "jupyter_server",  # the kernel runs on this Python too
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",  # the OS picks a free port; read back from the runtime file
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.open_browser=False",
            # A safety net should this process die without its teardown: orphaned kernels
            # are culled and the server then stops itself.
            "--MappingKernelManager.cull_idle_timeout=300",
            "--MappingKernelManager.cull_interval=60",
            "--ServerApp.shutdown_no_activity_timeout=300",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers often run tests as root
        self.log_path = base / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.url = ""

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self) -> None:
        info = self.runtime / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Jupyter server exited ({self.process.returncode}):\n"
                            f"{self.log_tail()}")
            if info.exists() and not self.url:
                try:
                    self.url = json.loads(info.read_text())["url"].rstrip("/")
                except (ValueError, KeyError):  # being written
                    pass
            if self.url:
                try:
                    if _request(f"{self.url}/api/status")[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        pytest.fail(f"the Jupyter server was not ready in {SERVER_START_TIMEOUT} s:\n"
                    f"{self.log_tail()}")

    def sessions(self) -> list[dict]:
        status, body = _request(f"{self.url}/api/sessions")
        return json.loads(body) if status == 200 else []

    def kernel_connected(self, path: str) -> bool:
        """Whether the session of ``path`` has an idle kernel with a connected page."""
        for session in self.sessions():
            kernel = session.get("kernel") or {}
            if (session.get("path") == path and kernel.get("execution_state") == "idle"
                    and kernel.get("connections", 0) >= 1):
                return True
        return False

    def shutdown_kernels(self) -> None:
        """End every session (and its kernel): one notebook's kernel at a time."""
        for session in self.sessions():
            _request(f"{self.url}/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        """Shut down (kernels included) through the API, else terminate, else kill."""
        process = self.process
        try:
            if process.poll() is None and self.url:
                try:
                    _request(f"{self.url}/api/shutdown", method="POST")
                except OSError:
                    pass
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        finally:
            try:  # kernels left behind by an unclean exit: our own process group only
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._log.close()


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """The running server, its root holding ``lab.ipynb`` and ``notebook.ipynb``."""
    chromium_path()  # fail (or skip on explicit opt-out) before starting anything
    server = JupyterServer(tmp_path_factory.mktemp("jupyter"))
    try:
        nb = live_notebook()
        for name in ("lab", "notebook"):  # one notebook, hence one kernel, per front end
            (server.root / f"{name}.ipynb").write_text(json.dumps(nb, indent=1))
        server.wait_ready()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- browser

URLS = {"lab": "/lab/tree/{path}", "notebook": "/notebooks/{path}"}

# The state a reader sees, scoped to the explorer's own VBox.
SNAPSHOT = """root => {
    const img = root.querySelector('img.widget-image');
    const handle = root.querySelector('.ctcbook-threshold .noUi-handle');
    const html = root.querySelectorAll(':scope > .widget-html .widget-html-content');
    return {
        src: img ? img.getAttribute('src') : null,
        loaded: !!img && img.complete && img.naturalWidth > 0,
        title: html.length ? html[0].textContent.trim() : '',
        numbers: html.length > 1 ? html[1].textContent.replace(/\\s+/g, ' ').trim() : '',
        slider: handle ? handle.getAttribute('aria-valuenow') : null,
        readout: (root.querySelector('.ctcbook-threshold .widget-readout') || {}).textContent,
        timepoint: (root.querySelector('.ctcbook-timepoint select') || {}).value,
    };
}"""

# Toggle buttons whose label does not fit (CSS ellipsis hides part of it).
TRUNCATED = """root => Array.from(root.querySelectorAll('.widget-toggle-button'))
    .filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent.trim())"""

OUTPUT_PROBLEMS = """() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"],'
        + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'))
    .map(el => el.getAttribute('data-mime-type') + ': ' + el.textContent.slice(0, 2000))"""

PROMPTS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
    .map(el => el.textContent.trim())"""


def expected(**choices) -> Exploration:
    """What ``cb.explore`` computes for the live cell's choices changed by ``choices``."""
    return cb.explore(cb.load_cohort(SHIPPED), **{**live_choices(), **choices})


def assert_shows(root, result, before: dict, what: str) -> dict:
    """Wait until the widget shows ``result`` with a new, loaded image; return the state.

    The image, title and numbers are separate widgets, updated by separate comm messages:
    wait for all of them (the title, a new image, new numbers with the expected p-value
    and group labels), not for the first one to arrive.
    """
    p_text = f"Log-rank {cb.p_text(result.p_value)}"
    labels = list(result.groups["label"])
    try:
        root.page.wait_for_function(
            f"""([root, title, src, numbers, wanted]) => {{
                const s = ({SNAPSHOT})(root);
                return s.title === title && s.src !== src && s.loaded
                    && s.numbers !== numbers && wanted.every(w => s.numbers.includes(w));
            }}""",
            arg=[root.element_handle(), result.title, before["src"],
                 before["numbers"], [p_text, *labels]], timeout=MOVE_TIMEOUT)
    except Exception as err:  # noqa: BLE001 - re-raised with the state seen
        state = root.evaluate(SNAPSHOT)
        raise AssertionError(f"{what}: the widget did not show {result.title!r} ({p_text}, "
                             f"groups {labels}) with a new image; it shows {state}") from err
    return root.evaluate(SNAPSHOT)


def drive_explorer(server: JupyterServer, frontend: str) -> dict:
    """Open the notebook in ``frontend``, run it, move the controls; return timings."""
    path = f"{frontend}.ipynb"
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with browser_page() as (page, log):
        phase = {"name": "load"}
        errors: list[tuple[str, str]] = []  # (phase, message) of uncaught JavaScript errors
        console: list[tuple[str, str]] = []
        page.on("pageerror", lambda exc: errors.append((phase["name"], exc.message)))
        page.on("console", lambda msg: console.append((phase["name"], msg.text))
                if msg.type == "error" else None)
        page.set_default_timeout(MOVE_TIMEOUT)
        page.goto(server.url + URLS[frontend].format(path=path) + f"?token={TOKEN}",
                  wait_until="domcontentloaded", timeout=KERNEL_TIMEOUT)

        # 1. the notebook is shown and its kernel is started, idle and connected to the page
        n_cells = len(live_notebook()["cells"])
        try:
            page.wait_for_function(f"() => document.querySelectorAll('.jp-Notebook .jp-CodeCell')"
                                   f".length === {n_cells}", timeout=KERNEL_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - re-raised with what the page shows
            raise AssertionError(
                f"{frontend}: the notebook's cells were not shown; page errors {errors}, "
                f"console errors {console[-5:]}, requests {log}:\n{server.log_tail()}"
            ) from err
        deadline = time.monotonic() + KERNEL_TIMEOUT / 1000
        while not server.kernel_connected(path):
            if time.monotonic() > deadline:
                shot = server.base / f"{frontend}-no-kernel.png"
                page.screenshot(path=shot)
                pytest.fail(f"{frontend}: no idle kernel connected for {path} (screenshot "
                            f"{shot}); sessions {server.sessions()}:\n{server.log_tail()}")
            # not time.sleep: the request guard of browser_page() is a Python route handler,
            # which runs only while Playwright has control; a sleeping test would hold back
            # every request of the page (the session POST, the kernel websocket).
            page.wait_for_timeout(200)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator:has-text("Kernel status: Idle")',
                               state="attached", timeout=KERNEL_TIMEOUT)
        timings["kernel ready"] = time.monotonic() - t0

        # 2. run the cells like a reader: select the first cell, Shift+Enter on each
        phase["name"] = "run"
        page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").first.click()
        for _ in range(n_cells):
            page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                f"""() => {{
                    const p = ({PROMPTS})().slice(0, {n_cells});
                    return p.length === {n_cells} && p.every(t => /^\\[\\d+\\]:$/.test(t));
                }}""", timeout=RUN_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - re-raised with what the page shows
            raise AssertionError(f"{frontend}: the cells did not finish: prompts "
                                 f"{page.evaluate(PROMPTS)}, outputs "
                                 f"{page.evaluate(OUTPUT_PROBLEMS)}") from err
        root = page.locator(".jp-OutputArea-output .widget-vbox:has(> .ctcbook-threshold)")
        root.wait_for(timeout=RUN_TIMEOUT)
        for control in ("grouping", "threshold", "her2_rule", "timepoint", "endpoint"):
            root.locator(f":scope > .ctcbook-{control}").wait_for()
        page.wait_for_function("root => { const i = root.querySelector('img.widget-image');"
                               " return i && i.complete && i.naturalWidth > 0; }",
                               arg=root.element_handle())
        timings["widget shown"] = time.monotonic() - t0
        assert page.evaluate(OUTPUT_PROBLEMS) == [], f"{frontend}: error or stderr output"

        # 3. the initial state is the live cell's: CTC-count grouping, threshold 5
        state = root.evaluate(SNAPSHOT)
        initial = expected()
        assert state["loaded"] and state["src"], f"{frontend}: no image shown: {state}"
        assert state["title"] == initial.title, state
        assert f"Log-rank {cb.p_text(initial.p_value)}" in state["numbers"], state
        assert state["slider"] == "5.0" and state["readout"] == "5", state
        grouping = root.locator(":scope > .ctcbook-grouping .widget-toggle-button.mod-active")
        assert grouping.inner_text().strip() == "CTC count"
        assert root.locator(".ctcbook-threshold .noUi-target[disabled]").count() == 0, (
            "the threshold slider is disabled under the CTC-count grouping")
        assert root.locator(".ctcbook-her2_rule button:not([disabled])").count() == 0, (
            "the HER2 rule should be disabled under the CTC-count grouping")
        assert root.evaluate(TRUNCATED) == [], (
            f"{frontend}: toggle-button labels cut off by the button width")

        # 4. the threshold slider with the mouse: a click on the track at 12 ...
        phase["name"] = "moves"
        track = root.locator(".ctcbook-threshold .noUi-base")
        box = track.bounding_box()
        lo, hi = THRESHOLD_RANGE
        x = box["width"] * (12 - lo) / (hi - lo)  # the handle's centre sits at the value
        track.click(position={"x": x, "y": box["height"] / 2})
        state = assert_shows(root, expected(threshold=12), state, f"{frontend}: threshold 12")
        assert state["slider"] == "12.0" and state["readout"] == "12", state
        # ... and with the keyboard on the focused handle: one step, then quick steps
        # (continuous updates) that must settle on the last value
        handle = root.locator(".ctcbook-threshold .noUi-handle[role='slider']")
        handle.focus()
        handle.press("ArrowRight")
        if frontend in ARROW_KEYS_SWALLOWED:
            # noUiSlider moves the handle synchronously in its keydown handler
            assert handle.get_attribute("aria-valuenow") == "12.0", (
                f"{frontend} now passes the arrow keys to the slider: remove it from "
                "ARROW_KEYS_SWALLOWED")
        else:
            state = assert_shows(root, expected(threshold=13), state, f"{frontend}: key")
            assert state["slider"] == "13.0" and state["readout"] == "13", state
            handle.press("ArrowLeft")
            handle.press("ArrowLeft")
            handle.press("ArrowLeft")
            state = assert_shows(root, expected(threshold=10), state, f"{frontend}: keys")
            assert state["slider"] == "10.0" and state["readout"] == "10", state
        threshold = int(float(state["slider"]))

        # 5. the timepoint dropdown and the endpoint buttons
        root.locator(".ctcbook-timepoint select").select_option(label="Baseline")
        state = assert_shows(root, expected(threshold=threshold, timepoint="baseline"), state,
                             f"{frontend}: timepoint")
        root.locator(".ctcbook-endpoint .widget-toggle-button",
                     has_text="Overall survival").click()
        state = assert_shows(root, expected(threshold=threshold, timepoint="baseline", endpoint="os"),
                             state, f"{frontend}: endpoint")
        timings["moves done"] = time.monotonic() - t0
        assert page.evaluate(OUTPUT_PROBLEMS) == [], f"{frontend}: error or stderr output"

        # 6. nothing went wrong on the page
        unexplained = [(p, m) for p, m in errors
                       if not (p == "load" and m in KNOWN_SHELL_ERRORS[frontend])]
        assert not unexplained, f"{frontend}: JavaScript errors (phase, message): {unexplained}"
        assert not console, f"{frontend}: console errors (phase, message): {console}"
        assert not log["external"], f"{frontend}: requests to other hosts: {log['external']}"
        assert not log["bad_status"], f"{frontend}: HTTP errors: {log['bad_status']}"
        assert not log["failed"], f"{frontend}: failed requests: {log['failed']}"
    return timings


@pytest.mark.parametrize("frontend", ["lab", "notebook"])
def test_live_explorer_in_a_real_frontend(jupyter, frontend):
    """JupyterLab and Notebook 7 show the live explorer and recompute on every move."""
    drive_explorer(jupyter, frontend)


# --------------------------------------------------------------------------- MyST

# MyST syntax that must never reach a reader as text: a rendered cell showing one of these
# means no MyST renderer is installed (jupyterlab-myst) or it failed on the cell.
RAW_MYST = re.compile(r"^\([\w.:-]+\)=$|\{glue(?::\w+)?\}|\{cite(?::\w+)?\}|\{ref\}|\{numref\}"
                      r"|\{doc\}|\{eq\}|\{eval\}|^:::+|^```+|\{exercise|\{solution"
                      r"|^:(?:class|label|name|alt):", re.MULTILINE)

# What jupyterlab-myst cannot do, and how the reader is served instead: ``glue:figure`` is
# an unknown directive there, so the figure is shown under the code cell that glued it
# (ctcbook.report.glue.show_glued_values) and the caption, raw, in the directive's closed box
# (with its {eval} numbers unevaluated: see prose_expressions). Numbers,
# references and citations are written in forms it renders (ctcbook.publish.sphinxext, item 6).
KNOWN_UNKNOWN_DIRECTIVES = {"glue:figure"}

# A cell's references and citations jupyterlab-myst could not resolve, and the inline code
# elements that show an {eval} expression's text (its name) instead of a value.
UNRESOLVED = """cell => Array.from(cell.querySelectorAll(
        '[title="Cross Reference Not Found"], [title="Citation Not Found"]'))
    .map(e => e.getAttribute('title') + ': ' + e.textContent.trim())"""
CODE_TEXTS = """cell => Array.from(cell.querySelectorAll('.myst code')).map(e => e.textContent.trim())"""
EVAL_ERRORS = """cell => Array.from(cell.querySelectorAll(
        '.myst [data-mime-type="application/vnd.jupyter.stderr"]')).map(e => e.textContent)"""

RENDERED = """() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-MarkdownCell')).map(cell => {
    const myst = cell.querySelector('.myst');
    return {
        myst: !!myst,
        full: myst ? myst.textContent : '',
        unresolved: (""" + UNRESOLVED + """)(cell),
        codes: (""" + CODE_TEXTS + """)(cell),
        errors: (""" + EVAL_ERRORS + """)(cell),
        text: myst ? myst.innerText : (cell.querySelector('.jp-RenderedMarkdown') || cell).innerText,
        unknown: myst ? Array.from(myst.querySelectorAll('summary, div'))
            .map(e => e.textContent.trim()).filter(t => /^\\S+ - Unknown Directive$/.test(t))
            .map(t => t.replace(' - Unknown Directive', '')) : [],
        open_solutions: myst ? Array.from(myst.querySelectorAll('details'))
            .filter(d => d.open && /Solution/.test(d.querySelector('summary').textContent)).length : 0,
        solutions: myst ? Array.from(myst.querySelectorAll('details summary'))
            .filter(s => /Solution/.test(s.textContent)).length : 0,
    };
})"""

COLLAPSED_CODE = """() => document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPlaceholder').length"""


def all_notebooks(paths: list[Path] = NOTEBOOKS) -> tuple[dict, list[str], int]:
    """The cells of ``paths`` (default: every notebook) in one notebook (one page load per
    front end, one kernel); the name of each markdown cell's notebook, and the number of
    collapsed code cells."""
    combined = json.loads(NOTEBOOK_08.read_text(encoding="utf-8"))
    cells, names, hidden = [], [], 0
    for path in paths:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                names.append(path.name)
            else:
                cell["outputs"], cell["execution_count"] = [], None
                hidden += bool(cell["metadata"].get("jupyter", {}).get("source_hidden"))
            cells.append(cell)
    combined["cells"] = cells
    return combined, names, hidden


@pytest.mark.parametrize("frontend", ["lab", "notebook"])
def test_notebooks_render_their_myst(jupyter, frontend):
    """Every notebook's markdown is rendered as MyST: no raw roles, targets or fences, only
    the known unknown directive, every solution a closed dropdown and its code collapsed
    (issue 16)."""
    nb, names, hidden = all_notebooks()
    path = f"all-{frontend}.ipynb"
    (jupyter.root / path).write_text(json.dumps(nb, indent=1))
    n = len(names)
    with browser_page() as (page, log):
        page.goto(jupyter.url + URLS[frontend].format(path=path) + f"?token={TOKEN}",
                  wait_until="domcontentloaded", timeout=KERNEL_TIMEOUT)
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                ".jp-Notebook .jp-MarkdownCell .myst').length === n", arg=n, timeout=RUN_TIMEOUT)
        except Exception:  # noqa: BLE001 - reported below with what was shown
            pass
        cells = page.evaluate(RENDERED)
        collapsed = page.evaluate(COLLAPSED_CODE)
        assert not log["external"], f"{frontend}: requests to other hosts: {log['external']}"
    rendered = sum(c["myst"] for c in cells)
    assert len(cells) == n and rendered == n, (
        f"{frontend}: {rendered} of {n} markdown cells rendered by jupyterlab-myst")
    problems, solutions, placeholders = [], 0, 0
    sources = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    for name, cell, source in zip(names, cells, sources, strict=True):
        exprs = prose_expressions("".join(source["source"]))
        problems += number_problems(name, cell, exprs, before_run=True)
        placeholders += cell["full"].count(PLACEHOLDER)
        raw = sorted(set(RAW_MYST.findall(cell["text"])))
        if raw:
            problems.append(f"{name}: raw MyST {raw}: {cell['text'][:200]!r}")
        unknown = set(cell["unknown"]) - KNOWN_UNKNOWN_DIRECTIVES
        if unknown:
            problems.append(f"{name}: unknown directives {sorted(unknown)}")
        if cell["open_solutions"]:
            problems.append(f"{name}: a solution is shown open")
        solutions += cell["solutions"]
    assert not problems, f"{frontend}: MyST not rendered as it should be: {problems}"
    assert solutions >= 10, f"{frontend}: only {solutions} solutions found"
    assert collapsed == hidden, f"{frontend}: {collapsed} of {hidden} solution code cells collapsed"
    assert placeholders >= 200, f"{frontend}: only {placeholders} numbers show the placeholder"


def number_problems(name: str, cell: dict, exprs: list[str], before_run: bool) -> list[str]:
    """What is wrong with the numbers, references and citations of one rendered cell."""
    problems = [f"{name}: {u}" for u in cell["unresolved"]]
    names = sorted(set(cell["codes"]) & set(exprs))
    if names:
        problems.append(f"{name}: numbers shown by their name: {names}")
    if cell["errors"]:
        problems.append(f"{name}: numbers shown as errors: {cell['errors']}")
    # (textContent: numbers in a closed solution or figure box count too)
    if before_run and exprs and PLACEHOLDER not in cell["full"]:
        problems.append(f"{name}: no placeholder for {exprs}: {cell['full'][:200]!r}")
    if not before_run and exprs:
        for wrong in (PLACEHOLDER, NOT_YET):
            if wrong in cell["full"]:
                problems.append(f"{name}: {wrong!r} after Run All: {cell['full'][:300]!r}")
    return problems


GLUE_FIGURE = re.compile(r"^:::\{glue:figure\}.*?^:::$", re.MULTILINE | re.DOTALL)


def prose_expressions(source: str) -> list[str]:
    """The ``{eval}`` numbers of a cell's prose. A ``glue:figure`` is an unknown directive in
    jupyterlab-myst: its caption stays raw text in the directive's (closed) box, numbers
    included; the figure itself is shown under the code cell that glued it."""
    return expressions(GLUE_FIGURE.sub("", source))


RESULTS = [p for p in NOTEBOOKS if p.name[:2] in {"01", "02", "03", "04", "05", "06"}]
RUN_ALL_TIMEOUT = 600_000  # milliseconds: the six Results notebooks run in one kernel


def copy_book(root: Path) -> None:
    """The notebooks and chapter pages, so that links between them resolve as in a clone."""
    for folder, pattern in (("notebooks", "*.ipynb"), ("book", "*.md")):
        (root / folder).mkdir(exist_ok=True)
        for path in (ROOT / folder).glob(pattern):
            (root / folder / path.name).write_bytes(path.read_bytes())


def run_all(server: JupyterServer, page, frontend: str, path: str) -> None:
    """Open ``path``, wait for its kernel, Run All (the Run menu) and wait until every
    number of its text is answered (jupyterlab-myst asks the kernel when Run All is done)."""
    nb = json.loads((server.root / path).read_text(encoding="utf-8"))
    sources = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    page.goto(server.url + URLS[frontend].format(path=path) + f"?token={TOKEN}",
              wait_until="domcontentloaded", timeout=KERNEL_TIMEOUT)
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-Notebook .jp-MarkdownCell .myst').length === n", arg=len(sources),
        timeout=RUN_TIMEOUT)
    deadline = time.monotonic() + KERNEL_TIMEOUT / 1000
    while not server.kernel_connected(path):
        assert time.monotonic() < deadline, f"no kernel for {path}"
        page.wait_for_timeout(200)  # not time.sleep: see drive_explorer
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    # the note for Jupyter readers (a cell with no numbers) shows the placeholder as example
    notes = sum(PLACEHOLDER in "".join(c["source"]) for c in sources)
    try:
        page.wait_for_function(
            "([t, notes]) => Array.from(document.querySelectorAll("
            "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst'))"
            ".filter(c => c.textContent.includes(t)).length <= notes",
            arg=[PLACEHOLDER, notes], timeout=RUN_ALL_TIMEOUT)
    except Exception:  # noqa: BLE001 - the caller reports what the cells show
        pass
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator:has-text("Kernel status: Idle")',
                           state="attached", timeout=KERNEL_TIMEOUT)



@pytest.mark.parametrize("frontend", ["lab", "notebook"])
def test_results_notebooks_show_their_numbers_after_run_all(jupyter, frontend):
    """After Run All, the text of each Results notebook (01 to 06, each with a kernel of
    its own, as a reader runs it) shows every number (no name, no placeholder, no "not
    computed yet", no error) and no reference or citation "not found"; in JupyterLab a
    link to another chapter opens its notebook."""
    assert len(RESULTS) == 6
    copy_book(jupyter.root)
    problems, filled, opened = [], 0, None
    with browser_page() as (page, log):
        for notebook in RESULTS:
            path = f"notebooks/{notebook.name}"
            run_all(jupyter, page, frontend, path)
            sources = [c for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "markdown"]
            cells = page.evaluate(RENDERED)
            outputs = page.evaluate(OUTPUT_PROBLEMS)
            if outputs:
                problems.append(f"{notebook.name}: error or stderr output: {outputs}")
            for cell, source in zip(cells, sources, strict=True):
                exprs = prose_expressions("".join(source["source"]))
                filled += len(exprs)
                problems += number_problems(notebook.name, cell, exprs, before_run=False)
            if frontend == "lab" and notebook.name.startswith("03"):
                # a link to another chapter opens that notebook in a tab of its own
                # in the notebook on show: JupyterLab may restore notebook 01 in a hidden tab
                page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell .myst a",
                             has_text="What do CTC counts look like?").first.click()
                tab = page.locator(".lm-TabBar-tab .lm-TabBar-tabLabel",
                                   has_text="01-what-do-ctc-counts-look-like.ipynb")
                try:
                    tab.wait_for(timeout=MOVE_TIMEOUT)
                except Exception:  # noqa: BLE001 - asserted below
                    pass
                opened = tab.count()
            jupyter.shutdown_kernels()
        assert not log["external"], f"{frontend}: requests to other hosts: {log['external']}"
    assert not problems, f"{frontend}: after Run All: {problems}"
    assert filled >= 150, f"{frontend}: only {filled} numbers in the Results notebooks"
    assert opened in (None, 1), "JupyterLab did not open the linked notebook"
