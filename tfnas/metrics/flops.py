"""flops: floating-point operations per token of the model's forward, counted from the architecture
(a baseline every zero-cost study reports; NAS-Bench-Suite-Zero's `flops`). Needs no pass.

RNN: 2 x multiply-adds of every cell's linear maps (the decoder, the same for every cell, and
elementwise operations left out). BERT: the encoder's operations counted by torch's flop counter on
one sequence of the metric batch's length, divided by its length (the head left out).
"""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.probe import FLOPS, FlopsProbe


@register
class Flops(Metric):
    """Forward flops per token."""

    name = "flops"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {FLOPS.need()}

    def compute(self, probe: FlopsProbe) -> float:
        return float(probe.flops_per_token())
