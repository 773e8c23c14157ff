"""Data shipped with tfnas (see PROVENANCE.md and the licence file in each folder)."""
