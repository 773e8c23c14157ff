"""Hidden covariance (Serianni & Kalita 2023): how decorrelated a layer's hidden units are on real text."""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.metrics.scores import correlation, log_eig_score
from tfnas.probe import HIDDEN, HiddenProbe


@register
class HiddenCovariance(Metric):
    """S(C) of the correlation between hidden units of layer `layer`, over all B*T states entering its cell.

    Needs only the forward pass up to that layer: no decoder, no gradients.
    """

    name = "hidden_cov"
    higher_is_better = True

    def __init__(self, layer: int = 1):
        self.layer = int(layer)

    @property
    def key(self) -> str:
        return self.name if self.layer == 1 else f"{self.name}_l{self.layer}"

    def needs(self) -> set[str]:
        return {HIDDEN.need(self.layer)}

    def compute(self, probe: HiddenProbe) -> float:
        states = probe.hidden_states(self.layer)  # T x B x H
        units = states.reshape(-1, states.size(-1)).t()  # H x (T*B)
        return log_eig_score(correlation(units))
