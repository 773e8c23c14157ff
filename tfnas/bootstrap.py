"""Percentile bootstrap intervals (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993) through
`scipy.stats.bootstrap`: the one implementation behind every interval tfnas reports over architectures."""
from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import numpy as np

#: resamples drawn per batch (bounds the memory of the index array on large pools; the draws are reproducible for a seed)
BATCH = 100


def percentile_interval(
    samples: Sequence[Sequence[float]], statistic: Callable[..., float], resamples: int = 1000, seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """The `level` percentile interval of statistic(*samples) over paired resamples (the same rows of every
    sample drawn with replacement; seeded). Resamples whose statistic is undefined (NaN or inf: a constant
    side has no correlation) are left out of the percentiles; (nan, nan) when none is defined or there are
    fewer than two observations."""
    from scipy.stats import bootstrap

    data = tuple(np.asarray(s, dtype=float) for s in samples)
    if len(data[0]) < 2 or resamples < 1:
        return math.nan, math.nan
    with warnings.catch_warnings():  # scipy warns when the interval is NaN; undefined resamples are handled below
        warnings.simplefilter("ignore")
        result = bootstrap(data, statistic, paired=True, vectorized=False, n_resamples=resamples, batch=BATCH,
                           confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    draws = np.asarray(result.bootstrap_distribution, dtype=float)
    defined = draws[np.isfinite(draws)]
    if defined.size == 0:
        return math.nan, math.nan
    if defined.size == draws.size:
        return float(result.confidence_interval.low), float(result.confidence_interval.high)
    tail = (1 - level) / 2
    return float(np.quantile(defined, tail)), float(np.quantile(defined, 1 - tail))
