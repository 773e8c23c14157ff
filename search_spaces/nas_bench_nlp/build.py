"""Building the RNN space's untrained models: the parts every architecture shares once, the cells per architecture.

Every architecture's language model has the same word embedding and the same decoder (tied to the embedding,
with a zero bias): only the recipe cells differ. The embedding and each layer's cell draw from seeded streams of
their own (tfnas.seeded_init), so the embedding has the same values in every model built with one seed and a
`RNNModelBuilder` builds it once, on the target device, then per architecture only allocates the cells there
and draws their weights. `build_model` (a fresh full build) is the builder applied once: both give the same
weights, bit for bit.

Distributions as in AWD-LSTM / NAS-Bench-NLP: embedding U(-0.1, 0.1), every cell weight and bias
U(-1/sqrt(H), 1/sqrt(H)) (H: the cell's hidden size), decoder bias 0; an untied decoder weight
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's nn.Linear default.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.seeded_init import uniform_, without_init
from tfnas.search_spaces.nas_bench_nlp.size import check_rnn_size

EMBEDDING_RANGE = 0.1


@torch.no_grad()
def init_cell_(cell, seed: int, layer: int) -> None:
    """Draw a recipe cell's weights and biases in one go from the stream of its layer ("cells.<layer>"): one flat
    tensor on the cell's device, copied into the parameters by one multi-tensor copy (on a GPU two launches per
    cell, not one per parameter: a model has dozens). The parameters keep storages of their own (safetensors
    refuses to save tensors that share one)."""
    bound = 1.0 / math.sqrt(cell.hidden_size)
    params = list(cell.parameters())
    flat = torch.empty(sum(p.numel() for p in params), device=params[0].device, dtype=params[0].dtype)
    uniform_(flat, -bound, bound, seed, f"cells.{layer}")
    torch._foreach_copy_(params, [chunk.view_as(p) for chunk, p in zip(flat.split([p.numel() for p in params]), params)])


class RNNModelBuilder:
    """`builder(recipe)` is the untrained language model of `recipe` with the shared embedding and decoder.

    The models a builder returns share those two modules (the same tensors, built once on `device`); a
    probe reads them and never writes them.
    """

    def __init__(self, vocab_size: int, model_kwargs: dict, seed: int, device: str | torch.device):
        self.vocab_size, self.model_kwargs = vocab_size, dict(model_kwargs)
        self.seed, self.device = int(seed), torch.device(device)
        with without_init(self.device):  # allocated where they are used, drawn below from named streams
            template = RNNLanguageModel(_TEMPLATE_RECIPE, vocab_size, **self.model_kwargs)
        self.encoder, self.decoder = template.encoder, template.decoder
        tied = self.decoder.weight is self.encoder.weight
        uniform_(self.encoder.weight, -EMBEDDING_RANGE, EMBEDDING_RANGE, self.seed, "encoder.weight")
        if tied:
            self.decoder.weight = self.encoder.weight
        else:
            bound = 1.0 / math.sqrt(self.decoder.in_features)
            uniform_(self.decoder.weight, -bound, bound, self.seed, "decoder.weight")
        with torch.no_grad():
            self.decoder.bias.zero_()

    def __call__(self, recipe) -> RNNLanguageModel:
        check_rnn_size(self.model_kwargs, self.vocab_size, recipe)  # before any allocation
        model = RNNLanguageModel(recipe, self.vocab_size, **self.model_kwargs, shared=(self.encoder, self.decoder),
                                 device=self.device)
        for layer, cell in enumerate(model.cells):
            init_cell_(cell, self.seed, layer)
        return model


def _template_recipe():
    """The smallest valid cell: the builder's template model only lends its embedding and decoder."""
    from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe

    return Recipe.from_json({"h_new_0": {"op": "linear", "input": ["x", "h_prev_0"]}})


_TEMPLATE_RECIPE = _template_recipe()


def legacy_build(space, recipe, seed: int, device: str | torch.device) -> nn.Module:
    """The build the RNN space used before per-parameter streams (torch's global generator: every module's
    default initialisation on the CPU, the embedding drawn after the cells, then a copy to `device`); kept as
    the reference of `tfnas bench --build-time`."""
    torch.manual_seed(seed)
    return RNNLanguageModel(recipe, space.corpus.vocab_size, **space.model_kwargs).to(device)
