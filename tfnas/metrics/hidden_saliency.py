"""Hidden synaptic saliency (Serianni & Kalita 2023): saliency of the hidden states instead of the weights."""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.probe import HIDDEN_SALIENCY, HiddenSaliencyProbe


@register
class HiddenSynapticSaliency(Metric):
    """Sum of |h * dL/dh| over the h_prev_0 entering every step of every layer, L = 1/2 ||y||^2.

    Shares its backward pass with synaptic saliency. Published tau with the PTB loss is +0.268:
    large hidden saliency goes with a worse model, so lower is better.
    """

    name = "hidden_saliency"
    higher_is_better = False

    def needs(self) -> set[str]:
        return {HIDDEN_SALIENCY.need()}

    def compute(self, probe: HiddenSaliencyProbe) -> float:
        return float(probe.hidden_saliency())
