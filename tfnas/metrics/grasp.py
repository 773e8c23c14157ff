"""grasp (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient Flow", ICLR
2020; as a proxy: Abdelfattah et al., ICLR 2021): sum of -W * (H g) over the layers' weights, H the
Hessian and g the gradient of the loss (Hg by double back-propagation, exact; temperature 1).

LM adaptation: L is the space's language-model loss over the whole metric batch (see grad_norm for
the loss and the layers); H g is summed over the LM pass's minibatches weighted by their tokens,
which is the Hessian-gradient product of the batch loss.
"""
from __future__ import annotations

from tfnas.metrics._layer_sum import LayerSumMetric, tensor_sum
from tfnas.metrics.base import METRICS


@METRICS.register("grasp")
class Grasp(LayerSumMetric):
    """Sum over layers of sum -W * Hg."""

    name = "grasp"
    need = "lm_hessian"

    def layer_terms(self, probe) -> list[float]:
        weights = probe.layer_weights()
        return [tensor_sum(-w * h for w, h in zip(ws, hs)) for (_, ws), hs in zip(weights, probe.lm_hessian_grads())]
