"""zen (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Deep Image Recognition", ICCV
2021): log E||f(x) - f(x + alpha eps)||_1, alpha = 0.01, f the features before the head; the BN
scaling term is 0 here (the spaces have no batch norm).

LM adaptation: the perturbation goes on the input embeddings of the real metric batch, scaled by
their standard deviation (alpha * std(e) * eps, eps ~ N(0, 1) seeded), and f is the last layer's
output (RNN: the last cell's outputs; BERT: last_hidden_state); the model keeps its own
initialisation (Zen-NAS re-draws Gaussian weights). E is the mean over sequences.
"""
from __future__ import annotations

import math

from tfnas.metrics.base import Metric, register
from tfnas.probe import ZEN, ZenProbe


@register
class Zen(Metric):
    """log of the mean over sequences of sum |f(e) - f(e + alpha std(e) eps)|."""

    name = "zen"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {ZEN.need()}

    def compute(self, probe: ZenProbe) -> float:
        distance = float(probe.zen_distance())
        return math.log(distance) if distance > 0 else -math.inf
