"""Hugging Face models of an exported NAS-Bench-NLP language model (imports nothing from tfnas).

This file, `recipe_cell.py` and `configuration_nas_bench_nlp.py` are copied verbatim into exported RNN
model folders (`tfnas export`), so that `AutoModel.from_pretrained(folder, trust_remote_code=True)` and
`AutoModelForCausalLM.from_pretrained(...)` load them where tfnas is not installed.

Inputs follow transformers' convention, `input_ids` of shape (batch, time); the recurrent cells run
time-major inside (T x B, as tfnas's `RNNLanguageModel` and AWD-LSTM do), so the outputs equal tfnas's
transposed. The weights are laid out as tfnas's model: `model.encoder`, `model.cells.N.weights/biases`,
and `decoder`, tied to the embedding.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_nas_bench_nlp import NasBenchNLPConfig
from .recipe_cell import CellRecipe, LockedDropout, RecipeCell


@dataclass
class RNNModelOutput(ModelOutput):
    """`last_hidden_state` (batch, time, hidden); `state`: each layer's final hidden tuple, to continue from;
    `hidden_states`: every layer's output (batch, time, width) when asked for."""

    last_hidden_state: torch.Tensor | None = None
    state: tuple | None = None
    hidden_states: tuple | None = None


@dataclass
class RNNCausalLMOutput(ModelOutput):
    """`loss`: mean next-token cross-entropy (nats/token) when `labels` are given; `logits` (batch, time, vocab)."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    state: tuple | None = None
    hidden_states: tuple | None = None


class NasBenchNLPPreTrainedModel(PreTrainedModel):
    config_class = NasBenchNLPConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"

    def _init_weights(self, module):
        """The benchmark's initialisation: cells uniform in +-1/sqrt(hidden), embedding uniform in +-0.1, bias 0."""
        if isinstance(module, RecipeCell):
            module.reset_parameters()
        elif isinstance(module, nn.Embedding):
            nn.init.uniform_(module.weight, -0.1, 0.1)
        elif isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


class NasBenchNLPModel(NasBenchNLPPreTrainedModel):
    """Embedding -> `nlayers` recurrent cells built from `config.recipe`; returns the last layer's outputs."""

    def __init__(self, config: NasBenchNLPConfig):
        super().__init__(config)
        recipe = CellRecipe.from_json(config.recipe)
        sizes = [config.emsize] + [config.nhid] * (config.nlayers - 1) + [config.hidden_size]
        self.encoder = nn.Embedding(config.vocab_size, config.emsize)
        self.cells = nn.ModuleList(RecipeCell(recipe, sizes[i], sizes[i + 1], weight_drop=config.wdrop)
                                   for i in range(config.nlayers))
        self.input_dropout = LockedDropout(config.dropouti)
        self.hidden_dropout = LockedDropout(config.dropouth)
        if config.recurrent_weights == "frozen":
            for cell in self.cells:
                for key in cell.hidden_weight_keys():
                    cell.weights[key].requires_grad_(False)
        self.post_init()

    def get_input_embeddings(self):
        return self.encoder

    def set_input_embeddings(self, value):
        self.encoder = value

    def forward(self, input_ids: torch.Tensor, state: tuple | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None, **kwargs) -> RNNModelOutput | tuple:
        """`input_ids` (batch, time). An `attention_mask` is accepted and not needed: the cells read left to right,
        so padding at the end changes no earlier position."""
        weight = self.encoder.weight
        if self.training and self.config.dropoute > 0:  # embedding dropout: whole words at once
            weight = weight * weight.new_empty(weight.size(0), 1).bernoulli_(1 - self.config.dropoute) / (1 - self.config.dropoute)
        x = self.input_dropout(F.embedding(input_ids.t(), weight))  # time-major from here on
        outputs, new_state = [], []
        for layer, cell in enumerate(self.cells):
            out, last = cell(x, None if state is None else state[layer])
            outputs.append(out.transpose(0, 1))
            new_state.append(last)
            x = self.hidden_dropout(out) if layer < len(self.cells) - 1 else out
        hidden = tuple(outputs) if output_hidden_states else None
        result = RNNModelOutput(last_hidden_state=outputs[-1], state=tuple(new_state), hidden_states=hidden)
        return result if return_dict is not False else result.to_tuple()


class NasBenchNLPForCausalLM(NasBenchNLPPreTrainedModel):
    """The language model: `model(input_ids=ids, labels=ids)` gives `.logits` (batch, time, vocab) and `.loss`,
    the mean cross-entropy of each position's prediction of the next token (labels -100 are left out)."""

    _tied_weights_keys = {"decoder.weight": "model.encoder.weight"}

    def __init__(self, config: NasBenchNLPConfig):
        super().__init__(config)
        self.model = NasBenchNLPModel(config)
        self.output_dropout = LockedDropout(config.dropout)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_word_embeddings:
            self.decoder.weight = self.model.encoder.weight
        self.post_init()

    def get_input_embeddings(self):
        return self.model.encoder

    def set_input_embeddings(self, value):
        self.model.encoder = value

    def get_output_embeddings(self):
        return self.decoder

    def set_output_embeddings(self, value):
        self.decoder = value

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None, state: tuple | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None,
                **kwargs) -> RNNCausalLMOutput | tuple:
        base = self.model(input_ids, state=state, output_hidden_states=output_hidden_states, return_dict=True)
        hidden = self.output_dropout(base.last_hidden_state.transpose(0, 1)).transpose(0, 1)
        logits = self.decoder(hidden)
        loss = None
        if labels is not None:  # position t predicts token t + 1
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),
                                   ignore_index=-100)
        result = RNNCausalLMOutput(loss=loss, logits=logits, state=base.state, hidden_states=base.hidden_states)
        return result if return_dict is not False else result.to_tuple()
