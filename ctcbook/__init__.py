"""ctcbook: the helper package of an interactive book of Hayashi et al. (2012).

Hayashi N, et al. Prognostic value of HER2-positive circulating tumor cells in
patients with metastatic breast cancer. Int J Clin Oncol 2012;17(2):96-104.
doi:10.1007/s10147-011-0260-0

The package is importable without Jupyter. Its public names are loaded lazily, so
``import ctcbook`` is fast and a module's heavy dependencies (lifelines, matplotlib,
ipywidgets) are imported only when one of its names is first used.

Layers
------
Each layer imports only from the layers above it in this list
(``tests/test_layers.py`` checks it).

cohort       the cohort format (``format``), its forgiving reader and checks (``reading``,
             ``checks``), loader and writer (``io``), spreadsheets (``convert``),
             the paper's numbers and choices (``paper``), CTC and HER2 rules (``rules``)
stats        survival analyses (``survival``, ``timevarying``, ``firth``), cutpoints,
             resampling, model checks, power, agreement; one private vectorised engine
report       the book's tables, figures, scorecard and glue helpers
simulation   the seeded synthetic cohort and the simulation studies
explorers    one computation behind the explorers (``core``), the kernel-free HTML
             explorers (``static``) and the ipywidgets front end (``widgets``)
publish      the book's Sphinx extension, PDFs and the class kit
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API: dict[str, str] = {
    # cohort
    "Cohort": "cohort.format",
    "CohortError": "cohort.format",
    "load_cohort": "cohort.io",
    "validate_cohort": "cohort.io",
    "write_cohort": "cohort.io",
    "cohort_path": "cohort.format",
    "Problem": "cohort.format",
    "from_wide": "cohort.convert",
    "to_wide": "cohort.convert",
    # markers
    "HER2Rule": "cohort.rules",
    "patient_table": "cohort.rules",
    "ctc_positive": "cohort.rules",
    "her2_positive_ctc": "cohort.rules",
    # survival
    "kaplan_meier": "stats.survival",
    "median_survival": "stats.survival",
    "km_quantile": "stats._engine.curves",
    "cox_firth": "stats.firth",
    "hazard_ratio_intervals": "stats.firth",
    "round_hr": "stats.firth",
    "risk_table": "stats.survival",
    "logrank": "stats.survival",
    "cox": "stats.survival",
    "ModelError": "stats.survival",
    # cutpoints
    "logrank_sweep": "stats.cutpoints",
    "maxstat": "stats.cutpoints",
    "best_cutpoints": "stats.cutpoints",
    # time-varying
    "landmark": "stats.timevarying",
    "default_landmark_day": "stats.timevarying",
    "cox_time_varying": "stats.timevarying",
    "counting_process": "stats.timevarying",
    "compare_timepoint_analyses": "stats.timevarying",
    # plotting
    "style": "report.figures",
    "plot_km": "report.figures",
    "PALETTE": "report.figures",
    "plot_forest": "report.figures",
    "plot_rmst": "report.figures",
    "plot_simon_makuch": "report.figures",
    "plot_schoenfeld": "report.figures",
    "plot_ctc_distribution": "report.cohort_figures",
    "plot_paired_counts": "report.cohort_figures",
    "plot_her2_concordance": "report.cohort_figures",
    "plot_cutpoint_sweep": "report.study_figures",
    "plot_stability": "report.study_figures",
    "plot_power": "report.study_figures",
    "plot_rejection_rates": "report.study_figures",
    # tables (Table 1, result tables, agreement)
    "html_table": "report.tables",
    "p_text": "report.tables",
    "whole_numbers": "cohort.io",
    "format_p": "cohort.paper",
    "DAYS_PER_MONTH": "cohort.paper",
    "COVARIATE_LABELS": "cohort.paper",
    "MULTIVARIATE_COVARIATES": "cohort.paper",
    "published": "cohort.paper",
    "ctc_change_labels": "cohort.rules",
    "comparison_table": "report.tables",
    "format_hr": "cohort.paper",
    "table1": "report.tables",
    "follow_up": "stats.compare",
    "cohen_kappa": "stats.agreement",
    "kappa_max": "stats.agreement",
    "her2_concordance": "stats.agreement",
    "compare_survival": "stats.compare",
    "cox_table": "stats.compare",
    "format_cox_table": "report.tables",
    # scorecard (published numbers beside the book's)
    "compute_scorecard": "report.scorecard",
    "scorecard_counts": "report.scorecard",
    "scorecard_html": "report.scorecard",
    "describe_p": "report.scorecard",
    # synthetic
    "simulate_cohort": "simulation.synthetic",
    # simulation studies, resampling, power (Beyond the paper)
    "cutpoint_type1_error": "simulation.studies",
    "guarantee_time_study": "simulation.guarantee",
    "simulate_power": "simulation.studies",
    "run_batches": "simulation.runner",
    "summary_table": "simulation.studies",
    "bootstrap": "stats.resampling",
    "permutation_logrank": "stats.resampling",
    "sensitivity": "stats.resampling",
    "stability": "stats.resampling",
    "stability_summary": "stats.resampling",
    "schoenfeld_events": "stats.power",
    "schoenfeld_power": "stats.power",
    "event_probability": "stats.power",
    "sample_size": "stats.power",
    "sample_size_table": "stats.power",
    # model checks (Do the models hold?)
    "ph_test": "stats.ph",
    "ph_table": "stats.ph",
    "book_cox_models": "stats.ph",
    "schoenfeld_residuals": "stats.ph",
    "rmst_difference": "stats.modelcheck",
    "adjust_pvalues": "stats.modelcheck",
    "results_tests": "stats.modelcheck",
    "events_per_variable": "stats.modelcheck",
    "collinearity": "stats.modelcheck",
    "added_value": "stats.modelcheck",
    "simon_makuch": "stats.timevarying",
    # explorers
    "explore": "explorers.core",
    "Exploration": "explorers.exploration",
    "explorer_widget": "explorers.widgets",
    "explorer_html": "explorers.static",
    "explorer_data": "explorers.static",
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
