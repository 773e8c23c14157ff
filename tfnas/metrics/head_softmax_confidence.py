"""Head softmax confidence: how peaked the attention distributions are.

The definition takes, per head and query token, the largest attention probability (max over
keys) and averages. The published code instead took the max over heads (per query/key pair):
that variant is `head_softmax_confidence_maxhead`. Layers without softmax attention (LT) add no
term; an architecture with none has sum 0 and an undefined normalised value.
"""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import SOFTMAX_CONFIDENCE, SoftmaxConfidenceProbe


@register
class HeadSoftmaxConfidence(SummedMetric):
    """Sum over attention operations of the mean (over batch, heads, query tokens) of the max probability over keys."""

    name = "head_softmax_confidence"
    need = SOFTMAX_CONFIDENCE.need()

    def terms(self, probe: SoftmaxConfidenceProbe):
        return probe.softmax_confidence_terms("keys")
