"""The published code's head softmax confidence: per query/key pair, the max attention probability over
heads, averaged (the definition, max over keys, is `head_softmax_confidence`)."""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import SOFTMAX_CONFIDENCE, SoftmaxConfidenceProbe


@register
class HeadSoftmaxConfidenceMaxHead(SummedMetric):
    """Sum over attention operations of the mean over (batch, query, key) of the max probability over heads."""

    name = "head_softmax_confidence_maxhead"
    need = SOFTMAX_CONFIDENCE.need()

    def terms(self, probe: SoftmaxConfidenceProbe):
        return probe.softmax_confidence_terms("heads")
