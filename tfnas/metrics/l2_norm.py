"""l2_norm (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks): the sum
over layers of the Euclidean norm of the layer's weights at initialisation. Needs no pass.

LM adaptation: the layers are the LM proxies' (see grad_norm): the RNN cells' linear nodes and the
tied decoder, BERT's Linear/Conv1d weights and the tied head.
"""
from __future__ import annotations

import math

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import WEIGHTS, WeightsProbe


@register
class L2Norm(SummedMetric):
    """Sum over layers of ||W||_2 (all of a layer's weights as one vector)."""

    name = "l2_norm"
    need = WEIGHTS.need()

    def terms(self, probe: WeightsProbe) -> list[float]:
        return [math.sqrt(sum(float(w.double().pow(2).sum()) for w in ws)) for _, ws in probe.layer_weights()]
