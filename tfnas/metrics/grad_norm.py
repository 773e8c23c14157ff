"""grad_norm (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021): the sum over
layers of the Euclidean norm of the loss gradient of the layer's weights.

LM adaptation: the loss is the space's language-model loss (RNN: next-token cross-entropy through
the tied decoder; BERT: masked-LM loss through a head tied to the embeddings, see the probes); the
layers are the linear maps NAS-Bench-Suite-Zero counts (Linear/Conv weights, no biases or norms):
each RNN cell's `linear` node (all its input weights as one layer) and the tied decoder; every BERT
Linear/Conv1d weight and the tied head.
"""
from __future__ import annotations

import math

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import LM_GRAD, LMGradProbe


@register
class GradNorm(SummedMetric):
    """Sum over layers of ||dL/dW||_2 (all of a layer's weights as one vector)."""

    name = "grad_norm"
    need = LM_GRAD.need()

    def terms(self, probe: LMGradProbe) -> list[float]:
        return [math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads)) for grads in probe.lm_grads()]
