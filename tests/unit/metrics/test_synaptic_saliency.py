"""Synaptic saliency against the backward of 1/2||y||^2; synflow is the same metric under its other name."""
import pytest

from tiny_lm import SIMPLE
from tfnas.metrics import METRICS, Scorer
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def test_synaptic_saliency_matches_backward_of_half_squared_norm(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"saliency"})
    outputs, _ = model.run_layers(model.embed(tokens))
    (0.5 * outputs[-1].pow(2).sum()).backward()
    expected = float((model.decoder.weight * model.decoder.weight.grad).abs().sum().detach())
    for cell in model.cells:
        # recurrent weights: every input of a linear node but its first (i: h_prev_0; f: x and i_act)
        for key in ("i__1", "f__1", "f__2"):
            expected += float((cell.weights[key] * cell.weights[key].grad).abs().sum().detach())
    assert METRICS.get("synaptic_saliency")().compute(probe) == pytest.approx(expected, rel=1e-5)
    assert len(probe.saliency_terms()) == 3 * 3 + 1


def test_synflow_has_the_values_of_synaptic_saliency(tiny_rnn_space):
    scores = Scorer(tiny_rnn_space, [METRICS.get(n)() for n in ("synflow", "synaptic_saliency")])(Recipe.from_json(SIMPLE)).scores
    assert scores["synflow"] == scores["synaptic_saliency"] and METRICS.get("synflow").alias_of == "synaptic_saliency"
