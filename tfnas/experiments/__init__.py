"""Experiments that reproduce and extend the paper's tables (used by the scripts in `scripts/`)."""
