"""Jacobian cosine (Serianni & Kalita 2023): how close to orthogonal the network's responses to the input
sequences are, from the probe's per-sequence `jacobian_rows()` (see jacobian_cov)."""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import cosine_score
from tfnas.probe import JACOBIAN, JacobianProbe


@register
class JacobianCosine(Metric):
    """Cosine score of the per-sequence jacobian rows (1 = orthogonal responses)."""

    name = "jacobian_cosine"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {JACOBIAN.need()}

    def compute(self, probe: JacobianProbe) -> float:
        return cosine_score(probe.jacobian_rows())
