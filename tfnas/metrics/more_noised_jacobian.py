"""The "more noised" jacobian metrics (Serianni & Kalita 2023, RNN space only): S(J) * prod_a S(J_a), the
product of the clean score and the scores after noise of amplitudes a in {0.1, 10, 100} on the embedding
output (see noise_jacobian for the noise and S), as the paper's code scored them.
"""
from __future__ import annotations

import math
from typing import Sequence

from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import jacobian_score, score_suffix
from tfnas.probe import JACOBIAN, JACOBIAN_NOISE, CleanAndNoisedJacobianProbe


@register
class MoreNoisedJacobian(Metric):
    """S(J) * prod_a S(J_a): the product of the clean and noised scores.

    Direction from the published table: the covariance product has tau +0.27 with the loss
    (a product of four negative log-eig scores: larger = worse), the cosine product -0.28.
    """

    name = "more_noised_jacobian"

    def __init__(self, amplitudes: Sequence[float] = (0.1, 10.0, 100.0), score: str = "cov"):
        self.amplitudes = tuple(float(a) for a in amplitudes)
        self.score = score
        self._fn = jacobian_score(score)

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        return self.score != "cov"

    @property
    def key(self) -> str:
        return f"{self.name}{score_suffix(self.score)}"

    def needs(self) -> set[str]:
        return {JACOBIAN.need()} | {JACOBIAN_NOISE.need(a) for a in self.amplitudes}

    def compute(self, probe: CleanAndNoisedJacobianProbe) -> float:
        value = self._fn(probe.jacobian_rows())
        for amplitude in self.amplitudes:
            value *= self._fn(probe.noised_jacobian_rows(amplitude))
        return value if math.isfinite(value) else math.nan
