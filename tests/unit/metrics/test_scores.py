"""The correlation scores several metrics share, against hand computation."""
import math

import numpy as np
import torch

from tfnas.metrics.scores import correlation, cosine_score, log_eig_score


def test_log_eig_score_by_hand():
    corr = torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64)  # eigenvalues 0.5 and 1.5
    k = 1e-5
    expected = -sum(math.log(l + k) + 1 / (l + k) for l in (0.5, 1.5))
    assert math.isclose(log_eig_score(corr), expected, rel_tol=1e-12)


def test_correlation_matches_numpy_and_flags_constant_rows():
    rows = torch.randn(4, 30)
    np.testing.assert_allclose(correlation(rows).numpy(), np.corrcoef(rows.numpy()), atol=1e-6)
    rows[2] = 3.0
    assert math.isnan(log_eig_score(correlation(rows)))


def test_cosine_score_by_hand():
    rows = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    cos = 1 / math.sqrt(2)
    expected = 1 - 2 * cos ** (1 / 20) / (2 * (4 - 2))
    assert math.isclose(cosine_score(rows), expected, rel_tol=1e-12)
