"""The NAS-Bench-NLP language model: AWD-LSTM-style, 3 layers, with any recipe as its cell.

The cell itself (`RecipeCell`, `LockedDropout`) is in recipe_cell.py, which imports nothing from tfnas
so that exported model folders can carry it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe
from tfnas.search_spaces.nas_bench_nlp.recipe_cell import LockedDropout, RecipeCell

__all__ = ["LockedDropout", "RNNLanguageModel", "RecipeCell"]


class RNNLanguageModel(nn.Module):
    """Embedding -> `nlayers` recipe cells -> decoder tied to the embedding."""

    def __init__(
        self,
        recipe: Recipe,
        vocab_size: int,
        emsize: int = 400,
        nhid: int = 600,
        nlayers: int = 3,
        dropout: float = 0.1,
        dropouth: float = 0.25,
        dropouti: float = 0.4,
        dropoute: float = 0.0,
        wdrop: float = 0.1,
        tie_weights: bool = True,
        *,
        shared: tuple[nn.Embedding, nn.Linear] | None = None,
        device=None,
    ):
        """`shared`: the (encoder, decoder) to use, built and initialised by the caller, who then also draws the
        cells' weights: the cells are allocated on `device` and left uninitialised
        (tfnas.search_spaces.nas_bench_nlp.build). Without it, every part is made here with torch's default
        initialisation from the global generator."""
        super().__init__()
        self.recipe = recipe
        self.emsize, self.nhid, self.nlayers = emsize, nhid, nlayers
        self.dropoute = dropoute
        sizes = [emsize] + [nhid] * (nlayers - 1) + [emsize if tie_weights else nhid]
        if shared is None:
            self.encoder = nn.Embedding(vocab_size, emsize, device=device)
        else:
            self.encoder = shared[0]
        self.cells = nn.ModuleList(
            RecipeCell(recipe, sizes[layer], sizes[layer + 1], weight_drop=wdrop, device=device, initialise=shared is None)
            for layer in range(nlayers)
        )
        if shared is None:
            self.decoder = nn.Linear(sizes[-1], vocab_size, device=device)
            if tie_weights:
                self.decoder.weight = self.encoder.weight
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
        else:
            self.decoder = shared[1]
        self.input_dropout = LockedDropout(dropouti)
        self.hidden_dropout = LockedDropout(dropouth)
        self.output_dropout = LockedDropout(dropout)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        weight = self.encoder.weight
        if self.training and self.dropoute > 0:
            mask = weight.new_empty(weight.size(0), 1).bernoulli_(1 - self.dropoute) / (1 - self.dropoute)
            weight = weight * mask
        return F.embedding(tokens, weight)

    def run_layers(
        self,
        embedded: torch.Tensor,
        state: list | None = None,
        upto: int | None = None,
        records: list | None = None,
    ) -> tuple[list[torch.Tensor], list]:
        """Run layers 1..`upto` (all by default) on embeddings; return each layer's raw outputs and final states."""
        upto = self.nlayers if upto is None else upto
        x = self.input_dropout(embedded)
        outputs, new_state = [], []
        for layer in range(upto):
            record = [] if records is not None else None
            out, last = self.cells[layer](x, None if state is None else state[layer], record)
            if records is not None:
                records.append(record)
            outputs.append(out)
            new_state.append(last)
            x = self.hidden_dropout(out) if layer < self.nlayers - 1 else out
        return outputs, new_state

    def forward(self, tokens: torch.Tensor, state: list | None = None):
        """Logits (T x B x vocab) and the final state of each layer."""
        outputs, new_state = self.run_layers(self.embed(tokens), state)
        return self.decoder(self.output_dropout(outputs[-1])), new_state
