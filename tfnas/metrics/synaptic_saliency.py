"""Synaptic saliency (SynFlow-style): sum of |theta * dL/dtheta| over the weights a space designates.

The probe's `saliency_terms()` hold one tensor |theta * grad| per designated weight tensor (which
weights, and which loss, is the space's choice from the paper: RNN recurrent weights and decoder; BERT
feed-forward layers). `synflow`, the name NAS-Bench-Suite-Zero uses (Tanaka et al., "Pruning neural
networks without any data by iteratively conserving synaptic flow", NeurIPS 2020, as the paper applies
it), is this metric under that name: it lives here because it is the same definition.
"""
from __future__ import annotations

from tfnas.metrics.base import NormalizableMetric, register
from tfnas.probe import SALIENCY, SaliencyProbe


@register
class SynapticSaliency(NormalizableMetric):
    """Sum of saliencies; `normalized` divides by the number of weight tensors."""

    name = "synaptic_saliency"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {SALIENCY.need()}

    def compute(self, probe: SaliencyProbe) -> float:
        terms = probe.saliency_terms()
        total = float(sum(t.sum() for t in terms))
        return total / len(terms) if self.normalized and terms else total


@register
class Synflow(SynapticSaliency):
    """`synaptic_saliency` under the name NAS-Bench-Suite-Zero uses (same definition and values, its own column)."""

    name = "synflow"
    alias_of = SynapticSaliency.name
