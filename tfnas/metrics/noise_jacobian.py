"""Noise variants of the jacobian metrics (Serianni & Kalita 2023, RNN space only).

The jacobian is recomputed after adding `a * var_batch(e) * eps` to the embedding output e
(eps ~ N(0, 1)). Two families, as the paper's code scored them:

- stability (`noise_jacobian*`): 1 - |S(J) - S(J_a)|, how little the score moves under noise
  (S: the log-eig score of the row correlation, or the cosine score for the `_cosine` variant);
- "more noised" (`more_noised_jacobian*`): S(J) * prod_a S(J_a) over a in {0.1, 10, 100}.

Each amplitude needs its own forward and input-gradient pass (the probe runs each once, so
the stability and product metrics of one architecture share them).
"""
from __future__ import annotations

import math
from typing import Sequence

from tfnas.probe import noise_need
from tfnas.metrics.base import METRICS, Metric
from tfnas.metrics.scores import correlation, cosine_score, log_eig_score

AMPLITUDE_NAMES = {0.1: "small", 10.0: "large", 100.0: "huge"}
SCORES = {
    "cov": lambda rows: log_eig_score(correlation(rows)),
    "cosine": cosine_score,
}


def _score_fn(score: str):
    if score not in SCORES:
        from tfnas.errors import ConfigError

        raise ConfigError("metric.score", f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    return SCORES[score]


def _suffix(score: str) -> str:
    return "" if score == "cov" else f"_{score}"


@METRICS.register("noise_jacobian")
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
        self._fn = _score_fn(score)

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        return self.score == "cov"

    @property
    def key(self) -> str:
        label = AMPLITUDE_NAMES.get(self.amplitude, f"a{self.amplitude:g}")
        return f"{self.name}{_suffix(self.score)}_{label}"

    def needs(self) -> set[str]:
        return {"jacobian", noise_need(self.amplitude)}

    def compute(self, probe) -> float:
        clean = self._fn(probe.jacobian_rows())
        noised = self._fn(probe.noised_jacobian_rows(self.amplitude))
        return 1.0 - abs(clean - noised)


@METRICS.register("more_noised_jacobian")
class MoreNoisedJacobian(Metric):
    """S(J) * prod_a S(J_a): the product of the clean and noised scores.

    Direction from the published table: the covariance product has tau +0.27 with the loss
    (a product of four negative log-eig scores: larger = worse), the cosine product -0.28.
    """

    name = "more_noised_jacobian"

    def __init__(self, amplitudes: Sequence[float] = (0.1, 10.0, 100.0), score: str = "cov"):
        self.amplitudes = tuple(float(a) for a in amplitudes)
        self.score = score
        self._fn = _score_fn(score)

    @property
    def higher_is_better(self) -> bool:  # type: ignore[override]
        return self.score != "cov"

    @property
    def key(self) -> str:
        return f"{self.name}{_suffix(self.score)}"

    def needs(self) -> set[str]:
        return {"jacobian"} | {noise_need(a) for a in self.amplitudes}

    def compute(self, probe) -> float:
        value = self._fn(probe.jacobian_rows())
        for amplitude in self.amplitudes:
            value *= self._fn(probe.noised_jacobian_rows(amplitude))
        return value if math.isfinite(value) else math.nan
