"""The metric interface and registry, and the shapes several metrics share (sums of per-layer or per-term values)."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence, TypeVar

import torch

from tfnas.errors import ConfigError
from tfnas.probe import unserved
from tfnas.registry import Registry

METRICS: Registry[type["Metric"]] = Registry("metric", ("tfnas.metrics",), entry_point_group="tfnas.metrics")
M = TypeVar("M", bound=type)


def register(cls: M) -> M:
    """Register a metric class under its `name`, the one place a metric's name is written (registry key,
    result column, file name)."""
    return METRICS.register(cls.name)(cls)


class Metric(ABC):
    """A training-free score of one architecture.

    Subclasses set `higher_is_better` (the direction a search should optimise) and return their
    probe requirements from `needs()` (see `tfnas.probe`), so a scorer can run one shared set of
    passes for many metrics. A metric applies to every space whose probe serves its needs.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True

    @property
    def key(self) -> str:
        """Column name in results (a metric with options may distinguish its variants)."""
        return self.name

    @property
    def variant_of(self) -> str | None:
        """The key of the default this instance is another estimator of (its own column, left out of
        the "all"/"paper"/"zoo" groups: only one estimator of a quantity shares a probe); None for a default."""
        return None

    def needs(self) -> set[str]:
        """The probe needs this metric reads (tfnas.probe.kinds); `compute` calls only their Protocols' methods."""
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

    def applies_to(self, space) -> bool:
        """Whether `space`'s probe serves every need of this metric (arguments not checked)."""
        return not unserved(self.needs(), space.provides())

    def check_space(self, space) -> None:
        """Refuse (ConfigError, before anything is written) a space that cannot serve this metric's needs."""
        if not self.applies_to(space):
            valid = ", ".join(metrics_for_space(space)) or "none"
            missing = ", ".join(unserved(self.needs(), space.provides()))
            raise ConfigError(
                "metric",
                f"{self.key!r} does not apply to space {space.name!r} (it needs {missing}, which that space's probe "
                f"does not serve). Metrics for {space.name!r}: {valid}",
            )
        space.check_needs(self.needs())


def metrics_for_space(space) -> list[str]:
    """Registered metric names whose default instance applies to `space`."""
    names = []
    for name, cls in METRICS.items():
        try:
            if cls().applies_to(space):
                names.append(name)
        except ConfigError:
            continue
    return names


class NormalizableMetric(Metric):
    """A metric that sums terms, with a `_norm` variant that divides by the number of terms (the paper's "normalised")."""

    def __init__(self, normalized: bool = False):
        self.normalized = bool(normalized)

    @property
    def key(self) -> str:
        return f"{self.name}_norm" if self.normalized else self.name


def tensor_sum(tensors) -> float:
    """Sum of every entry of the tensors, accumulated in float64."""
    return float(sum(t.sum(dtype=torch.float64) for t in tensors))


def total(terms: Sequence[Any], normalized: bool) -> float:
    """Sum of the terms (tensors are summed first); `normalized` divides by the number of terms
    (no terms: 0 for the sum, NaN, i.e. undefined, for the normalised variant)."""
    value = float(sum(float(t.sum()) if hasattr(t, "sum") else float(t) for t in terms))
    if normalized:
        return value / len(terms) if terms else math.nan
    return value


class SummedMetric(NormalizableMetric):
    """A metric that is a sum of per-term values from one probe method (per layer for the layer-wise zero-cost
    proxies); the `_norm` variant averages them (the BERT convention of the paper). A subclass sets `need`."""

    higher_is_better = True
    need: str = ""

    def needs(self) -> set[str]:
        return {self.need}

    def terms(self, probe) -> Sequence[Any]:
        raise NotImplementedError

    def compute(self, probe) -> float:
        return total(self.terms(probe), self.normalized)
