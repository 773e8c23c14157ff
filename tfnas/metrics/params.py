"""Parameter count: the simplest baseline proxy, and the second objective of multi-objective search."""
from __future__ import annotations

from tfnas.metrics.base import Metric, register
from tfnas.probe import PARAMS, ParamsProbe


@register
class Parameters(Metric):
    """Number of parameters of the built model (shared tied weights counted once)."""

    name = "params"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {PARAMS.need()}

    def compute(self, probe: ParamsProbe) -> float:
        return float(probe.num_parameters())
