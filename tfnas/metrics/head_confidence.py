"""Head confidence (Voita et al. 2019 style): how peaked the mixing operations' projections are over tokens."""
from __future__ import annotations

from tfnas.metrics._bert_common import SummedMetric
from tfnas.metrics.base import METRICS


@METRICS.register("head_confidence")
class HeadConfidence(SummedMetric):
    """Per projection output (b, T, f): mean over batch and features of the max over token positions; summed."""

    name = "head_confidence"
    need = "head_confidence"

    def terms(self, probe):
        return probe.head_confidence_terms()
