"""Parameter counts of the RNN language model from its config, before anything is built (tfnas.model_size).

At construction the space knows the sizes but not the cell, so it checks the smallest model those
sizes allow (one `linear` node reading x and h_prev_0 in every layer); each cell is checked exactly
before it is built, when the corpus has given the vocabulary.
"""
from __future__ import annotations

from typing import Mapping

from tfnas.model_size import check_model_size
from tfnas.search_spaces.nas_bench_nlp.recipe import INPUT_X, Recipe

SIZE_KEYS = ("emsize", "nhid", "nlayers")
DEFAULTS = {"emsize": 400, "nhid": 600, "nlayers": 3}  # RNNLanguageModel's defaults


def layer_sizes(model: Mapping) -> list[int]:
    emsize, nhid, nlayers = (int(model.get(k, DEFAULTS[k])) for k in SIZE_KEYS)
    tied = model.get("tie_weights", True)
    return [emsize] + [nhid] * (nlayers - 1) + [emsize if tied else nhid]


def cell_parameters(recipe: Recipe | None, in_size: int, out_size: int) -> int:
    """One layer's weights and biases; without a recipe, the smallest cell (x and h_prev_0 into one linear)."""
    if recipe is None:
        return out_size * (in_size + out_size) + out_size
    total = 0
    for node in recipe.nodes.values():
        if node.op == "linear":
            total += sum(out_size * (in_size if source == INPUT_X else out_size) for source in node.inputs) + out_size
    return total


def rnn_parameters(model: Mapping, vocab: int, recipe: Recipe | None = None) -> int:
    sizes = layer_sizes(model)
    cells = sum(cell_parameters(recipe, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))
    decoder = vocab if model.get("tie_weights", True) else sizes[-1] * vocab + vocab
    return vocab * sizes[0] + cells + decoder


def check_rnn_size(model: Mapping, vocab: int, recipe: Recipe | None = None) -> None:
    """Refuse (ConfigError naming space.model.<key>) a model whose training state cannot fit in memory."""
    sizes = {k: int(model.get(k, DEFAULTS[k])) for k in SIZE_KEYS}
    check_model_size(rnn_parameters(model, vocab, recipe), sizes, DEFAULTS)
