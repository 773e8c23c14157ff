"""Head confidence (Voita et al. 2019 style): how peaked the mixing operations' projections are over tokens."""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import HEAD_CONFIDENCE, HeadConfidenceProbe


@register
class HeadConfidence(SummedMetric):
    """Per projection output (b, T, f): mean over batch and features of the max over token positions; summed."""

    name = "head_confidence"
    need = HEAD_CONFIDENCE.need()

    def terms(self, probe: HeadConfidenceProbe):
        return probe.head_confidence_terms()
