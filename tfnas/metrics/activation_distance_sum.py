"""The published BERT variant of activation distance: the sum of the entries of the NASWOT
kernel K instead of log|det K| (the definition, `activation_distance`)."""
from __future__ import annotations

from tfnas.metrics.base import NormalizableMetric, register
from tfnas.probe import ACTIVATION_CODES, ActivationCodesProbe


@register
class ActivationDistanceSum(NormalizableMetric):
    """Sum of K's entries; `normalized` divides by the number of activation sites."""

    name = "activation_distance_sum"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {ACTIVATION_CODES.need()}

    def compute(self, probe: ActivationCodesProbe) -> float:
        codes = probe.activation_codes()
        value = float(probe.activation_kernel().sum())
        return value / len(codes) if self.normalized and codes else value
