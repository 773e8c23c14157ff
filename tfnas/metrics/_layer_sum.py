"""Shared shape of the layer-wise zero-cost proxies: one term per layer of the probe, summed
(or, for the `_norm` variant, averaged over layers: the BERT convention of the paper)."""
from __future__ import annotations

import math

import torch

from tfnas.metrics.base import NormalizableMetric


def tensor_sum(tensors) -> float:
    return float(sum(t.sum(dtype=torch.float64) for t in tensors))


class LayerSumMetric(NormalizableMetric):
    """Sum over the probe's layers of `layer_terms(probe)`; `_norm` divides by their number."""

    higher_is_better = True
    need: str = "lm_grad"

    def needs(self) -> set[str]:
        return {self.need}

    def layer_terms(self, probe) -> list[float]:
        raise NotImplementedError

    def compute(self, probe) -> float:
        terms = self.layer_terms(probe)
        total = float(sum(terms))
        if self.normalized:
            return total / len(terms) if terms else math.nan
        return total
