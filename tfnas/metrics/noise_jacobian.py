"""Noise stability of the jacobian metrics (Serianni & Kalita 2023, RNN space only).

The jacobian is recomputed after adding `a * var_batch(e) * eps` to the embedding output e
(eps ~ N(0, 1)); the metric is 1 - |S(J) - S(J_a)|, how little the score moves under noise (S: the
log-eig score of the row correlation, or the cosine score for the `_cosine` variant), as the paper's
code scored it. Each amplitude is its own forward and input-gradient pass, which the probe runs once
for every metric that reads it (more_noised_jacobian shares them).
"""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import jacobian_score, score_suffix
from tfnas.probe import JACOBIAN, JACOBIAN_NOISE, CleanAndNoisedJacobianProbe

AMPLITUDE_NAMES = {0.1: "small", 10.0: "large", 100.0: "huge"}


@register
class NoiseJacobian(Metric):
    """1 - |S(J) - S(J_a)| for one noise amplitude a.

    Direction: the published RNN table ranks the cosine variant with tau +0.27 against the loss
    (stable = worse), so `higher_is_better` is False for it; the covariance variant moves the
    other way (published tau +0.26 for |S(J) - S(J_a)|), so it is True.
    """

    name = "noise_jacobian"

    def __init__(self, amplitude: float = 10.0, score: str = "cov"):
        self.amplitude = float(amplitude)
        self.score = score
        self._fn = jacobian_score(score)

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        return self.score == "cov"

    @property
    def key(self) -> str:
        label = AMPLITUDE_NAMES.get(self.amplitude, f"a{self.amplitude:g}")
        return f"{self.name}{score_suffix(self.score)}_{label}"

    def needs(self) -> set[str]:
        return {JACOBIAN.need(), JACOBIAN_NOISE.need(self.amplitude)}

    def compute(self, probe: CleanAndNoisedJacobianProbe) -> float:
        clean = self._fn(probe.jacobian_rows())
        noised = self._fn(probe.noised_jacobian_rows(self.amplitude))
        return 1.0 - abs(clean - noised)
