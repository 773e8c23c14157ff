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

This file and configuration_flexibert.py import nothing from tfnas: `tfnas export` copies them
into a model folder that loads with `trust_remote_code=True` where tfnas is not installed.

A probe can attach a recorder (`set_recorder`) that receives projection outputs, attention
probabilities and feed-forward activations as they are computed; without one nothing is kept.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, MaskedLMOutput, SequenceClassifierOutput

from .configuration_flexibert import FlexiBertConfig


class InvalidArchitecture(ValueError):
    """A config describes no buildable encoder (inside tfnas this name is bound to tfnas.errors.InvalidArchitecture)."""


# -- linear transforms (LT) ------------------------------------------------------------------
@lru_cache(maxsize=64)
def _transform_matrices(kind: str, length: int, size: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Orthonormally scaled real transform matrices over a sequence of `length` zero-padded to `size`,
    made once per device (so a GPU forward copies nothing from the host).

    DFT: (cos, sin) parts with Re(F x) = C x (F = C - iS, scaled 1/sqrt(n)); DCT: the DCT-II matrix.
    """
    k = torch.arange(length, dtype=torch.float64, device=device)[:, None]
    t = torch.arange(length, dtype=torch.float64, device=device)[None, :]
    if kind == "DFT":
        angle = 2 * math.pi * k * t / length
        mats = (torch.cos(angle) / math.sqrt(length), torch.sin(angle) / math.sqrt(length))
    else:
        m = torch.cos(math.pi * (2 * t + 1) * k / (2 * length)) * math.sqrt(2.0 / length)
        m[0] /= math.sqrt(2.0)
        mats = (m,)
    out = []
    for m in mats:
        padded = torch.zeros(size, size, dtype=torch.float64, device=device)
        padded[:length, :length] = m
        out.append(padded.to(torch.float32))
    return tuple(out)


def _mix_2d(kind: str, x: torch.Tensor, length: int) -> torch.Tensor:
    """2-D transform of x (b, T, heads, d) over the sequence (own length) and the head's features.

    Two plain matrix products (features on the last axis, then the sequence on axis 1), no permutes.
    """
    b, size, heads, d = x.shape
    seq = [m.to(x.dtype) for m in _transform_matrices(kind, length, size, x.device)]
    feat = [m.to(x.dtype) for m in _transform_matrices(kind, d, d, x.device)]
    if kind == "DFT":  # Re((Cs - iSs) X (Cf - iSf)) = Cs X Cf - Ss X Sf (both matrices symmetric)
        cos_s, sin_s = seq
        cos_f, sin_f = feat
        real = torch.matmul(cos_s, (x @ cos_f).view(b, size, heads * d))
        return (real - torch.matmul(sin_s, (x @ sin_f).view(b, size, heads * d))).view(b, size, heads, d)
    return torch.matmul(seq[0], (x @ feat[0].t()).reshape(b, size, heads * d)).view(b, size, heads, d)


class LinearTransform(nn.Module):
    """FNet-style mixing: a linear projection, then a 2-D DFT (real part) or DCT-II per head."""

    def __init__(self, hidden: int, heads: int, kind: str):
        super().__init__()
        self.kind, self.heads = kind, heads
        self.projection = nn.Linear(hidden, hidden)
        self._recorder = None

    def projections(self) -> dict[str, nn.Linear]:
        return {"projection": self.projection}

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, output_attentions: bool = False):
        b, t, h = x.shape
        y = self.projection(x)
        if self._recorder is not None:
            self._recorder.projection(y, mask)
        y = y.view(b, t, self.heads, h // self.heads)
        lengths = [t] * b if mask is None else mask.sum(1).tolist()
        if all(length == t for length in lengths):
            out = _mix_2d(self.kind, y, t)
        else:
            out = y.new_zeros(y.shape)
            for length in sorted(set(lengths)):
                idx = torch.tensor([i for i, n in enumerate(lengths) if n == length], device=x.device)
                out = out.index_copy(0, idx, _mix_2d(self.kind, y.index_select(0, idx), int(length)))
        return out.reshape(b, t, h), None


# -- attention (SA, and the attention half of DSC) -------------------------------------------
def attend(q, k, v, mask, recorder, dropout: float = 0.0, return_probs: bool = False):
    """Multi-head scaled dot-product attention; q, k, v are (b, heads, T, d).

    Returns (output, probabilities or None). Uses the fused kernel unless a recorder or the
    caller (`return_probs`, for output_attentions) wants the attention probabilities.
    """
    bias = None
    if mask is not None:
        bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device)
        bias = bias.masked_fill(~mask, torch.finfo(q.dtype).min)[:, None, None, :]
    wanted = recorder is not None and recorder.wants_attention
    if wanted or return_probs:
        scores = (q * (1.0 / math.sqrt(q.size(-1)))) @ k.transpose(-1, -2)
        if bias is not None:
            scores = scores + bias
        probs = scores.softmax(-1)
        if wanted:
            recorder.attention(probs, mask)
        return F.dropout(probs, dropout) @ v, probs
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout), None


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, t, f = x.shape
    return x.view(b, t, heads, f // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, n, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, n * d)


class SelfAttention(nn.Module):
    """SDP attention; with `weighted`, WMA: the query passes a learned square matrix per head first."""

    def __init__(self, hidden: int, heads: int, weighted: bool, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        d = hidden // heads
        self.wma = nn.Parameter(torch.empty(heads, d, d)) if weighted else None
        self._recorder = None

    def projections(self) -> dict[str, nn.Linear]:
        return {"query": self.query, "key": self.key, "value": self.value}

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, output_attentions: bool = False):
        q, k, v = self.query(x), self.key(x), self.value(x)
        if self._recorder is not None:
            for y in (q, k, v):
                self._recorder.projection(y, mask)
        q, k, v = (_split_heads(y, self.heads) for y in (q, k, v))
        if self.wma is not None:
            q = torch.einsum("bntd,nde->bnte", q, self.wma)
        drop = self.dropout if self.training else 0.0
        out, probs = attend(q, k, v, mask, self._recorder, drop, output_attentions)
        return _merge_heads(out), probs


class MixedConvAttention(nn.Module):
    """ConvBERT-style mixed attention: half the heads self-attention, half span-based dynamic
    depthwise-separable convolution with kernel `kernel` (the conv kernel is predicted per token
    from the query and a depthwise-separable convolution of the input)."""

    def __init__(self, hidden: int, heads: int, kernel: int, dropout: float):
        super().__init__()
        self.heads, self.kernel, self.dropout = heads // 2, kernel, dropout
        half = hidden // 2
        self.query = nn.Linear(hidden, half)
        self.key = nn.Linear(hidden, half)
        self.value = nn.Linear(hidden, half)
        self.key_conv_depthwise = nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2, groups=hidden, bias=False)
        self.key_conv_pointwise = nn.Linear(hidden, half)
        self.conv_kernel = nn.Linear(half, self.heads * kernel)
        self.conv_value = nn.Linear(hidden, half)
        self._recorder = None

    def projections(self) -> dict[str, nn.Linear]:
        return {"query": self.query, "key": self.key, "value": self.value, "conv_value": self.conv_value}

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, output_attentions: bool = False):
        b, t, _ = x.shape
        if mask is not None:
            x = x * mask[..., None].to(x.dtype)  # padding reads as the convolution's zero border
        q, k, v, cv = self.query(x), self.key(x), self.value(x), self.conv_value(x)
        if self._recorder is not None:
            for y in (q, k, v, cv):
                self._recorder.projection(y, mask)
        drop = self.dropout if self.training else 0.0
        att, probs = attend(*(_split_heads(y, self.heads) for y in (q, k, v)), mask, self._recorder, drop, output_attentions)
        att = _merge_heads(att)
        key_conv = self.key_conv_pointwise(self.key_conv_depthwise(x.transpose(1, 2)).transpose(1, 2))
        weights = self.conv_kernel(key_conv * q).view(b, t, self.heads, self.kernel).softmax(-1)
        pad = self.kernel // 2
        spans = F.pad(cv, (0, 0, pad, pad)).unfold(1, self.kernel, 1)  # b, t, half, kernel
        spans = spans.reshape(b, t, self.heads, -1, self.kernel)
        conv = torch.einsum("bthdk,bthk->bthd", spans, weights).reshape(b, t, -1)
        return torch.cat([att, conv], dim=-1), probs


def build_mixing(layer: dict, hidden: int, dropout: float) -> nn.Module:
    op, param, heads = layer["operation_type"], layer["operation_parameter"], int(layer["num_operation_heads"])
    if hidden % heads:
        raise InvalidArchitecture(f"num_operation_heads: hidden_size {hidden} is not divisible by {heads} heads")
    if op == "SA" and param in ("SDP", "WMA"):
        return SelfAttention(hidden, heads, param == "WMA", dropout)
    if op == "LT" and param in ("DFT", "DCT"):
        return LinearTransform(hidden, heads, param)
    if op == "DSC" and int(param) % 2 == 1:
        if heads % 2 or hidden % heads:
            raise InvalidArchitecture(f"num_operation_heads: DSC needs an even number of heads, got {heads}")
        return MixedConvAttention(hidden, heads, int(param), dropout)
    raise InvalidArchitecture(f"operation {op}/{param}: unknown (SA: SDP|WMA, LT: DFT|DCT, DSC: odd kernel size)")


class FeedForward(nn.Module):
    """`count` GELU dense layers of width `width`, then a projection back to the hidden size."""

    def __init__(self, hidden: int, width: int, count: int):
        super().__init__()
        self.dense = nn.ModuleList([nn.Linear(hidden if i == 0 else width, width) for i in range(count)])
        self.output = nn.Linear(width, hidden)
        self._recorder = None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for dense in self.dense:
            x = F.gelu(dense(x))
            if self._recorder is not None:
                self._recorder.ff_activation(x, mask)
        return self.output(x)


class EncoderLayer(nn.Module):
    def __init__(self, layer: dict, config: FlexiBertConfig):
        super().__init__()
        hidden, drop = config.hidden_size, config.hidden_dropout_prob
        self.mixing = build_mixing(layer, hidden, config.attention_probs_dropout_prob)
        self.mixing_output = nn.Linear(hidden, hidden)
        self.mixing_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(hidden, int(layer["feed_forward_dimension"]), int(layer["num_feed_forward"]))
        self.output_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, output_attentions: bool = False):
        mixed, probs = self.mixing(x, mask, output_attentions)
        x = self.mixing_norm(x + self.dropout(self.mixing_output(mixed)))
        return self.output_norm(x + self.dropout(self.feed_forward(x, mask))), probs


class Embeddings(nn.Module):
    """ELECTRA-small embeddings: word + position + token type (size 128), LayerNorm, projection to hidden."""

    def __init__(self, config: FlexiBertConfig):
        super().__init__()
        e = config.embedding_size
        self.word_embeddings = nn.Embedding(config.vocab_size, e, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, e)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, e)
        self.LayerNorm = nn.LayerNorm(e, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.project = nn.Linear(e, config.hidden_size) if e != config.hidden_size else None

    def forward(self, input_ids: torch.Tensor, token_type_ids=None, position_ids=None) -> torch.Tensor:
        b, t = input_ids.shape
        if position_ids is None:  # one row per sequence, so a hook sees per-sequence position gradients
            position_ids = torch.arange(t, device=input_ids.device).expand(b, t)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        x = self.dropout(self.LayerNorm(x + self.token_type_embeddings(token_type_ids)))
        return x if self.project is None else self.project(x)


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
