"""zico (Li et al., "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients", ICLR
2023): sum over layers of log( sum over weights of mean|g| / std(g) ), mean and (population) std
over minibatches, weights whose gradient does not vary left out, layers whose sum is 0 skipped.

LM adaptation: g is the gradient of the language-model loss of each minibatch of the LM pass (the
metric batch's sequences split into LM_CHUNKS = 2 minibatches, ZiCo's minimum). Layers: see grad_norm.
"""
from __future__ import annotations

import math

import torch

from tfnas.errors import ConfigError
from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import LM_CHUNKS, LM_GRAD, LMGradProbe


def layer_zico(chunks: list[list[torch.Tensor]]) -> float | None:
    """log(sum mean|g|/std(g)) over one layer's weights; None when the sum is 0 (skipped)."""
    total = 0.0
    for per_chunk in zip(*chunks):
        flat = [g.reshape(-1) for g in per_chunk]
        mean = sum(flat) / len(flat)
        std = (sum((g - mean).square() for g in flat) / len(flat)).sqrt()  # population std, as numpy's
        keep = std > 0
        mean_abs = sum(g.abs() for g in flat) / len(flat)
        total += float((mean_abs[keep] / std[keep]).sum(dtype=torch.float64))
    return math.log(total) if total > 0 else None


@register
class Zico(SummedMetric):
    """Sum over layers of log(sum of mean|g| / std(g)) over the LM pass's minibatches."""

    name = "zico"
    need = LM_GRAD.need()

    def check_batch(self, space, batch) -> None:
        size = getattr(space, "batch_size", None)
        if size is not None and size < LM_CHUNKS:
            raise ConfigError(
                "space.batch_size",
                f"zico needs the gradients of at least {LM_CHUNKS} minibatches, one sequence each at least; "
                f"the metric batch has {size}. Raise space.batch_size to >= {LM_CHUNKS}",
            )

    def terms(self, probe: LMGradProbe) -> list[float]:
        chunks = probe.lm_chunk_grads()  # chunk -> layer -> tensors
        terms = [layer_zico([chunk[i] for chunk in chunks]) for i in range(len(chunks[0]))]
        return [t for t in terms if t is not None]
