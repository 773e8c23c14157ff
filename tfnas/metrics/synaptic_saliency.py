"""Synaptic saliency (SynFlow-style): sum of |theta * dL/dtheta| over the weights a space designates.

Probe protocol: need ``saliency`` -> ``probe.saliency_terms()``, a list with one tensor
|theta * grad| per designated weight tensor (which weights, and which loss, is the space's
choice from the paper: RNN recurrent weights and decoder; BERT feed-forward layers).
"""
from __future__ import annotations

from tfnas.metrics.base import METRICS, NormalizableMetric


@METRICS.register("synaptic_saliency")
class SynapticSaliency(NormalizableMetric):
    """Sum of saliencies; `normalized` divides by the number of weight tensors."""

    name = "synaptic_saliency"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"saliency"}

    def compute(self, probe) -> float:
        terms = probe.saliency_terms()
        total = float(sum(t.sum() for t in terms))
        return total / len(terms) if self.normalized and terms else total
