"""The cohort and its rules: format, loader, writer, conversion, the paper's numbers, CTC/HER2 rules."""
