"""Jacobian covariance (Mellor et al.'s NASWOT family, as Serianni & Kalita 2023 apply it): how differently the
network responds to each input sequence.

The probe's `jacobian_rows()` hold one row per input sequence: the gradient of the space's chosen output
w.r.t. its chosen input.
"""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import correlation, log_eig_score
from tfnas.probe import JACOBIAN, JacobianProbe


@register
class JacobianCovariance(Metric):
    """S(C) of the correlation between the per-sequence jacobian rows."""

    name = "jacobian_cov"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {JACOBIAN.need()}

    def compute(self, probe: JacobianProbe) -> float:
        return log_eig_score(correlation(probe.jacobian_rows()))
