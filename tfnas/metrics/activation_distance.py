"""Activation distance (NASWOT, Mellor et al., "Neural Architecture Search without Training", ICML 2021): how
distinct the binary activation codes of inputs are.

The probe's `activation_kernel()` is K = sum over activation sites of x xT + (1 - x)(1 - x)T over its
`activation_codes()` (one row per input: sequence or token); the score is log|det K|. `nwot`, the name
NAS-Bench-Suite-Zero uses, is this metric under that name: it lives here because it is the same definition.
"""
from __future__ import annotations

import torch

from tfnas.metrics.base import NormalizableMetric, register
from tfnas.probe import ACTIVATION_CODES, ActivationCodesProbe


@register
class ActivationDistance(NormalizableMetric):
    """log|det K| (the metric's definition); `normalized` divides by the number of activation sites."""

    name = "activation_distance"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {ACTIVATION_CODES.need()}

    def compute(self, probe: ActivationCodesProbe) -> float:
        codes = probe.activation_codes()
        sign, logdet = torch.linalg.slogdet(probe.activation_kernel())
        value = float(logdet) if sign != 0 else float("-inf")
        return value / len(codes) if self.normalized and codes else value


@register
class Nwot(ActivationDistance):
    """`activation_distance` under the name NAS-Bench-Suite-Zero uses (same definition and values, its own column)."""

    name = "nwot"
    alias_of = ActivationDistance.name
