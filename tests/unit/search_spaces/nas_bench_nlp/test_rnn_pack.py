"""A pack of cells (pack.py, passes.py): its forward is the cells' own and its gradients are plain autograd's (to float
rounding), and a model's values are the same bit for bit alone or with others, whatever the pack."""
import numpy as np
import pytest
import torch

from rnn_reference import LSTM_LIKE, reference_jacobian
from tfnas.search_spaces.nas_bench_nlp import Recipe
from tfnas.search_spaces.nas_bench_nlp.pack import PackSchedule, run_layer
from tfnas.search_spaces.nas_bench_nlp.passes import PackedPasses, packs
from tfnas.search_spaces.nas_bench_nlp.probe import probe_many

# every op, H = 1..3, x read twice by one linear, a linear reading only inner nodes, h_prev read by an elementwise op
ODD = Recipe.from_json({
    "a": {"op": "linear", "input": ["x", "h_prev_0", "x"]},
    "b": {"op": "activation_sigm", "input": ["a"]},
    "c": {"op": "linear", "input": ["b", "h_prev_2"]},
    "d": {"op": "activation_leaky_relu", "input": ["c"]},
    "e": {"op": "linear", "input": ["d", "b"]},
    "h_new_2": {"op": "elementwise_prod", "input": ["e", "h_prev_1"]},
    "h_new_1": {"op": "blend", "input": ["b", "d", "h_prev_2"]},
    "h_new_0": {"op": "activation_tanh", "input": ["h_new_1"]},
})
EVERYTHING = {"hidden:1", "hidden:2", "hidden:3", "activation_codes", "jacobian", "saliency", "hidden_saliency",
              "jacobian_noise:0.1", "jacobian_noise:10.0"}


def recipes(space, count=6):
    return [Recipe.from_json(LSTM_LIKE), ODD] + [space.sample(np.random.default_rng(i)) for i in range(count - 2)]


def models_of(space, archs):
    build = space.model_builder(0, "cpu")
    return [build(arch).eval() for arch in archs]


def _close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-5) -> bool:
    """Equal to float rounding, relative to the tensor's scale (terms summed in another order)."""
    return float((a - b).abs().max()) <= rel * float(a.abs().max())


def test_forward_equals_each_cell_run_alone(tiny_rnn_space):
    models = models_of(tiny_rnn_space, recipes(tiny_rnn_space))
    tokens = tiny_rnn_space.metric_batch()
    embedded = models[0].embed(tokens)
    schedule = PackSchedule([m.recipe for m in models])
    inputs = [embedded] * len(models)
    for layer in range(models[0].nlayers):
        with torch.no_grad():
            outputs, states, _ = run_layer(schedule, [m.cells[layer] for m in models], inputs)
            for model, x, out, state in zip(models, inputs, outputs, states):
                alone, alone_state = model.cells[layer](x)
                assert _close(alone, out) and all(_close(a, b) for a, b in zip(alone_state, state))
        inputs = outputs


def test_gradients_equal_plain_autograd(tiny_rnn_space):
    models = models_of(tiny_rnn_space, recipes(tiny_rnn_space, 4))
    tokens = tiny_rnn_space.metric_batch()
    packed = PackedPasses(models, tokens, {"jacobian", "saliency", "jacobian_noise:10.0"}).members
    for model, passes in zip(models, packed):
        assert _close(reference_jacobian(model, tokens), passes.jacobian)
        embedded = model.embed(tokens)
        y = model.run_layers(embedded)[0][-1]
        weights = [p for cell in model.cells for p in cell.weights.values()] + [model.decoder.weight]
        grads = torch.autograd.grad(y, weights, y.detach())
        expected = {id(w): (w * g).abs() for w, g in zip(weights, grads)}
        for w, term in zip(_saliency_weights(model), passes.saliency):
            assert _close(expected[id(w)], term)


def _saliency_weights(model):
    from tfnas.search_spaces.nas_bench_nlp.passes import saliency_weights

    return saliency_weights(model)


def test_a_model_alone_and_in_packs_of_any_size_gets_the_same_values(tiny_rnn_space):
    models = models_of(tiny_rnn_space, recipes(tiny_rnn_space, 7))
    tokens = tiny_rnn_space.metric_batch()
    alone = [PackedPasses([m], tokens, EVERYTHING).members[0] for m in models]
    for pack in (models, models[::-1], models[2:5]):
        for model, passes in zip(pack, PackedPasses(pack, tokens, EVERYTHING).members):
            expected = alone[models.index(model)]
            assert _same(passes.layer_outputs, expected.layer_outputs) and _same(passes.codes, expected.codes)
            assert torch.equal(passes.jacobian, expected.jacobian) and _same(passes.saliency, expected.saliency)
            assert passes.hidden_saliency == expected.hidden_saliency
            assert all(torch.equal(passes.noised[a], expected.noised[a]) for a in (0.1, 10.0))


def _same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def test_probes_of_a_pack_serve_what_a_probe_alone_serves(tiny_rnn_space):
    models = models_of(tiny_rnn_space, recipes(tiny_rnn_space, 3))
    tokens = tiny_rnn_space.metric_batch()
    needs = {"hidden:2", "params", "lm_grad"}  # the LM pass is not packed: each member runs its own
    for model, probe in zip(models, probe_many(models, tokens, needs)):
        alone = tiny_rnn_space.probe(model, tokens, needs)
        assert type(probe) is type(alone) and probe.num_parameters() == alone.num_parameters()
        assert torch.equal(probe.hidden_states(2), alone.hidden_states(2))
        assert all(torch.equal(a, b) for x, y in zip(probe.lm_grads(), alone.lm_grads()) for a, b in zip(x, y))


def test_what_packs_and_what_a_pack_refuses(tiny_rnn_space):
    assert packs({"hidden:1"}) and packs({"jacobian", "lm_grad"}) and not packs({"lm_grad", "params"})
    tokens = tiny_rnn_space.metric_batch()
    other = tiny_rnn_space.build_model(Recipe.from_json(LSTM_LIKE), seed=0).eval()
    with pytest.raises(ValueError, match="share one embedding"):
        PackedPasses(models_of(tiny_rnn_space, [ODD]) + [other], tokens, {"hidden:1"})
    with pytest.raises(ValueError, match="evaluation mode"):
        PackedPasses([m.train() for m in models_of(tiny_rnn_space, [ODD])], tokens, {"hidden:1"})
