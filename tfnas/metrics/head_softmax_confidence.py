"""Head softmax confidence: how peaked the attention distributions are.

The definition takes, per head and query token, the largest attention probability (max over
keys) and averages. The published code instead took the max over heads (per query/key pair):
that variant is `head_softmax_confidence_maxhead`. Layers without softmax attention (LT) add no
term; an architecture with none has sum 0 and an undefined normalised value.
"""
from __future__ import annotations

from tfnas.metrics._bert_common import SummedMetric
from tfnas.metrics.base import METRICS


@METRICS.register("head_softmax_confidence")
class HeadSoftmaxConfidence(SummedMetric):
    """Sum over attention operations of the mean (over batch, heads, query tokens) of the max probability over keys."""

    name = "head_softmax_confidence"
    need = "softmax_confidence"
    max_over = "keys"

    def terms(self, probe):
        return probe.softmax_confidence_terms(self.max_over)


@METRICS.register("head_softmax_confidence_maxhead")
class HeadSoftmaxConfidenceMaxHead(HeadSoftmaxConfidence):
    """The published variant: mean over (batch, query, key) of the max probability over heads."""

    name = "head_softmax_confidence_maxhead"
    max_over = "heads"
