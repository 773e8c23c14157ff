"""grasp (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient Flow", ICLR
2020; as a proxy: Abdelfattah et al., ICLR 2021): sum of -W * (H g) over the layers' weights, H the
Hessian and g the gradient of the loss (Hg by double back-propagation; temperature 1).

LM adaptation: L is the space's language-model loss over the whole metric batch (see grad_norm for
the loss and the layers), and g its gradient. H is the Hessian of the loss of the first
`hessian_minibatches` of the LM pass's minibatches (token-weighted): by default one of the two, an
unbiased estimate of the batch Hessian that halves the double backward, the pass that dominates the
zoo's cost; `hessian_minibatches=2` is the whole batch's exact H g.
"""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register, tensor_sum
from tfnas.probe import HESSIAN_MINIBATCHES, LM_CHUNKS, LM_HESSIAN, LMHessianProbe


@register
class Grasp(SummedMetric):
    """Sum over layers of sum -W * Hg."""

    name = "grasp"

    def __init__(self, normalized: bool = False, hessian_minibatches: int = HESSIAN_MINIBATCHES):
        super().__init__(normalized)
        self.hessian_minibatches = LM_HESSIAN.argument.validate(hessian_minibatches)
        self.need = LM_HESSIAN.need(self.hessian_minibatches)

    @property
    def key(self) -> str:
        """`grasp` (the default estimate), `grasp_full` (the exact batch Hessian): never one column for both."""
        if self.hessian_minibatches == HESSIAN_MINIBATCHES:
            return super().key
        suffix = "full" if self.hessian_minibatches == LM_CHUNKS else f"h{self.hessian_minibatches}"
        return f"{self.name}_{suffix}" + ("_norm" if self.normalized else "")

    @property
    def variant_of(self) -> str | None:
        """grasp_full is a variant of grasp: the two Hessians cannot share one probe."""
        return None if self.hessian_minibatches == HESSIAN_MINIBATCHES else super().key

    def terms(self, probe: LMHessianProbe) -> list[float]:
        weights = probe.layer_weights()
        return [tensor_sum(-w * h for w, h in zip(ws, hs)) for (_, ws), hs in zip(weights, probe.lm_hessian_grads())]
