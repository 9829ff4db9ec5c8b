"""Running a simulation study: seeded batches through joblib, a progress bar, the result.

Every study draws its replications in fixed-size batches; batch ``k`` uses the random
stream ``SeedSequence(seed).spawn(...)[k]``, so results do not depend on how the
batches are spread over workers. Batches run through :class:`joblib.Parallel`, so the
same call runs on more cores (``n_jobs=2``) or on a Dask cluster, unchanged::

    from dask.distributed import Client
    import joblib
    client = Client("scheduler-address:8786")
    with joblib.parallel_backend("dask"):
        result = cutpoint_type1_error(n_sim=100_000, seed=1)

A progress bar (``tqdm.auto``) is shown in an interactive Jupyter session or terminal
and hidden in the book build (see :func:`show_progress`).
"""

from __future__ import annotations

import os
import sys
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["StudyResult", "show_progress", "run_batches"]


def show_progress(progress: bool | None = None) -> bool:
    """Whether to show a progress bar.

    Parameters
    ----------
    progress : bool or None
        ``True``/``False`` force it on/off. ``None`` (the default of every study)
        decides: off when the environment variable ``CTCBOOK_QUIET`` is ``1``; in a
        Jupyter kernel, on only when the kernel was started by a Jupyter server (which
        sets ``JPY_SESSION_NAME``), so headless execution (the book build, nbclient,
        the test-suite) stays quiet; elsewhere, on when standard error is a terminal.

    Returns
    -------
    bool
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("CTCBOOK_QUIET", "") == "1":
        return False
    ipython = sys.modules.get("IPython")  # imported only where a shell runs
    shell = getattr(ipython, "get_ipython", lambda: None)()
    if type(shell).__name__ == "ZMQInteractiveShell":
        return "JPY_SESSION_NAME" in os.environ
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def run_batches(
    draw: Callable[[np.random.Generator, int], dict[str, np.ndarray]],
    n_sim: int,
    seed: int,
    *,
    batch_size: int = 250,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    desc: str = "simulating",
) -> tuple[pd.DataFrame, float]:
    """Run ``n_sim`` replications of ``draw`` in seeded batches, possibly in parallel.

    Parameters
    ----------
    draw : callable
        ``draw(rng, size)`` returns a dict of 1-d arrays of length ``size`` (one value
        per replication). It must be picklable (a module-level function or a
        :func:`functools.partial` of one) for process or cluster backends.
    n_sim : int
        Number of replications.
    seed : int
        Seed; batch k uses ``numpy.random.default_rng(SeedSequence(seed).spawn(K)[k])``.
    batch_size : int
        Replications per batch (and per task sent to a worker).
    n_jobs : int, optional
        Passed to :class:`joblib.Parallel`. ``None`` means joblib's default: 1 (run in
        this process) unless a ``joblib.parallel_backend`` context says otherwise.
    backend : str, optional
        Passed to :class:`joblib.Parallel` (``"loky"``, ``"threading"``, ``"dask"``...).
        ``None`` uses the active ``joblib.parallel_backend`` context, if any.
    progress : bool, optional
        Progress bar over batches (see :func:`show_progress`).
    desc : str
        Label of the progress bar.

    Returns
    -------
    (pandas.DataFrame, float)
        One row per replication (in batch order, so identical whatever ``n_jobs``),
        and the elapsed wall-clock time in seconds.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    n_sim = int(n_sim)
    if n_sim < 1:
        raise ValueError("n_sim must be >= 1")
    sizes = [batch_size] * (n_sim // batch_size)
    if n_sim % batch_size:
        sizes.append(n_sim % batch_size)
    seqs = np.random.SeedSequence(int(seed)).spawn(len(sizes))
    start = _time.perf_counter()
    tasks = (delayed(_one_batch)(draw, s, k) for s, k in zip(seqs, sizes, strict=True))
    parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")
    results = tqdm(parallel(tasks), total=len(sizes), desc=desc, unit="batch",
                   disable=not show_progress(progress))
    frames = [pd.DataFrame(r) for r in results]
    return pd.concat(frames, ignore_index=True), _time.perf_counter() - start


def _one_batch(draw, seq: np.random.SeedSequence, size: int) -> dict[str, np.ndarray]:
    return draw(np.random.default_rng(seq), size)


@dataclass(frozen=True)
class StudyResult:
    """Summary of a simulation study.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per analysis (or design point) with the estimate and its Monte Carlo
        standard error.
    replications : pandas.DataFrame
        One row per simulated data set (per analysis): the raw results.
    n_sim : int
        Number of simulated data sets (per design point).
    seconds : float
        Wall-clock time of the simulation.
    settings : dict
        The arguments of the study.
    """

    summary: pd.DataFrame
    replications: pd.DataFrame = field(repr=False)
    n_sim: int = 0
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)


def _mc_se(p: np.ndarray | float, n: int) -> np.ndarray | float:
    """Monte Carlo standard error of a proportion estimated from ``n`` replications."""
    return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / n)
