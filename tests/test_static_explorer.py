"""The kernel-free explorers' data: thinned, shared and compressed curves, labels, size.

The browser tests (``test_static_explorer_browser.py``) check what the page draws; these
check the payload ``ctcbook.explorers.static`` writes, without a browser.

The thinning bound (every point of the thinned staircase within ``TOLERANCE`` SVG units of
the exact one and vice versa) follows from the merge rule of ``thin_steps``: a merged run
moves a drop at most the run's horizontal span to the left or hides at most its vertical
span, and a run only grows while one of the two is at most the tolerance.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from svg_paths import hausdorff, step_path

import ctcbook as cb
from ctcbook.explorers import static as se
from ctcbook.stats.survival import kaplan_meier

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    return cb.load_cohort(ROOT / "data")


@pytest.fixture(scope="module")
def threshold_data(shipped):
    return se.explorer_data(shipped, "threshold")


def _km(n: int, seed: int):
    rng = np.random.default_rng(seed)
    days = np.ceil(rng.exponential(400, n))
    censor = np.ceil(rng.uniform(30, 1500, n))
    time = np.minimum(days, censor) / 30.4375
    event = (days <= censor).astype(int)
    km = kaplan_meier(time, event)
    first = {"time": 0.0, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0, "censored": 0}
    cols = {c: np.concatenate(([first[c]], km[c].to_numpy(float))) for c in first}
    return cols, float(time.max())


def _svg(time, values, max_time):
    """Staircases in SVG units of the desktop plot area (as in explorer.js)."""
    x = np.asarray(time) * se.PLOT_WIDTH / max_time
    return [(x, np.nan_to_num(np.asarray(v, float)) * se.PLOT_HEIGHT) for v in values]


def test_well_separated_steps_are_kept_exactly():
    time = np.array([0.0, 1.0, 3.0, 7.0, 9.0])
    values = np.array([[1.0, 0.8, 0.6, 0.4, 0.4], [1.0, 0.7, 0.5, 0.3, 0.3]])
    t, v = se.thin_steps(time, values, max_time=10.0)
    np.testing.assert_array_equal(t, time)
    np.testing.assert_array_equal(v, values)


@pytest.mark.parametrize("n, seed", [(52, 1), (500, 2), (5_000, 3), (20_000, 4)])
def test_thinned_staircases_stay_within_the_tolerance(n, seed):
    cols, max_time = _km(n, seed)
    rows = [cols["survival"], cols["ci_lower"], cols["ci_upper"]]
    t, v = se.thin_steps(cols["time"], np.vstack(rows), max_time)
    assert t[0] == 0.0 and t[-1] == cols["time"][-1], "first and last points kept"
    exact, thinned = _svg(cols["time"], rows, max_time), _svg(t, v, max_time)
    for (x1, y1), (x2, y2) in zip(exact, thinned, strict=True):
        distance = hausdorff(step_path(x1, y1), step_path(x2, y2))
        assert distance <= se.TOLERANCE + 0.03, f"n={n}: {distance:.3f} SVG units apart"
    # a few hundred points per curve at any n (provable bound: PLOT_WIDTH / TOLERANCE)
    assert len(t) <= se.PLOT_WIDTH / se.TOLERANCE + 2
    if n >= 5_000:
        assert len(t) <= 400, f"{len(t)} points kept of {len(cols['time'])}"


def test_encoded_curve_decodes_to_the_estimate():
    cols, max_time = _km(300, 5)
    curve = pd.DataFrame(cols)
    encoded = se.encode_curve(curve, max_time, thin=False)
    time = np.cumsum(encoded["t"]) * se.TIME_UNIT
    survival = 1 - np.cumsum(encoded["s"]) * se.PROB_UNIT
    lower = 1 - np.cumsum(encoded["lo"]) * se.PROB_UNIT
    marks = np.cumsum(encoded["c"]) * se.TIME_UNIT
    np.testing.assert_allclose(time, cols["time"], atol=se.TIME_UNIT / 2 + 1e-9)
    np.testing.assert_allclose(survival, cols["survival"], atol=se.PROB_UNIT / 2 + 1e-9)
    np.testing.assert_allclose(lower, np.nan_to_num(cols["ci_lower"]), atol=se.PROB_UNIT / 2 + 1e-9)
    np.testing.assert_allclose(marks, cols["time"][cols["censored"] > 0], atol=se.TIME_UNIT / 2 + 1e-9)


def test_curves_that_repeat_are_stored_once(threshold_data):
    refs = [ref for r in threshold_data["results"] for ref in r["curves"]]
    store = threshold_data["curves"]
    assert all(0 <= i < len(store) for _, i in refs)
    assert len({i for _, i in refs}) == len(store), "every stored curve is used"
    # thresholds above counts nobody has give the same groups: far fewer curves than uses
    assert len(store) < 0.75 * len(refs), (len(store), len(refs))


def test_page_carries_the_data_compressed(shipped):
    page = cb.explorer_html(shipped, "her2")
    packed = re.search(r"data-encoding='deflate'>([A-Za-z0-9+/=]+)</script>", page).group(1)
    data = json.loads(zlib.decompress(base64.b64decode(packed)).decode("utf-8"))
    assert data == json.loads(json.dumps(se.explorer_data(shipped, "her2")))
    plain = cb.explorer_html(shipped, "her2", compress=False)
    assert "class='ctcx-data'>{" in plain


def test_threshold_one_reads_zero_not_below_one(shipped):
    labels = {}
    for tp in ("first_follow_up", "any", "change"):
        labels[tp] = list(cb.explore(shipped, 1, tp, endpoint="os", grouping="ctc_count")
                          .groups["label"])
    assert labels["first_follow_up"] == ["0 CTCs", "≥ 1 CTC"]
    assert labels["any"] == ["0 CTCs at every draw", "≥ 1 CTC at any draw"]
    assert labels["change"] == ["0 → 0", "0 → ≥ 1", "≥ 1 → 0", "≥ 1 → ≥ 1"]
    assert list(cb.explore(shipped, 5, "change", grouping="ctc_count").groups["label"]) == [
        "< 5 → < 5", "< 5 → ≥ 5", "≥ 5 → < 5", "≥ 5 → ≥ 5"]


@pytest.mark.parametrize("kind", ["threshold", "her2"])
def test_no_explorer_title_or_label_nests_parentheses(kind, shipped, threshold_data):
    data = threshold_data if kind == "threshold" else se.explorer_data(shipped, kind)
    nested = re.compile(r"\([^()]*\(")
    texts = [r["title"] for r in data["results"]]
    texts += [g["label"] for r in data["results"] for g in r["groups"]]
    assert not [t for t in texts if nested.search(t) or "< 1 " in t or "≥ 1 CTCs" in t]
    assert any("≥ 50% of CTCs HER2+, ≥ 2 CTCs" in t for t in texts) or kind == "threshold"


def test_note_is_not_drawn_over_the_curves(shipped):
    """Change mode with an empty group: the note sits above the axes, not on the curves."""
    result = cb.explore(shipped, 5, "change", endpoint="os", grouping="ctc_count")
    empty = result.groups.loc[result.groups["n"] == 0]
    if not len(empty):
        pytest.skip("this cohort has no empty change group at threshold 5")
    ax = result.draw()
    notes = [t for t in ax.texts if t.get_text().startswith("No patient")]
    assert len(notes) == 1
    assert notes[0].get_position()[1] >= 1.0, "the note is inside the plot area"


def test_explorer_page_stays_small_at_registry_size():
    """20,000 patients: every curve thinned to a few hundred points, the page well under 2 MB.

    The HER2 explorer is built here (32 results; the 500-result threshold explorer takes
    minutes at this size: benchmarks/bench_explorer_size.py measures every explorer).
    """
    cohort = cb.simulate_cohort(20_000, seed=3)
    data = se.explorer_data(cohort, "her2")
    assert max(len(c["t"]) for c in data["curves"]) <= 400
    assert max(len(c["c"]) for c in data["curves"]) <= se.PLOT_WIDTH / se.MARK_SPACING + 1
    size = len(cb.explorer_html(cohort, "her2").encode("utf-8"))
    assert size < 300_000, f"{size / 1e6:.2f} MB"
