"""Jacobian covariance: the log-eig score of the per-sequence input gradients' correlation, by numpy."""
import numpy as np
import pytest

from tfnas.metrics import METRICS
from tfnas.metrics.scores import correlation
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_jacobian_cov_is_the_log_eig_score_of_the_rows_correlation(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"jacobian"})
    value = METRICS.get("jacobian_cov")().compute(probe)
    ref = correlation(probe.jacobian_rows().double())  # the rows against plain autograd: test_rnn_probe.py
    eig = np.linalg.eigvalsh(ref.numpy()) + 1e-5
    assert value == pytest.approx(-np.sum(np.log(eig) + 1 / eig), rel=1e-9)
