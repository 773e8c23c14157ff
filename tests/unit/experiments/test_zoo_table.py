"""The zoo table's statistics, and refusals before anything is written."""
import json

import numpy as np
import pytest

from tfnas.errors import ConfigError
from tfnas.experiments import zoo_table as zt


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
