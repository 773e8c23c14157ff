"""Hidden synaptic saliency against the backward of 1/2||y||^2 to the recorded hidden states."""
import pytest

from tfnas.metrics.hidden_saliency import HiddenSynapticSaliency
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_hidden_saliency_matches_backward_of_half_squared_norm(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"saliency", "hidden_saliency"})  # one backward serves both
    records = []
    outputs, _ = model.run_layers(model.embed(tokens), records=records)
    hiddens = [step["h_new_0"] for layer in records for step in layer[:-1]]
    for h in hiddens:
        h.retain_grad()
    (0.5 * outputs[-1].pow(2).sum()).backward()
    hidden_expected = sum(float((h * h.grad).abs().sum().detach()) for h in hiddens)
    assert HiddenSynapticSaliency().compute(probe) == pytest.approx(hidden_expected, rel=1e-5)
