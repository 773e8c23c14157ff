"""RNN metrics against straightforward reference computations on a tiny network, and pass sharing."""
import math

import numpy as np
import pytest
import torch

from tfnas.search_spaces.nas_bench_nlp.flops import layer_gemm_flops, probe_flops
from tfnas.probe import JACOBIAN_NOISE
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe
from tfnas.metrics import METRICS, Scorer
from tfnas.probe.kernels import hamming_kernel
from tfnas.metrics.hidden_saliency import HiddenSynapticSaliency
from tfnas.metrics.more_noised_jacobian import MoreNoisedJacobian
from tfnas.metrics.noise_jacobian import NoiseJacobian
from tfnas.metrics.rank_average import RankAverage
from tfnas.metrics.scores import correlation, cosine_score, log_eig_score

LSTM_LIKE = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_tanh", "input": ["i"]},
    "f": {"op": "linear", "input": ["h_prev_1", "x", "i_act"]},
    "f_act": {"op": "activation_leaky_relu", "input": ["f"]},
    "c": {"op": "blend", "input": ["f_act", "h_prev_1", "i_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["c", "f_act"]},
    "h_new_0": {"op": "activation_tanh", "input": ["h_new_1"]},
}


@pytest.fixture
def setup(tiny_rnn_space):
    recipe = Recipe.from_json(LSTM_LIKE)
    model = tiny_rnn_space.build_model(recipe, seed=0)
    model.eval()
    return tiny_rnn_space, recipe, model, tiny_rnn_space.metric_batch()


def reference_jacobian(model, tokens, noise=None):
    embedded = model.embed(tokens).detach()
    if noise is not None:
        embedded = embedded + noise
    embedded.requires_grad_(True)
    outputs, _ = model.run_layers(embedded)
    outputs[-1].sum().backward()
    return embedded.grad.transpose(0, 1).reshape(tokens.size(1), -1)


def test_jacobian_rows_are_input_gradients_per_sequence(setup):
    space, _, model, tokens = setup
    probe = RNNProbe(model, tokens, {"jacobian"})
    rows = probe.jacobian_rows()
    assert rows.shape == (tokens.size(1), tokens.size(0) * model.emsize)
    assert all(p.grad is None for p in model.parameters())  # no weight gradient was computed
    torch.testing.assert_close(rows, reference_jacobian(model, tokens))
    value = METRICS.get("jacobian_cov")().compute(probe)
    ref = correlation(reference_jacobian(model, tokens).double())
    eig = np.linalg.eigvalsh(ref.numpy()) + 1e-5
    assert value == pytest.approx(-np.sum(np.log(eig) + 1 / eig), rel=1e-9)


def test_noise_variants_match_a_manual_noised_jacobian(setup):
    _, _, model, tokens = setup
    probe = RNNProbe(model, tokens, {"jacobian", JACOBIAN_NOISE.need(10.0), JACOBIAN_NOISE.need(0.1), JACOBIAN_NOISE.need(100.0)})
    clean = model.embed(tokens).detach()
    variance = clean.var(dim=1, unbiased=False, keepdim=True)
    eps = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    expected = reference_jacobian(model, tokens, 10.0 * variance * eps)
    torch.testing.assert_close(probe.noised_jacobian_rows(10.0), expected)
    s = lambda r: log_eig_score(correlation(r))
    assert NoiseJacobian(10.0).compute(probe) == pytest.approx(1 - abs(s(probe.jacobian_rows()) - s(expected)))
    cos = NoiseJacobian(10.0, "cosine").compute(probe)
    assert cos == pytest.approx(1 - abs(cosine_score(probe.jacobian_rows()) - cosine_score(expected)))
    product = MoreNoisedJacobian(score="cosine").compute(probe)
    rows = [probe.jacobian_rows()] + [probe.noised_jacobian_rows(a) for a in (0.1, 10.0, 100.0)]
    assert product == pytest.approx(math.prod(cosine_score(r) for r in rows))
    assert NoiseJacobian(10.0, "cosine").key == "noise_jacobian_cosine_large"


def test_saliency_and_hidden_saliency_match_backward_of_half_squared_norm(setup):
    _, recipe, model, tokens = setup
    probe = RNNProbe(model, tokens, {"saliency", "hidden_saliency"})
    records = []
    outputs, _ = model.run_layers(model.embed(tokens), records=records)
    hiddens = [step["h_new_0"] for layer in records for step in layer[:-1]]
    for h in hiddens:
        h.retain_grad()
    (0.5 * outputs[-1].pow(2).sum()).backward()
    expected = float((model.decoder.weight * model.decoder.weight.grad).abs().sum().detach())
    for cell in model.cells:
        # recurrent weights: every input of a linear node but its first (i: h_prev_0; f: x and i_act)
        for key in ("i__1", "f__1", "f__2"):
            expected += float((cell.weights[key] * cell.weights[key].grad).abs().sum().detach())
    value = METRICS.get("synaptic_saliency")().compute(probe)
    assert value == pytest.approx(expected, rel=1e-5)
    hidden_expected = sum(float((h * h.grad).abs().sum().detach()) for h in hiddens)
    assert HiddenSynapticSaliency().compute(probe) == pytest.approx(hidden_expected, rel=1e-5)
    assert len(probe.saliency_terms()) == 3 * 3 + 1


def test_activation_distance_matches_naive_hamming_kernel(setup):
    _, _, model, tokens = setup
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


def test_fused_hamming_kernel_equals_per_site_sum_across_chunks():
    gen = torch.Generator().manual_seed(1)
    codes = [(torch.rand(5, m, generator=gen) > 0.5).float() for m in (3, 7, 11, 2)]
    naive = sum(x.double() @ x.double().t() + (1 - x.double()) @ (1 - x.double()).t() for x in codes)
    torch.testing.assert_close(hamming_kernel(codes, chunk_columns=8), naive)


def test_shared_pass_equals_separate_computation(tiny_rnn_space):
    recipe = Recipe.from_json(LSTM_LIKE)
    names = ["hidden_cov", "jacobian_cov", "jacobian_cosine", "synaptic_saliency", "hidden_saliency",
             "activation_distance", "params"]
    metrics = [METRICS.get(n)() for n in names] + [NoiseJacobian(10.0), MoreNoisedJacobian(score="cosine")]
    together = Scorer(tiny_rnn_space, metrics)(recipe).scores
    for metric in metrics:
        alone = Scorer(tiny_rnn_space, [metric])(recipe).scores[metric.key]
        assert alone == pytest.approx(together[metric.key], rel=1e-6), metric.key


def test_hidden_covariance_alone_runs_no_backward_and_no_decoder(setup, monkeypatch):
    _, _, model, tokens = setup

    def forbidden(*args, **kwargs):
        raise AssertionError("a backward pass ran")

    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    model.decoder.register_forward_hook(lambda *a: (_ for _ in ()).throw(AssertionError("decoder ran")))
    probe = RNNProbe(model, tokens, {"hidden:1"})
    assert math.isfinite(METRICS.get("hidden_cov")().compute(probe))
    assert len(probe._layer_outputs) == 1  # stopped after layer 1


def test_unknown_need_is_a_clear_error(setup):
    from tfnas.errors import ConfigError

    _, _, model, tokens = setup
    with pytest.raises(ConfigError, match="cannot provide"):
        RNNProbe(model, tokens, {"gradients_of_everything"})


def test_rank_average_uses_percentiles_in_the_reference():
    reference = [{"params": str(v), "hidden_saliency": str(v)} for v in (1, 2, 3, 4)]
    metric = RankAverage(components=[{"name": "params", "weight": 3}, {"name": "hidden_saliency", "weight": 1}],
                         reference=reference)
    # params 3 (higher is better): 2 below + half a tie -> 2.5/4; hidden_saliency 3 (lower is better): 1 better -> 1.5/4
    assert metric.combine({"params": 3.0, "hidden_saliency": 3.0}) == pytest.approx((3 * 2.5 / 4 + 1.5 / 4) / 4)
    assert metric.combine({"params": math.nan, "hidden_saliency": 0.5}) == pytest.approx(1 / 4)
    assert metric.needs() == {"params", "hidden_saliency"}


def test_flop_count_of_a_simple_rnn_cell(tiny_rnn_space):
    recipe = Recipe.from_json({"f": {"op": "linear", "input": ["x", "h_prev_0"]},
                               "h_new_0": {"op": "activation_tanh", "input": ["f"]}})
    model = tiny_rnn_space.build_model(recipe, seed=0)
    cell = model.cells[0]
    forward, weights = layer_gemm_flops(cell, 10)
    assert forward == 2 * 10 * (16 * 24 + 24 * 24) and weights == 2 * 10 * 24 * 24
    assert probe_flops(model, 8, 12, {"hidden:1"}) == layer_gemm_flops(cell, 96)[0]
