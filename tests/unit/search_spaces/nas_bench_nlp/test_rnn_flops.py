"""GEMM flops of the RNN probe's passes."""
from tfnas.search_spaces.nas_bench_nlp.flops import layer_gemm_flops, probe_flops
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def test_flop_count_of_a_simple_rnn_cell(tiny_rnn_space):
    recipe = Recipe.from_json({"f": {"op": "linear", "input": ["x", "h_prev_0"]},
                               "h_new_0": {"op": "activation_tanh", "input": ["f"]}})
    model = tiny_rnn_space.build_model(recipe, seed=0)
    cell = model.cells[0]
    forward, weights = layer_gemm_flops(cell, 10)
    assert forward == 2 * 10 * (16 * 24 + 24 * 24) and weights == 2 * 10 * 24 * 24
    assert probe_flops(model, 8, 12, {"hidden:1"}) == layer_gemm_flops(cell, 96)[0]
