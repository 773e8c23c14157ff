"""The shared correlation routine, the zoo table's statistics, and refusals before anything is written."""
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tfnas.errors import ConfigError
from tfnas.experiments.correlation import bootstrap_ci, partial_spearman, rank_correlations, spearman
from tfnas.experiments import zoo_table as zt

ROOT = Path(__file__).resolve().parents[1]


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


def test_rank_sum_gain_is_positive_for_a_complementary_metric():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=150), rng.normal(size=150)
    target = {str(i): float(a[i] + b[i]) for i in range(150)}
    rows = {str(i): {"hidden_cov": repr(float(a[i])), "params": repr(float(b[i])), "undefined": ""} for i in range(150)}
    table = {e["metric"]: e for e in zt.build(rows, ["hidden_cov", "params"], target, True, "hidden_cov", resamples=50)}
    assert table["params"]["pair_gain"] > 0.1 and table["params"]["pair_gain_ci"][0] > 0


def test_inapplicable_proxy_is_refused_before_the_output_file_exists(tmp_path):
    from tfnas.commands import reproduce_rnn as script
    out = tmp_path / "scores.csv"
    space = json.dumps({"model": {"emsize": 8, "nhid": 8}, "batch_size": 1, "seq_len": 4})
    with pytest.raises(ConfigError, match="space.batch_size"):
        script.main(["--metrics", "zico", "--out", str(out), "--limit", "1", "--workers", "1", "--space", space])
    assert not out.exists()
