"""Analyses of labelled architectures: which architecture fields drive the benchmark's target."""
from tfnas.analysis.qualitative import FieldEffect, PruningRule, field_effects, ordinal_baseline, pruning_rule

__all__ = ["FieldEffect", "PruningRule", "field_effects", "ordinal_baseline", "pruning_rule"]
