"""The shared correlation routine: flagged worst scores, bootstrap intervals, partial correlation."""
import math

import numpy as np
import pytest

from tfnas.experiments.correlation import bootstrap_ci, partial_spearman, rank_correlations, spearman


def test_flagged_worst_scores_rank_last_and_missing_values_are_left_out():
    out = rank_correlations([1, 2, 3, -math.inf, math.nan], [1, 2, 3, 0, 10])
    assert out["n"] == 4 and out["kendall"] == pytest.approx(1.0)
    assert out["pearson"] == pytest.approx(1.0)  # over the three defined values


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    low, high = bootstrap_ci(x, y, spearman, resamples=200, seed=3)
    assert low < spearman(x, y) < high
    assert (low, high) == bootstrap_ci(x, y, spearman, resamples=200, seed=3)


def test_partial_correlation_removes_what_the_base_explains():
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    y = base + 0.1 * rng.normal(size=200)
    redundant = base + 0.01 * rng.normal(size=200)
    assert spearman(redundant, y) > 0.9 and abs(partial_spearman(redundant, y, base)) < 0.3
    extra = rng.normal(size=200)
    assert partial_spearman(extra + 0 * y, y - base + extra, base) > 0.5
