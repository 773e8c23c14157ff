"""A combined metric: the weighted average of several metrics' ranks (beyond the paper).

Single metrics live on incomparable scales (log-eig scores of -1e7, cosines near 0.5, counts), so
they are combined through ranks. A rank needs a population to rank against; for one architecture
scored on its own that population is a fixed *reference table*: each component's value becomes
its percentile among the reference values (ties count half), direction-adjusted so 1 is best,
and the score is the weighted mean of the percentiles (in [0, 1], higher is better).

The default reference is the one the space's benchmark ships (`TabularBenchmark.reference_scores()`;
NAS-Bench-NLP's: this project's own scores of its 275 labelled architectures at the benchmark's full
size, written by `tfnas reproduce rnn`). Scores only mean something against a reference computed with
the same space settings (model size, batch), so a different setup passes its own `reference` file.
An undefined component (NaN/inf) takes the worst percentile, 0.
"""
from __future__ import annotations

import bisect
import csv
import math
from functools import cached_property
from typing import Any, Mapping, Sequence

from tfnas.errors import ConfigError
from tfnas.metrics.base import METRICS, Metric, register

DEFAULT_COMPONENTS = (
    {"name": "hidden_cov", "weight": 1.0},
    {"name": "jacobian_cosine", "weight": 1.0},
    {"name": "activation_distance", "weight": 1.0},
    {"name": "hidden_saliency", "weight": 1.0},
)


def _build_component(spec: Mapping[str, Any] | str) -> tuple[Metric, float, bool]:
    spec = {"name": spec} if isinstance(spec, str) else dict(spec)
    if "name" not in spec:
        raise ConfigError("metric.components", f"each component needs a registered metric 'name', got {spec}")
    name = spec.pop("name")
    weight = float(spec.pop("weight", 1.0))
    direction = spec.pop("higher_is_better", None)
    metric = METRICS.get(name)(**spec)
    higher = metric.higher_is_better if direction is None else bool(direction)
    if weight < 0:
        raise ConfigError("metric.components", f"weight of {name!r} must be >= 0, got {weight}")
    return metric, weight, higher


@register
class RankAverage(Metric):
    """Weighted mean percentile of `components` among the `reference` table's values."""

    name = "rank_average"
    higher_is_better = True

    def __init__(
        self,
        components: Sequence[Mapping[str, Any] | str] = DEFAULT_COMPONENTS,
        reference: str | Sequence[Mapping[str, Any]] | None = None,
        key: str | None = None,
    ):
        if not components:
            raise ConfigError("metric.components", "needs at least one component metric")
        self.components = [_build_component(c) for c in components]
        if sum(w for _, w, _ in self.components) <= 0:
            raise ConfigError("metric.components", "the weights must not all be zero")
        self.reference = reference
        self._key = key

    @property
    def key(self) -> str:
        return self._key or self.name

    def needs(self) -> set[str]:
        return set().union(*(m.needs() for m, _, _ in self.components))

    def check_space(self, space) -> None:
        """Applies wherever all its components apply (any registered metric may be a component) and a
        reference exists: `reference`, or else the one the space's benchmark ships."""
        for metric, _, _ in self.components:
            metric.check_space(space)
        if self.reference is None:
            benchmark = space.benchmark()
            self.reference = benchmark.reference_scores() if benchmark is not None else None
        if self.reference is None:
            raise ConfigError("metric.reference", f"space {space.name!r} ships no reference table; give metric.reference "
                                                  "(a CSV of scores of the same space settings, one column per component)")

    def check_batch(self, space, batch) -> None:
        for metric, _, _ in self.components:
            metric.check_batch(space, batch)

    @cached_property
    def reference_values(self) -> dict[str, list[float]]:
        """Component key -> sorted finite reference values, direction-adjusted (larger = better)."""
        if self.reference is not None and not isinstance(self.reference, (str, bytes)) and not hasattr(self.reference, "__fspath__"):
            path, rows = "the reference rows", list(self.reference)  # rows given directly (reports, tests)
        else:
            path = self.reference
            if path is None:
                raise ConfigError("metric.reference", "no reference table: give one, or check the metric against a space first")
            try:
                with open(path, encoding="utf-8", newline="") as handle:
                    rows = list(csv.DictReader(handle))
            except FileNotFoundError:
                raise ConfigError("metric.reference", f"reference table {path} does not exist") from None
        values = {}
        for metric, _, higher in self.components:
            if not rows or metric.key not in rows[0]:
                raise ConfigError(
                    "metric.reference", f"{path} has no column {metric.key!r}; score the reference set with it first"
                )
            column = [float(r[metric.key]) for r in rows if r[metric.key] not in ("", None)]
            # flagged undefined values were stored as the worst score (+-inf) and are left out here
            values[metric.key] = sorted(v if higher else -v for v in column if math.isfinite(v))
        return values

    def combine(self, values: Mapping[str, float]) -> float:
        """The rank average of already computed component values (used by reports on stored scores)."""
        total = weights = 0.0
        for metric, weight, higher in self.components:
            reference = self.reference_values[metric.key]
            value = float(values[metric.key])
            if math.isfinite(value) and reference:
                v = value if higher else -value
                below = bisect.bisect_left(reference, v)
                equal = bisect.bisect_right(reference, v) - below
                percentile = (below + 0.5 * equal) / len(reference)
            else:
                percentile = 0.0
            total += weight * percentile
            weights += weight
        return total / weights

    def compute(self, probe) -> float:
        values = {}
        for metric, _, _ in self.components:
            try:
                values[metric.key] = float(metric.compute(probe))
            except (ArithmeticError, RuntimeError):
                values[metric.key] = math.nan
        return self.combine(values)
