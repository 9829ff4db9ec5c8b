"""The explorers: one computation (core), kernel-free HTML (static), ipywidgets (widgets)."""
