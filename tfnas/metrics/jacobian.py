"""Jacobian metrics (Mellor et al.'s NASWOT family): how differently the network responds to each input.

Probe protocol: need ``jacobian`` -> ``probe.jacobian_rows()``, a tensor with one row per
input sequence (the gradient of the space's chosen output w.r.t. the space's chosen input).
"""
from __future__ import annotations

from tfnas.metrics.base import METRICS, Metric
from tfnas.metrics.scores import correlation, cosine_score, log_eig_score


@METRICS.register("jacobian_cov")
class JacobianCovariance(Metric):
    """S(C) of the correlation between the per-sequence jacobian rows."""

    name = "jacobian_cov"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"jacobian"}

    def compute(self, probe) -> float:
        return log_eig_score(correlation(probe.jacobian_rows()))


@METRICS.register("jacobian_cosine")
class JacobianCosine(Metric):
    """Cosine score of the per-sequence jacobian rows (1 = orthogonal responses)."""

    name = "jacobian_cosine"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"jacobian"}

    def compute(self, probe) -> float:
        return cosine_score(probe.jacobian_rows())
