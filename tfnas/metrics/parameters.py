"""Parameter count: the simplest baseline proxy, and the second objective of multi-objective search."""
from __future__ import annotations

from tfnas.metrics.base import METRICS, Metric


@METRICS.register("params")
class Parameters(Metric):
    """Number of parameters of the built model (shared tied weights counted once)."""

    name = "params"
    higher_is_better = True

    def needs(self) -> set[str]:
        return {"params"}

    def compute(self, probe) -> float:
        return float(probe.num_parameters())
