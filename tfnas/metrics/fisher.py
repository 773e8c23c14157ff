"""fisher (Theis et al., "Faster gaze prediction with dense networks and Fisher pruning", 2018; Turner
et al., BlockSwap, ICLR 2020; as a proxy: Abdelfattah et al., ICLR 2021): per output channel of
every linear map, 1/(2N) sum_n (sum_positions a * dL/da)^2 over the N inputs, summed.

LM adaptation: a is the linear map's output before its activation (as NAS-Bench-Suite-Zero hooks
the layer output), L the space's language-model loss; an input is a sequence and the positions are
its time steps / tokens (weights shared over time play the role of a convolution's space), and a
channel is a hidden unit (the decoder's/head's: a vocabulary entry, over the predicted positions).
RNN: every `linear` node of every layer and the decoder; BERT: every Linear/Conv1d and the head.
"""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import LM_FISHER, LMFisherProbe


@register
class Fisher(SummedMetric):
    """Sum over linear maps of their per-channel Fisher saliencies."""

    name = "fisher"
    need = LM_FISHER.need()

    def terms(self, probe: LMFisherProbe) -> list[float]:
        return [float(t.sum()) for t in probe.fisher_terms()]
