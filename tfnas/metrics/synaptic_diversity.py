"""Synaptic diversity (Zhou et al. 2022, as used by Serianni & Kalita 2023 for transformers):
how rich both the weights and their gradients of the token-mixing operations are."""
from __future__ import annotations

from tfnas.metrics._bert_common import SummedMetric
from tfnas.metrics.base import METRICS


@METRICS.register("synaptic_diversity")
class SynapticDiversity(SummedMetric):
    """Sum over the linear maps of every layer's token mixing of ||W||_nuclear * ||dW||_nuclear."""

    name = "synaptic_diversity"
    need = "diversity"

    def terms(self, probe):
        return probe.diversity_terms()
