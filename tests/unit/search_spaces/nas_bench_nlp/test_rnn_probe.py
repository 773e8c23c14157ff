"""The RNN probe's passes against plain autograd, shared between metrics, and only those asked for."""
import math

import pytest
import torch

from rnn_reference import LSTM_LIKE, reference_jacobian
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.more_noised_jacobian import MoreNoisedJacobian
from tfnas.metrics.noise_jacobian import NoiseJacobian
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def test_jacobian_rows_are_input_gradients_per_sequence(lstm_like):
    space, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"jacobian"})
    rows = probe.jacobian_rows()
    assert rows.shape == (tokens.size(1), tokens.size(0) * model.emsize)
    assert all(p.grad is None for p in model.parameters())  # no weight gradient was computed
    expected = reference_jacobian(model, tokens)  # the probe's pass sums a linear node's terms in another order:
    assert float((rows - expected).abs().max()) <= 1e-5 * float(expected.abs().max())  # equal to float rounding


def test_shared_pass_equals_separate_computation(tiny_rnn_space):
    recipe = Recipe.from_json(LSTM_LIKE)
    names = ["hidden_cov", "jacobian_cov", "jacobian_cosine", "synaptic_saliency", "hidden_saliency",
             "activation_distance", "params"]
    metrics = [METRICS.get(n)() for n in names] + [NoiseJacobian(10.0), MoreNoisedJacobian(score="cosine")]
    together = Scorer(tiny_rnn_space, metrics)(recipe).scores
    for metric in metrics:
        alone = Scorer(tiny_rnn_space, [metric])(recipe).scores[metric.key]
        assert alone == pytest.approx(together[metric.key], rel=1e-6), metric.key


def test_hidden_covariance_alone_runs_no_backward_and_no_decoder(lstm_like, monkeypatch):
    _, _, model, tokens = lstm_like

    def forbidden(*args, **kwargs):
        raise AssertionError("a backward pass ran")

    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    model.decoder.register_forward_hook(lambda *a: (_ for _ in ()).throw(AssertionError("decoder ran")))
    probe = RNNProbe(model, tokens, {"hidden:1"})
    assert math.isfinite(METRICS.get("hidden_cov")().compute(probe))
    assert len(probe._layer_outputs) == 1  # stopped after layer 1


def test_unknown_need_is_a_clear_error(lstm_like):
    from tfnas.errors import ConfigError

    _, _, model, tokens = lstm_like
    with pytest.raises(ConfigError, match="cannot provide"):
        RNNProbe(model, tokens, {"gradients_of_everything"})
