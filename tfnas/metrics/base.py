"""The metric interface and registry."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from tfnas.errors import ConfigError
from tfnas.registry import Registry

METRICS: Registry[type["Metric"]] = Registry("metric", ("tfnas.metrics",))


class Metric(ABC):
    """A training-free score of one architecture.

    Subclasses set `spaces` (names of the search spaces they apply to), `higher_is_better`
    (the direction a search should optimise), and return their probe requirements from
    `needs()` so a scorer can run one shared set of passes for many metrics.
    """

    name: ClassVar[str] = ""
    spaces: ClassVar[tuple[str, ...]] = ()
    higher_is_better: ClassVar[bool] = True

    @property
    def key(self) -> str:
        """Column name in results (a metric with options may distinguish its variants)."""
        return self.name

    def needs(self) -> set[str]:
        return set()

    @abstractmethod
    def compute(self, probe: Any) -> float:
        """The score; may be NaN or inf, which the scorer turns into the flagged worst value."""

    def check_batch(self, space: Any, batch: Any) -> None:
        """Refuse (ConfigError naming the option) a space configuration or metric batch the metric
        cannot apply to; the Scorer calls it before anything is scored or written."""

    @property
    def worst(self) -> float:
        return -math.inf if self.higher_is_better else math.inf

    def check_space(self, space_name: str) -> None:
        if space_name not in self.spaces:
            valid = ", ".join(metrics_for_space(space_name)) or "none"
            raise ConfigError(
                "metric",
                f"{self.key!r} does not apply to space {space_name!r} (it applies to {', '.join(self.spaces)}). "
                f"Metrics for {space_name!r}: {valid}",
            )


def metrics_for_space(space_name: str) -> list[str]:
    return [name for name, cls in METRICS.items() if space_name in cls.spaces]


class NormalizableMetric(Metric):
    """A metric that sums terms, with a `_norm` variant that divides by the number of terms (the paper's "normalised")."""

    def __init__(self, normalized: bool = False):
        self.normalized = bool(normalized)

    @property
    def key(self) -> str:
        return f"{self.name}_norm" if self.normalized else self.name
