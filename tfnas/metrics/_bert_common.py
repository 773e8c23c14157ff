"""Shared shape of the BERT-only metrics: a list of terms from the probe, summed or averaged."""
from __future__ import annotations

import math
from typing import Any, Sequence

from tfnas.metrics.base import NormalizableMetric


def total(terms: Sequence[Any], normalized: bool) -> float:
    """Sum of the terms (tensors are summed first); `normalized` divides by the number of terms
    (no terms: 0 for the sum, NaN, i.e. undefined, for the normalised variant)."""
    value = float(sum(float(t.sum()) if hasattr(t, "sum") else float(t) for t in terms))
    if normalized:
        return value / len(terms) if terms else math.nan
    return value


class SummedMetric(NormalizableMetric):
    """A metric that is a sum of per-term values; the `_norm` variant averages them."""

    higher_is_better = True
    need: str = ""

    def needs(self) -> set[str]:
        return {self.need}

    def terms(self, probe) -> Sequence[Any]:
        raise NotImplementedError

    def compute(self, probe) -> float:
        return total(self.terms(probe), self.normalized)
