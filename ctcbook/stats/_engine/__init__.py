"""The one private vectorised engine: risk sets, log-rank, Cox, Kaplan-Meier quantiles.

Every hand-written survival computation of the package is here, and only here; the public
functions (:mod:`ctcbook.stats.survival`, :mod:`~ctcbook.stats.cutpoints`,
:mod:`~ctcbook.stats.resampling`, the simulation studies, the explorers) validate their
inputs and call it. It exists where speed is measured to matter (``benchmarks/``): a
slider move of an explorer, thousands of bootstrap resamples, permutations, cutpoints and
simulated studies evaluated at once. ``tests/test_engine.py`` checks every analysis the
book shows against lifelines.

Numpy arrays in, arrays out, in four modules: ``curves`` (one data set), ``rows`` (many
versions of one data set), ``variations`` (every patient left out or changed, for the
sensitivity analysis) and ``cox`` (Cox regression); all but ``variations`` are imported
here:

* :func:`km_curve` and :func:`km_quantile` (R ``survfit``'s quantile rule);
* :func:`logrank_groups` (k groups) and, for many versions of one data set at once,
  :func:`tables` (weighted risk-set counts per row), :func:`logrank_tables`,
  :func:`cox_binary_rows` (Efron, binary covariate) and :func:`km_median_rows`;
* :func:`sweep` (the two-group log-rank at every cutpoint of a marker) and
  :func:`logrank_scores`;
* :func:`score_test_batch` (Cox score test of a covariate that may switch on, for many
  simulated studies);
* :class:`CoxData` and :func:`newton` (Cox regression with Efron or Breslow ties and
  counting-process data).

References
----------
.. [1] Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model.
   Springer 2000, chapter 3 and appendix E.
"""

from ctcbook.stats._engine.cox import CoxData, fit_problem, newton
from ctcbook.stats._engine.curves import (
    CELLS,
    Z975,
    chi2_1_sf,
    km_curve,
    km_quantile,
    logrank_groups,
    logrank_scores,
    score_test_batch,
    sweep,
    time_event,
)
from ctcbook.stats._engine.rows import (
    chunk_rows,
    cox_binary_rows,
    km_median_rows,
    logrank_result,
    logrank_rows,
    logrank_tables,
    tables,
)

__all__ = [
    "CELLS", "Z975", "CoxData", "fit_problem", "chi2_1_sf", "chunk_rows", "cox_binary_rows",
    "km_curve", "km_median_rows", "km_quantile", "logrank_groups", "logrank_result",
    "logrank_rows", "logrank_scores", "logrank_tables", "newton", "score_test_batch", "sweep",
    "tables", "time_event",
]
