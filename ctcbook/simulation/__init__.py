"""The seeded synthetic cohort and the simulation studies."""
