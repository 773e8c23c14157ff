"""Every registered metric of a space, with its normalised variant: what reproduction and benchmark scripts score."""
from __future__ import annotations

import inspect

from tfnas.metrics.base import METRICS, Metric


def metric_suite(space) -> list[Metric]:
    """One instance per registered metric applicable to `space`, plus `normalized=True` where offered."""
    metrics: list[Metric] = []
    for _, cls in METRICS.items():
        if not cls().applies_to(space):
            continue
        metrics.append(cls())
        if "normalized" in inspect.signature(cls.__init__).parameters:
            metrics.append(cls(normalized=True))
    return metrics
