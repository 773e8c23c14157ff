"""Recipe parsing, validation (one test per rule) and canonical hashing."""
import json

import pytest

from tfnas.search_spaces.nas_bench_nlp import Recipe, load_recipes
from tfnas.errors import InvalidArchitecture

RNN = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}


def make(**nodes):
    return {name: {"op": op, "input": list(inputs)} for name, (op, inputs) in nodes.items()}


def test_reference_cells_parse_and_round_trip():
    recipe = Recipe.from_json(RNN)
    assert recipe.hidden_tuple_size == 1
    assert Recipe.from_json(recipe.to_json()).hash == recipe.hash
    assert Recipe.from_json(json.dumps(RNN)).hash == recipe.hash


@pytest.mark.parametrize(
    "nodes, fragment",
    [
        (make(f=("conv", ["x", "h_prev_0"]), h_new_0=("activation_tanh", ["f"])), "node 'f': unknown op 'conv'"),
        (make(f=("linear", ["x"]), h_new_0=("activation_tanh", ["f"])), "takes 2 or 3 inputs, got 1"),
        (make(f=("linear", ["x", "h_prev_0"]), h_new_0=("blend", ["f", "f"])), "'blend' takes 3 inputs"),
        (make(f=("linear", ["x", "ghost"]), h_new_0=("activation_tanh", ["f"])), "missing input 'ghost'"),
        (make(f=("linear", ["x", "h_prev_1"]), h_new_0=("activation_tanh", ["f"])), "only h_prev_0..h_prev_0 exist"),
        (
            make(a=("linear", ["x", "b"]), b=("activation_tanh", ["a"]), h_new_0=("activation_tanh", ["b"])),
            "cycle",
        ),
        (make(f=("linear", ["x", "h_prev_0"]), h_new_0=("elementwise_sum", ["f", "x"])), "only 'linear' may read 'x'"),
        (make(f=("linear", ["x", "h_prev_0"]), out=("activation_tanh", ["f"])), "missing output node 'h_new_0'"),
        (
            make(f=("linear", ["x", "h_prev_0"]), h_new_0=("activation_tanh", ["f"]), h_new_2=("activation_sigm", ["f"])),
            "missing h_new_1",
        ),
    ],
    ids=["unknown-op", "linear-arity", "blend-arity", "missing-input", "h_prev-out-of-range", "cycle", "x-non-linear",
         "no-h_new_0", "non-contiguous"],
)
def test_each_validation_rule_names_the_node_and_rule(nodes, fragment):
    with pytest.raises(InvalidArchitecture, match=None) as err:
        Recipe.from_json(nodes)
    assert fragment in str(err.value)


def test_malformed_json_is_refused_clearly():
    with pytest.raises(InvalidArchitecture, match="not valid JSON"):
        Recipe.from_json("{nope")
    with pytest.raises(InvalidArchitecture, match="keys 'op' and 'input'"):
        Recipe.from_json({"h_new_0": {"op": "linear"}})


def test_hash_ignores_inner_names_and_commutative_order():
    lstm = load_recipes()[1000001]
    renamed = {}
    mapping = {name: (name if name.startswith("h_new") else f"zz_{i}") for i, name in enumerate(lstm.nodes)}
    for name, node in lstm.nodes.items():
        inputs = [mapping.get(i, i) for i in node.inputs]
        if node.op in ("linear", "elementwise_prod", "elementwise_sum"):
            inputs = inputs[::-1]
        renamed[mapping[name]] = {"op": node.op, "input": inputs}
    # reversed insertion order too
    renamed = dict(reversed(list(renamed.items())))
    assert Recipe.from_json(renamed).hash == lstm.hash


def test_hash_distinguishes_real_differences():
    base = Recipe.from_json(RNN)
    sigm = Recipe.from_json({**RNN, "h_new_0": {"op": "activation_sigm", "input": ["f"]}})
    blend_swapped = make(
        f=("linear", ["x", "h_prev_0"]), g=("activation_sigm", ["f"]), h_new_0=("blend", ["g", "h_prev_0", "f"])
    )
    blend_other = make(
        f=("linear", ["x", "h_prev_0"]), g=("activation_sigm", ["f"]), h_new_0=("blend", ["g", "f", "h_prev_0"])
    )
    assert base.hash != sigm.hash
    assert Recipe.from_json(blend_swapped).hash != Recipe.from_json(blend_other).hash  # blend is not commutative


def test_benchmark_cells_are_valid_and_mostly_distinct():
    recipes = load_recipes()
    assert len(recipes) == 344  # 345 entries; model 1002429 is listed twice with the same recipe
    assert {r.hidden_tuple_size for r in recipes.values()} == {1, 2, 3}
    # The benchmark trained some cells several times (53 exact JSON copies, more up to input
    # order): 265 distinct architectures among the 344 ids.
    assert len({r.hash for r in recipes.values()}) == 265
    assert recipes[1003533].hash == recipes[1003598].hash  # sum(lin, tanh(lin)) written two ways
