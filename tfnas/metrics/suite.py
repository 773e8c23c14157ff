"""Every registered metric of a space, with its normalised variant: what reproduction and benchmark scripts score."""
from __future__ import annotations

import inspect

from tfnas.metrics.base import METRICS, Metric


def metric_suite(space, zoo: bool = False) -> list[Metric]:
    """One instance per registered metric applicable to `space`, plus `normalized=True` where offered:
    the paper's metrics, or with `zoo` the zero-cost proxies of tfnas.metrics.zoo. Aliases are left out."""
    from tfnas.metrics.zoo import ZOO

    metrics: list[Metric] = []
    for name, cls in METRICS.items():
        if getattr(cls, "alias_of", None) or (name in ZOO) != zoo or not cls().applies_to(space):
            continue
        metrics.append(cls())
        if "normalized" in inspect.signature(cls.__init__).parameters:
            metrics.append(cls(normalized=True))
    return metrics
