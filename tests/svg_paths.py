"""Geometry of SVG paths for the tests: how far apart two drawn paths are.

Only the absolute commands the explorers write (M, H, V, L, Z) are read. The distance is
the symmetric Hausdorff distance between the two sets of segments, estimated from points
sampled along each path every ``step`` units.
"""

from __future__ import annotations

import re

import numpy as np

_COMMAND = re.compile(r"([MHVLZ])([^MHVLZ]*)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def segments(d: str) -> np.ndarray:
    """The straight segments of path data ``d``: rows of x1, y1, x2, y2."""
    segs: list[tuple[float, float, float, float]] = []
    x = y = x0 = y0 = 0.0
    for cmd, args in _COMMAND.findall(d):
        nums = [float(v) for v in _NUMBER.findall(args)]
        if cmd == "M":
            x, y = nums[0], nums[1]
            x0, y0 = x, y
        elif cmd == "H":
            segs.append((x, y, nums[0], y))
            x = nums[0]
        elif cmd == "V":
            segs.append((x, y, x, nums[0]))
            y = nums[0]
        elif cmd == "L":
            segs.append((x, y, nums[0], nums[1]))
            x, y = nums[0], nums[1]
        else:  # Z
            segs.append((x, y, x0, y0))
            x, y = x0, y0
    return np.array(segs, dtype=float).reshape(-1, 4)


def _sample(segs: np.ndarray, step: float) -> np.ndarray:
    points = []
    for x1, y1, x2, y2 in segs:
        k = max(1, int(np.hypot(x2 - x1, y2 - y1) / step))
        f = np.linspace(0.0, 1.0, k + 1)
        points.append(np.column_stack([x1 + f * (x2 - x1), y1 + f * (y2 - y1)]))
    return np.vstack(points) if points else np.zeros((0, 2))


def hausdorff(d1: str, d2: str, step: float = 0.05) -> float:
    """Symmetric Hausdorff distance between two paths (in their units).

    Both paths are sampled every ``step`` units (vertices included); the result is the
    largest distance from a sample of one path to the nearest sample of the other, which
    is within ``step / 2`` of the exact distance.
    """
    from scipy.spatial import cKDTree

    p1, p2 = _sample(segments(d1), step), _sample(segments(d2), step)
    if not len(p1) or not len(p2):
        return 0.0 if len(p1) == len(p2) else float("inf")
    return float(max(cKDTree(p2).query(p1)[0].max(), cKDTree(p1).query(p2)[0].max()))


def step_path(xs, ys) -> str:
    """A right-continuous staircase through (xs, ys), as explorer.js draws it."""
    d = f"M{xs[0]:.3f},{ys[0]:.3f}"
    for x, y in zip(xs[1:], ys[1:], strict=True):
        d += f"H{x:.3f}V{y:.3f}"
    return d
