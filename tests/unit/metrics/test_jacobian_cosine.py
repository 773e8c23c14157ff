"""Jacobian cosine: the cosine score of the per-sequence input gradients."""
import numpy as np
import pytest

from tfnas.metrics import METRICS
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_jacobian_cosine_by_numpy(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"jacobian"})
    rows = probe.jacobian_rows().double().numpy()  # the rows against plain autograd: test_rnn_probe.py
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    cos = np.abs(unit @ unit.T) ** (1 / 20)
    n = len(rows)
    expected = 1 - (cos.sum() - np.trace(cos)) / (2 * (n * n - n))
    assert METRICS.get("jacobian_cosine")().compute(probe) == pytest.approx(expected, rel=1e-9)
