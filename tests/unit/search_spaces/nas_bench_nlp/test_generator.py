"""The benchmark's cell generator and the mutation operator."""
import numpy as np
import pytest

from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace, Recipe, generate, load_recipes, mutate
from tfnas.search_spaces.nas_bench_nlp.recipe import INPUT_X, h_new, h_prev


def generator_rules_hold(recipe: Recipe) -> bool:
    used = {i for node in recipe.nodes.values() for i in node.inputs}
    hidden = recipe.hidden_tuple_size
    direct = any(i.startswith("h_prev_") for j in range(hidden) for i in recipe.nodes[h_new(j)].inputs)
    return {INPUT_X, *(h_prev(j) for j in range(hidden))} <= used and not direct


@pytest.mark.parametrize("hidden", [1, 2, 3])
def test_generated_cells_are_valid_and_follow_the_generator_rules(hidden):
    rng = np.random.default_rng(hidden)
    for _ in range(150):
        recipe = generate(rng, hidden)
        assert recipe.hidden_tuple_size == hidden
        Recipe(recipe.nodes)  # re-validates
        assert generator_rules_hold(recipe)


def test_generator_statistics_match_the_benchmark_cells():
    bench = list(load_recipes().values())
    space = NasBenchNLPSpace()
    rng = np.random.default_rng(0)
    sample = [space.sample(rng) for _ in range(800)]

    def stats(cells):
        sizes = np.array([len(c) for c in cells])
        ops = [op for c in cells for op in c.ops()]
        linear = ops.count("linear") / len(ops)
        return sizes.mean(), sizes.min(), sizes.max(), linear

    bench_mean, bench_min, bench_max, bench_linear = stats(bench)
    mean, low, high, linear = stats(sample)
    assert abs(mean - bench_mean) < 1.0, (mean, bench_mean)  # benchmark: 7.1 nodes on average
    assert low <= bench_min + 1 and high >= bench_max - 3
    assert abs(linear - bench_linear) < 0.05
    for hidden in (1, 2, 3):  # per-H node counts
        b = np.mean([len(c) for c in bench if c.hidden_tuple_size == hidden])
        s = np.mean([len(c) for c in sample if c.hidden_tuple_size == hidden])
        assert abs(b - s) < 1.2, (hidden, b, s)
    shares = np.bincount([c.hidden_tuple_size for c in sample], minlength=4)[1:] / len(sample)
    np.testing.assert_allclose(shares, np.array([161, 141, 43]) / 345, atol=0.04)


def test_generator_is_seeded():
    a = [generate(np.random.default_rng(7), 2).hash for _ in range(3)]
    b = [generate(np.random.default_rng(7), 2).hash for _ in range(3)]
    assert a == b


def test_mutation_always_returns_a_valid_different_cell():
    rng = np.random.default_rng(3)
    cells = list(load_recipes().values())[:60]
    for cell in cells:
        for _ in range(5):
            child = mutate(cell, rng)
            Recipe(child.nodes)
            assert child.hash != cell.hash
            assert any(INPUT_X in node.inputs for node in child.nodes.values())
            assert child.hidden_tuple_size == cell.hidden_tuple_size
