"""train=benchmark: labelled cells are found by canonical hash and ranked by test loss; others are flagged."""
import csv
import json

import pytest
import torch

from tfnas.search_spaces.nas_bench_nlp import Recipe
from tfnas.errors import ConfigError
from tfnas.tracking import NoTracker
from tfnas.training import BenchmarkLookup

UNKNOWN = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}


def renamed(recipe_json):
    """The same cell with its inner nodes renamed (a different spelling of the same architecture)."""
    names = {n: f"renamed_{i}" for i, n in enumerate(recipe_json) if not n.startswith("h_new_")}
    return {names.get(n, n): {"op": v["op"], "input": [names.get(i, i) for i in v["input"]]} for n, v in recipe_json.items()}


def test_lookup_finds_labelled_cells_and_flags_unknown(tiny_rnn_space, tmp_path, capsys):
    bench = tiny_rnn_space.benchmark()
    (id_a, a), (id_b, b) = bench.pool()[:2]
    shortlist = []
    for rank, recipe_json in enumerate([UNKNOWN, renamed(a.to_json()), b.to_json()], 1):
        arch = Recipe.from_json(recipe_json)
        shortlist.append({"rank": rank, "hash": arch.hash, "score": -rank, "undefined": False, "arch": recipe_json})
    final = BenchmarkLookup().run(tiny_rnn_space, shortlist, tmp_path, torch.device("cpu"), 0, NoTracker())
    losses = {id_a: bench.query_id(id_a)["test_loss"], id_b: bench.query_id(id_b)["test_loss"]}
    expected = sorted(losses, key=losses.get)
    assert [e.get("benchmark_id") for e in final] == expected + [None]
    assert [e["in_benchmark"] for e in final] == [True, True, False]
    assert final[0]["benchmark_test_loss"] == losses[expected[0]]
    assert final[2]["search_rank"] == 1 and final[2]["rank"] == 3
    out = capsys.readouterr().out
    assert "2 of 3" in out and shortlist[0]["hash"][:12] in out
    rows = list(csv.DictReader(open(tmp_path / "shortlist.csv")))
    assert [r["in_benchmark"] for r in rows] == ["True", "True", "False"]


def test_space_without_benchmark_is_a_config_error(tiny_rnn_space, tmp_path):
    class NoBench(type(tiny_rnn_space)):
        def benchmark(self):
            return None

    with pytest.raises(ConfigError, match="train=short"):
        BenchmarkLookup().run(NoBench(), [], tmp_path, torch.device("cpu"), 0, NoTracker())


def test_search_with_train_benchmark_end_to_end(tmp_path, capsys):
    from apprun import search

    search(tmp_path, "search.budget=3", "search.top_k=2", "train=benchmark")
    assert "shortlisted architectures are in nas_bench_nlp" in capsys.readouterr().out
    best = json.load(open(tmp_path / "best.json"))
    assert len(best) == 2 and all("in_benchmark" in e for e in best)
