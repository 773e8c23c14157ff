"""Noise stability of the jacobian scores against a manually noised jacobian."""
import pytest
import torch

from rnn_reference import reference_jacobian
from tfnas.metrics.noise_jacobian import NoiseJacobian
from tfnas.metrics.scores import correlation, cosine_score, log_eig_score
from tfnas.probe import JACOBIAN_NOISE
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def manually_noised(model, tokens, amplitude):
    clean = model.embed(tokens).detach()
    variance = clean.var(dim=1, unbiased=False, keepdim=True)
    eps = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    return reference_jacobian(model, tokens, amplitude * variance * eps)


def test_noise_variants_match_a_manual_noised_jacobian(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"jacobian", JACOBIAN_NOISE.need(10.0)})
    expected = manually_noised(model, tokens, 10.0)
    noised = probe.noised_jacobian_rows(10.0)  # plain autograd's, to float rounding (the pass sums terms in another order)
    assert float((noised - expected).abs().max()) <= 1e-5 * float(expected.abs().max())
    s = lambda r: log_eig_score(correlation(r))  # noqa: E731
    assert NoiseJacobian(10.0).compute(probe) == pytest.approx(1 - abs(s(probe.jacobian_rows()) - s(noised)))
    cos = NoiseJacobian(10.0, "cosine").compute(probe)
    assert cos == pytest.approx(1 - abs(cosine_score(probe.jacobian_rows()) - cosine_score(noised)))
    assert NoiseJacobian(10.0, "cosine").key == "noise_jacobian_cosine_large"
