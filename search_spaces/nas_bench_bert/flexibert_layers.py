"""The FlexiBERT encoder's building blocks: token mixing (SA/SDP, SA/WMA, LT/DFT, LT/DCT, DSC/k), the
feed-forward stack, one encoder layer and the embeddings (the transformers classes are in
modeling_flexibert.py).

Like modeling_flexibert.py it imports nothing from tfnas: `tfnas export` copies it into a model folder,
where transformers' remote-code loader finds it through modeling_flexibert.py's relative import.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
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
