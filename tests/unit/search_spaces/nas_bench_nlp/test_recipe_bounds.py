"""Recipes are bounded: limits are checked before anything is allocated, messages stay short,
recipes files fail with file/entry/field, the x rule is one rule, and random JSON never escapes
as anything but a Recipe or InvalidArchitecture."""
import json
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.search_spaces.nas_bench_nlp import Recipe, load_recipes
from tfnas.search_spaces.nas_bench_nlp.recipe import MAX_MESSAGE, MAX_NODES, Node

RNN = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}


def refused_quickly(data, fragment: str):
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(InvalidArchitecture, match=fragment) as err:
            Recipe.from_json(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - start < 1.0 and peak < 20e6
    assert len(str(err.value)) <= MAX_MESSAGE
    return err.value


def test_a_far_output_index_is_refused_before_allocation():
    data = {**RNN, "h_new_100000000": {"op": "activation_tanh", "input": ["f"]}}
    refused_quickly(data, "at most 8 outputs")


def test_too_many_nodes_are_refused_before_allocation():
    data = {f"n{i}": {"op": "linear", "input": ["x", "h_prev_0"]} for i in range(5000)}
    data["h_new_0"] = {"op": "activation_tanh", "input": ["n0"]}
    refused_quickly(data, f"5001 nodes; at most {MAX_NODES}")


def test_long_names_and_ops_give_short_messages():
    refused_quickly({"a" * 10**6: RNN["f"], "h_new_0": RNN["h_new_0"]}, "at most 64 characters")
    refused_quickly({"f": {"op": "z" * 10**6, "input": ["x"]}, "h_new_0": RNN["h_new_0"]}, "unknown op")
    refused_quickly({"f": {"op": "linear", "input": ["x"] * 10**6}, "h_new_0": RNN["h_new_0"]}, "at most 3 inputs")


def test_leading_zero_outputs_are_invalid_not_a_key_error():
    data = {**RNN, "h_new_01": {"op": "activation_tanh", "input": ["f"]}}
    refused_quickly(data, "without leading zeros")


def test_a_cell_that_never_reads_x_is_refused_on_every_path(tiny_rnn_space):
    no_x = {"f": {"op": "linear", "input": ["h_prev_0", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}
    refused_quickly(no_x, "never reads x")
    with pytest.raises(InvalidArchitecture, match="never reads x"):
        Recipe({"f": Node("linear", ("h_prev_0", "h_prev_0")), "h_new_0": Node("activation_tanh", ("f",))})
    dead_x = {**no_x, "dead": {"op": "linear", "input": ["x", "h_prev_0"]}}  # x read only by a node no output uses
    refused_quickly(dead_x, "never reads x")
    with pytest.raises(InvalidArchitecture, match="never reads x"):
        tiny_rnn_space.from_json(no_x)


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not a JSON file"),
    (json.dumps([{"model_id": "abc", "recipe": RNN}]), "entry 0: field 'model_id'"),
    (json.dumps([{"model_id": 7}]), r"entry 0 \(model_id 7\): field 'recipe' is missing"),
    (json.dumps([{"model_id": 1, "recipe": RNN}, {"model_id": 2, "recipe": {"h_new_0": 3}}]),
     r"entry 1 \(model_id 2\): field 'recipe': node 'h_new_0'"),
    (json.dumps({"architectures": 5}), "must hold a list"),
    (json.dumps([5]), "entry 0: must be an object"),
])
def test_malformed_recipes_files_name_file_entry_and_field(tmp_path, text, fragment):
    path = tmp_path / "recipes.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment) as err:
        load_recipes(path)
    assert str(path) in str(err.value)


def test_reproduce_rnn_prints_one_line_for_a_bad_recipes_file(tmp_path, monkeypatch, capsys):
    from tfnas.cli import main

    path = tmp_path / "recipes.json"
    path.write_text("{broken")
    with pytest.raises(SystemExit) as code:  # the command's own entry point, in this process
        main(["reproduce", "rnn", "--recipes", str(path), "--out", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "not a JSON file" in err and str(path) in err


names = st.one_of(st.sampled_from(["x", "h_prev_0", "h_prev_1", "h_new_0", "h_new_1", "h_new_01", "h_new_99999", "a", "b"]),
                  st.text(max_size=8))
ops = st.one_of(st.sampled_from(["linear", "blend", "elementwise_sum", "elementwise_prod", "activation_tanh"]), st.text(max_size=5))
node = st.fixed_dictionaries({"op": ops, "input": st.lists(names, max_size=4)})
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
                           lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
                           max_leaves=10)
recipes = st.one_of(st.dictionaries(names, node, max_size=8), st.dictionaries(names, json_values, max_size=5), json_values,
                    st.dictionaries(names, node, max_size=8).map(json.dumps), st.text(max_size=30))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes)
def test_random_json_is_a_recipe_or_invalid_architecture_in_bounded_time_and_memory(data):
    tracemalloc.start()
    start = time.process_time()
    try:
        recipe = Recipe.from_json(data)
        assert Recipe.from_json(recipe.to_json()).hash == recipe.hash
    except InvalidArchitecture as err:
        assert len(str(err)) <= MAX_MESSAGE
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.process_time() - start < 0.5 and peak < 5e6
