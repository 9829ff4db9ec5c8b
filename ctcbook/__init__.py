"""ctcbook: the helper package of an interactive book of Hayashi et al. (2012).

Hayashi N, et al. Prognostic value of HER2-positive circulating tumor cells in
patients with metastatic breast cancer. Int J Clin Oncol 2012;17(2):96-104.
doi:10.1007/s10147-011-0260-0

The package is importable without Jupyter. Its public names are loaded lazily, so
``import ctcbook`` is fast and a module's heavy dependencies (lifelines, matplotlib,
ipywidgets) are imported only when one of its names is first used.

Modules
-------
cohort       the cohort format, the validating loader and the writer
convert      one-row-per-patient spreadsheets to and from the cohort format
synthetic    the seeded generator of synthetic cohorts and its calibration
markers      CTC-positive and HER2-positive-CTC rules, the one-row-per-patient table
survival     Kaplan-Meier, risk tables, log-rank tests, Cox models
cutpoints    vectorised log-rank sweeps and maximally selected log-rank statistics
timevarying  landmark analyses and Cox models with a time-varying marker
plotting     the book's figure style, Kaplan-Meier plots with risk tables, forest plots
exploration  one computation behind the explorers (``ctcbook.explore``) (Jupyter widgets and static HTML)
widgets      the ipywidgets front end (imports ipywidgets)
paper        the published numbers and the scorecard
studies      simulation studies (best-cutpoint type I error, guarantee time, power)
resampling   bootstrap intervals, permutation log-rank, leave-one-out sensitivity
power        Schoenfeld's events and sample size
modelcheck   proportional-hazards tests, RMST, multiplicity, EPV, added value, Simon-Makuch
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API: dict[str, str] = {
    # cohort
    "Cohort": "cohort",
    "CohortError": "cohort",
    "load_cohort": "cohort",
    "validate_cohort": "cohort",
    "write_cohort": "cohort",
    "cohort_path": "cohort",
    "Problem": "cohort",
    "from_wide": "convert",
    "to_wide": "convert",
    # markers
    "HER2Rule": "markers",
    "patient_table": "markers",
    "ctc_positive": "markers",
    "her2_positive_ctc": "markers",
    # survival
    "kaplan_meier": "survival",
    "median_survival": "survival",
    "km_quantile": "survival",
    "cox_firth": "firth",
    "hazard_ratio_intervals": "firth",
    "round_hr": "firth",
    "risk_table": "survival",
    "logrank": "survival",
    "cox": "survival",
    "ModelError": "survival",
    # cutpoints
    "logrank_sweep": "cutpoints",
    "maxstat": "cutpoints",
    "best_cutpoints": "cutpoints",
    # time-varying
    "landmark": "timevarying",
    "cox_time_varying": "timevarying",
    "compare_timepoint_analyses": "timevarying",
    # plotting
    "style": "plotting",
    "plot_km": "plotting",
    "plot_ctc_distribution": "plotting",
    "PALETTE": "plotting",
    "plot_forest": "plotting",
    # tables (Table 1, result tables, agreement)
    "html_table": "tables",
    "whole_numbers": "tables",
    "format_p": "tables",
    "format_hr": "tables",
    "table1": "tables",
    "follow_up": "tables",
    "cohen_kappa": "tables",
    "kappa_max": "tables",
    "her2_concordance": "tables",
    "compare_survival": "tables",
    "cox_table": "tables",
    "format_cox_table": "tables",
    # scorecard (published numbers beside the book's)
    "compute_scorecard": "scorecard",
    "scorecard_counts": "scorecard",
    "scorecard_html": "scorecard",
    # synthetic
    "simulate_cohort": "synthetic",
    # simulation studies, resampling, power (Beyond the paper)
    "cutpoint_type1_error": "studies",
    "guarantee_time_study": "studies",
    "simulate_power": "studies",
    "run_batches": "studies",
    "summary_table": "studies",
    "bootstrap": "resampling",
    "permutation_logrank": "resampling",
    "sensitivity": "resampling",
    "stability": "resampling",
    "stability_summary": "resampling",
    "schoenfeld_events": "power",
    "schoenfeld_power": "power",
    "event_probability": "power",
    "sample_size": "power",
    "sample_size_table": "power",
    # model checks (Do the models hold?)
    "ph_test": "modelcheck",
    "ph_table": "modelcheck",
    "book_cox_models": "modelcheck",
    "rmst_difference": "modelcheck",
    "adjust_pvalues": "modelcheck",
    "results_tests": "modelcheck",
    "events_per_variable": "modelcheck",
    "collinearity": "modelcheck",
    "added_value": "modelcheck",
    "simon_makuch": "modelcheck",
    # explorers
    "explore": "exploration",
    "Exploration": "exploration",
    "explorer_widget": "widgets",
    "explorer_html": "static_explorer",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'ctcbook' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ctcbook.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
