"""Head importance (Michel et al. 2019 style): saliency of the mixing operations' input projections."""
from __future__ import annotations

from tfnas.metrics.base import SummedMetric, register
from tfnas.probe import HEAD_IMPORTANCE, HeadImportanceProbe


@register
class HeadImportance(SummedMetric):
    """Sum of |W * dW| over the query/key/value projections of every token-mixing operation
    (a linear transform's single projection; a DSC layer's attention q/k/v and convolution value)."""

    name = "head_importance"
    need = HEAD_IMPORTANCE.need()

    def terms(self, probe: HeadImportanceProbe):
        return probe.head_importance_terms()
