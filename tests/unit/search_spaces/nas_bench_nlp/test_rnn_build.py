"""The RNN space's models: the embedding and decoder built once and shared, each parameter from its own seeded
stream on the target device, a fresh full build equal to the shared-parts build."""
import math

import numpy as np
import torch

from tfnas.search_spaces.nas_bench_nlp import load_recipes


def test_the_builder_equals_a_fresh_build_and_shares_the_embedding(tiny_rnn_space):
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(4)]
    build = tiny_rnn_space.model_builder(7, "cpu")
    built = [build(arch) for arch in archs]
    for arch, model in zip(archs, built):
        fresh = tiny_rnn_space.build_model(arch, seed=7)
        assert model.state_dict().keys() == fresh.state_dict().keys()
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values()))
        assert model.encoder is built[0].encoder and model.decoder is built[0].decoder  # built once
        assert model.decoder.weight is model.encoder.weight  # still tied
    other = tiny_rnn_space.build_model(archs[0], seed=8)
    assert not torch.equal(other.encoder.weight, built[0].encoder.weight)


def test_weights_follow_the_benchmark_distributions_and_leave_the_global_generator_alone(tiny_rnn_space):
    state = torch.get_rng_state()
    model = tiny_rnn_space.build_model(load_recipes()[1000001], seed=0)
    assert torch.equal(state, torch.get_rng_state())
    encoder = model.encoder.weight
    assert encoder.abs().max() <= 0.1 and abs(float(encoder.std()) - 0.2 / math.sqrt(12)) < 0.005
    assert model.decoder.bias.abs().max() == 0
    for cell in model.cells:
        bound = 1 / math.sqrt(cell.hidden_size)
        values = torch.cat([p.detach().flatten() for p in cell.parameters()])
        assert values.abs().max() <= bound and values.abs().max() > 0.9 * bound


def test_a_cell_does_not_depend_on_the_other_layers_or_the_architecture_around_it(tiny_rnn_space):
    """A layer's cell draws from its own stream: the same recipe's layer-2 cell has the same weights whatever the
    seed's other draws, and a different recipe's cells start from the same stream values."""
    from tfnas.search_spaces.nas_bench_nlp import Recipe

    small = Recipe.from_json({"h_new_0": {"op": "linear", "input": ["x", "h_prev_0"]}})
    large = Recipe.from_json({"h_new_0": {"op": "linear", "input": ["x", "h_prev_0"]},
                              "z": {"op": "linear", "input": ["x", "h_new_0"]}, "h_new_1": {"op": "activation_tanh", "input": ["z"]}})
    a, b = (tiny_rnn_space.build_model(r, seed=0) for r in (small, large))
    assert torch.equal(a.cells[1].weights["h_new_0__0"], b.cells[1].weights["h_new_0__0"])  # the first weights drawn
    assert not torch.equal(a.cells[1].weights["h_new_0__0"], a.cells[2].weights["h_new_0__0"][:, :24])


def test_seed_none_draws_from_torchs_global_generator(tiny_rnn_space):
    recipe = load_recipes()[1000001]
    torch.manual_seed(3)
    first = tiny_rnn_space.build_model(recipe).encoder.weight
    torch.manual_seed(3)
    assert torch.equal(first, tiny_rnn_space.build_model(recipe).encoder.weight)
    assert not torch.equal(first, tiny_rnn_space.build_model(recipe).encoder.weight)
