"""Every registered metric of a space, with its normalised variant: what reproduction and benchmark scripts score."""
from __future__ import annotations

import inspect

from tfnas.errors import ConfigError
from tfnas.metrics.base import METRICS, Metric


def metric_suite(space, zoo: bool = False) -> list[Metric]:
    """One instance per registered metric applicable to `space`, plus `normalized=True` where offered:
    the paper's metrics, or with `zoo` the zero-cost proxies of tfnas.metrics.zoo. Aliases are left out.
    Each is checked against the space (`check_space`, which also binds what the space supplies, such as
    rank_average's reference table), so the suite can be computed on the space's probe as it is."""
    from tfnas.metrics.zoo import ZOO

    metrics: list[Metric] = []
    for name, cls in METRICS.items():
        if getattr(cls, "alias_of", None) or (name in ZOO) != zoo or not cls().applies_to(space):
            continue
        variants = [cls()] + ([cls(normalized=True)] if "normalized" in inspect.signature(cls.__init__).parameters else [])
        try:
            for metric in variants:
                metric.check_space(space)
        except ConfigError:  # applicable by its needs, but not to this space's configuration
            continue
        metrics.extend(variants)
    return metrics
