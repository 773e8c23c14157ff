"""Activation distance against a naive kernel; nwot is the same metric under its other name."""
import numpy as np
import pytest
import torch

from tiny_lm import SIMPLE
from tfnas.metrics import METRICS, Scorer
from tfnas.probe.kernels import hamming_kernel
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def test_activation_distance_matches_naive_hamming_kernel(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"activation_codes"})
    records = []
    with torch.no_grad():
        model.run_layers(model.embed(tokens), records=records)
    kernel = np.zeros((tokens.size(1), tokens.size(1)))
    sites = 0
    for layer in records:
        for step in layer:
            for name in ("i_act", "f_act", "h_new_0"):
                x = (step[name] > 0).double().numpy()
                kernel += x @ x.T + (1 - x) @ (1 - x).T
                sites += 1
    assert len(probe.activation_codes()) == sites
    np.testing.assert_allclose(hamming_kernel(probe.activation_codes()).numpy(), kernel)
    _, logdet = np.linalg.slogdet(kernel)
    assert METRICS.get("activation_distance")().compute(probe) == pytest.approx(logdet)


def test_nwot_has_the_values_of_activation_distance(tiny_rnn_space):
    scores = Scorer(tiny_rnn_space, [METRICS.get(n)() for n in ("nwot", "activation_distance")])(Recipe.from_json(SIMPLE)).scores
    assert scores["nwot"] == scores["activation_distance"] and METRICS.get("nwot").alias_of == "activation_distance"
