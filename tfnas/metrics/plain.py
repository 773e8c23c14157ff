"""plain (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, after Mozer &
Smolensky 1989): sum of W * dL/dW (signed, no absolute value) over the layers' weights.

LM adaptation: L is the space's language-model loss (see grad_norm for the loss and the layers).
"""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register, tensor_sum
from tfnas.probe import LM_GRAD, LMGradProbe


@register
class Plain(SummedMetric):
    """Sum over layers of sum W * dL/dW."""

    name = "plain"
    need = LM_GRAD.need()

    def terms(self, probe: LMGradProbe) -> list[float]:
        weights = probe.layer_weights()
        return [tensor_sum(w * g for w, g in zip(ws, gs)) for (_, ws), gs in zip(weights, probe.lm_grads())]
