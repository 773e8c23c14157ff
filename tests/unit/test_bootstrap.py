"""Percentile bootstrap intervals through scipy.stats.bootstrap: the paired resamples a hand-written loop draws with the
same seed, undefined resamples left out, and no interval where there is nothing to resample."""
import math

import numpy as np
import pytest
from scipy.stats import kendalltau

from tfnas.bootstrap import percentile_interval


def by_hand(x, y, statistic, resamples, seed, level=0.95):
    """The textbook loop: draw n row indices with replacement per resample, keep the defined statistics, percentiles."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, len(x), len(x))
        value = statistic(x[pick], y[pick])
        if math.isfinite(value):
            draws.append(value)
    tail = (1 - level) / 2
    return float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def tau(a, b) -> float:
    return kendalltau(a, b).statistic


@pytest.mark.parametrize("n", [12, 41])
def test_the_interval_is_the_percentiles_of_paired_resamples(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    low, high = percentile_interval((x, y), tau, resamples=300, seed=5)
    assert (low, high) == pytest.approx(by_hand(x, y, tau, 300, 5), rel=1e-12)
    assert low < tau(x, y) < high
    assert (low, high) == percentile_interval((x, y), tau, resamples=300, seed=5)  # reproducible for a seed


def test_undefined_resamples_are_left_out():
    x = np.array([1.0] * 9 + [2.0, 2.0])  # many resamples of x are constant: tau undefined there
    y = np.arange(11.0)
    low, high = percentile_interval((x, y), tau, resamples=400, seed=0)
    assert math.isfinite(low) and math.isfinite(high)
    assert (low, high) == pytest.approx(by_hand(x, y, tau, 400, 0), rel=1e-12)


def test_nothing_to_resample_gives_no_interval():
    assert all(math.isnan(v) for v in percentile_interval(([1.0], [2.0]), tau))
    constant = percentile_interval(([1.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]), tau, resamples=50)
    assert all(math.isnan(v) for v in constant)  # every resample undefined
