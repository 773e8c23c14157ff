"""The FlexiBERT-style heterogeneous encoder as a transformers model.

`FlexiBertConfig` holds one architecture (hidden size + per-layer `encoder_layers` dicts in the
benchmark's format) and the ELECTRA-small embedding settings; `FlexiBertModel` builds exactly
that architecture (real hidden and feed-forward sizes) and supports save_pretrained /
from_pretrained. Each encoder layer is: token mixing (SA/SDP, SA/WMA, LT/DFT, LT/DCT, DSC/k),
output projection + residual + LayerNorm, then `num_feed_forward` GELU dense layers of width
`feed_forward_dimension`, a projection back to the hidden size, residual and LayerNorm.

Padding: attention masks are right-padding masks (what the tokenizer produces). Padded tokens
never influence real tokens: attention masks the keys, convolutions see zeros, and the linear
transforms use each sequence's own length.

Outputs follow transformers' conventions: `return_dict`, `output_hidden_states` (the embedding
output and every layer's output) and `output_attentions` (per layer: the attention probabilities
of SA layers, those of the attention half of DSC layers, and None for LT layers, which have none).
Gradient checkpointing (`gradient_checkpointing_enable()`) recomputes each layer in backward.
Heads: `FlexiBertForMaskedLM` (BERT's transform + decoder) and `FlexiBertForSequenceClassification`
(BERT's pooler on the first token + a linear classifier).

This file, flexibert_layers.py (the blocks) and configuration_flexibert.py import nothing from tfnas: `tfnas export` copies them
into a model folder that loads with `trust_remote_code=True` where tfnas is not installed.

A probe can attach a recorder (`set_recorder`) that receives projection outputs, attention
probabilities and feed-forward activations as they are computed; without one nothing is kept.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, MaskedLMOutput, SequenceClassifierOutput

from .configuration_flexibert import FlexiBertConfig
from .flexibert_layers import Embeddings, EncoderLayer, InvalidArchitecture, SelfAttention


class FlexiBertPreTrainedModel(PreTrainedModel):
    config_class = FlexiBertConfig
    base_model_prefix = "flexibert"
    supports_gradient_checkpointing = True

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, SelfAttention) and module.wma is not None:
            nn.init.normal_(module.wma, mean=0.0, std=self.config.initializer_range)


class FlexiBertModel(FlexiBertPreTrainedModel):
    """The heterogeneous encoder; returns `last_hidden_state` (b, T, hidden)."""

    def __init__(self, config: FlexiBertConfig):
        super().__init__(config)
        if not config.encoder_layers:
            raise InvalidArchitecture("encoder_layers: at least one layer is needed")
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList([EncoderLayer(layer, config) for layer in config.encoder_layers])
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value):
        self.embeddings.word_embeddings = value

    def set_recorder(self, recorder: Any) -> None:
        """Attach (or with None detach) a probe's recorder to every operation that reports to one."""
        for module in self.modules():
            if hasattr(module, "_recorder"):
                module._recorder = recorder

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        if input_ids is None:
            raise ValueError("FlexiBertModel needs input_ids")
        output_attentions = _flag(output_attentions, self.config.output_attentions)
        output_hidden_states = _flag(output_hidden_states, self.config.output_hidden_states)
        return_dict = _flag(return_dict, self.config.return_dict)
        if input_ids.size(1) > self.config.max_position_embeddings:
            raise ValueError(
                f"sequence length {input_ids.size(1)} exceeds max_position_embeddings "
                f"{self.config.max_position_embeddings}"
            )
        mask = None
        if attention_mask is not None:
            mask = attention_mask.bool()
            if bool(mask.all()):
                mask = None  # nothing padded: the unmasked kernels are faster and give the same result
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        hidden_states = (x,) if output_hidden_states else None
        attentions = () if output_attentions else None
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                x, probs = self._gradient_checkpointing_func(layer.__call__, x, mask, output_attentions)
            else:
                x, probs = layer(x, mask, output_attentions)
            if output_hidden_states:
                hidden_states += (x,)
            if output_attentions:
                attentions += (probs,)
        if not return_dict:
            return tuple(v for v in (x, hidden_states, attentions) if v is not None)
        return BaseModelOutput(last_hidden_state=x, hidden_states=hidden_states, attentions=attentions)


def _flag(value: bool | None, default: bool) -> bool:
    return default if value is None else bool(value)


class FlexiBertLMHead(nn.Module):
    """BERT's masked-LM head: dense + GELU + LayerNorm, then a decoder onto the vocabulary."""

    def __init__(self, config: FlexiBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(F.gelu(self.dense(states))))


class FlexiBertForMaskedLM(FlexiBertPreTrainedModel):
    """The encoder with a masked-language-modelling head; `labels` of -100 are ignored in the loss."""

    def __init__(self, config: FlexiBertConfig):
        super().__init__(config)
        self.flexibert = FlexiBertModel(config)
        self.lm_head = FlexiBertLMHead(config)
        self.post_init()

    def get_output_embeddings(self):
        return self.lm_head.decoder

    def set_output_embeddings(self, value):
        self.lm_head.decoder = value

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None, **kwargs):
        return_dict = _flag(return_dict, self.config.return_dict)
        out = self.flexibert(input_ids, attention_mask, token_type_ids, position_ids,
                             output_attentions=output_attentions, output_hidden_states=output_hidden_states, return_dict=True)
        logits = self.lm_head(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), labels.view(-1), ignore_index=-100)
        if not return_dict:
            rest = tuple(v for v in (logits, out.hidden_states, out.attentions) if v is not None)
            return rest if loss is None else (loss,) + rest
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class FlexiBertForSequenceClassification(FlexiBertPreTrainedModel):
    """BERT's pooler (first token, dense + tanh) and a linear classifier; `config.problem_type` picks the loss
    (regression: MSE, single_label_classification: cross-entropy, multi_label_classification: BCE),
    inferred from `num_labels` and the labels' dtype when unset, as transformers' BERT does."""

    def __init__(self, config: FlexiBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.flexibert = FlexiBertModel(config)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        drop = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(drop)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None, **kwargs):
        return_dict = _flag(return_dict, self.config.return_dict)
        out = self.flexibert(input_ids, attention_mask, token_type_ids, position_ids,
                             output_attentions=output_attentions, output_hidden_states=output_hidden_states, return_dict=True)
        pooled = torch.tanh(self.pooler(out.last_hidden_state[:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            problem = self.config.problem_type
            if problem is None:
                if self.num_labels == 1:
                    problem = "regression"
                elif labels.dtype in (torch.long, torch.int):
                    problem = "single_label_classification"
                else:
                    problem = "multi_label_classification"
                self.config.problem_type = problem
            if problem == "regression":
                loss = F.mse_loss(logits.squeeze(-1).float(), labels.float().view(-1)) if self.num_labels == 1 \
                    else F.mse_loss(logits.float(), labels.float())
            elif problem == "single_label_classification":
                loss = F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1))
            else:
                loss = F.binary_cross_entropy_with_logits(logits.float(), labels.float())
        if not return_dict:
            rest = tuple(v for v in (logits, out.hidden_states, out.attentions) if v is not None)
            return rest if loss is None else (loss,) + rest
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


__all__ = ["FlexiBertConfig", "FlexiBertModel", "FlexiBertForMaskedLM", "FlexiBertForSequenceClassification",
           "FlexiBertPreTrainedModel"]
