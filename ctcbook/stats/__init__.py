"""The statistics: survival analyses, cutpoints, resampling, model checks, power, agreement."""
