"""The published BERT variant of activation distance: the sum of the entries of the NASWOT
kernel K instead of log|det K| (the definition, `activation_distance`)."""
from __future__ import annotations

from tfnas.metrics.activation_distance import activation_kernel
from tfnas.metrics.base import METRICS, NormalizableMetric


@METRICS.register("activation_distance_sum")
class ActivationDistanceSum(NormalizableMetric):
    """Sum of K's entries; `normalized` divides by the number of activation sites."""

    name = "activation_distance_sum"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"activation_codes"}

    def compute(self, probe) -> float:
        codes = probe.activation_codes()
        value = float(activation_kernel(probe).sum())
        return value / len(codes) if self.normalized and codes else value
