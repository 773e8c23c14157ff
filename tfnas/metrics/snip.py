"""snip (Lee et al., "SNIP: Single-shot Network Pruning based on Connection Sensitivity", ICLR 2019;
as a proxy: Abdelfattah et al., ICLR 2021): sum of |W * dL/dW| over the layers' weights.

LM adaptation: L is the space's language-model loss (see grad_norm for the loss and the layers).
Unlike `synaptic_saliency` (the paper's RNN definition: 1/2||y||^2 on the recurrent weights only),
every linear weight and the tied decoder/head count, as NAS-Bench-Suite-Zero counts them.
"""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register, tensor_sum
from tfnas.probe import LM_GRAD, LMGradProbe


@register
class Snip(SummedMetric):
    """Sum over layers of sum |W * dL/dW|."""

    name = "snip"
    need = LM_GRAD.need()

    def terms(self, probe: LMGradProbe) -> list[float]:
        weights = probe.layer_weights()
        return [tensor_sum((w * g).abs() for w, g in zip(ws, gs)) for (_, ws), gs in zip(weights, probe.lm_grads())]
