"""The RNN's language-model pass: its loss is the next-token cross-entropy."""
import pytest

from tiny_lm import loss_of, params
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_lm_loss_is_next_token_cross_entropy(tiny_lm_values):
    model, tokens, _ = tiny_lm_values
    probe = RNNProbe(model, tokens, {"lm_grad"})
    assert probe.lm_loss() == pytest.approx(float(loss_of(params(model), model, tokens)), rel=1e-6)
