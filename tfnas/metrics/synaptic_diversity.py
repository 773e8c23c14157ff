"""Synaptic diversity (Zhou et al. 2022, as used by Serianni & Kalita 2023 for transformers):
how rich both the weights and their gradients of the token-mixing operations are."""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import DIVERSITY, DiversityProbe


@register
class SynapticDiversity(SummedMetric):
    """Sum over the linear maps of every layer's token mixing of ||W||_nuclear * ||dW||_nuclear."""

    name = "synaptic_diversity"
    need = DIVERSITY.need()

    def terms(self, probe: DiversityProbe):
        return probe.diversity_terms()
