"""One forward and (if any metric needs gradients) one backward through a FlexiBERT encoder,
shared by every metric that reads it.

The backward is the paper's: `last_hidden_state` against a tensor of ones (padded positions
zero). Requirements (`needs`) the probe understands:
- ``jacobian``: gradient w.r.t. the position embeddings, one row per sequence (B x T*E).
- ``saliency``: |W * dW| of the feed-forward linear layers.
- ``activation_codes``: NASWOT codes of every feed-forward GELU (one row per sequence).
- ``params``: the parameter count (no pass at all).
- ``diversity``: (||W||_nuc, ||dW||_nuc) of each linear layer of the token-mixing operations.
- ``head_importance``: |W * dW| of the mixing operations' query/key/value projections.
- ``head_confidence``: per projection output, the mean over batch and features of the max over tokens.
- ``softmax_confidence``: per attention, mean max probability (over keys; and the published max over heads).
Only the weights some metric reads get gradients, so the backward does no other weight work.
- ``lm_grad``, ``lm_hessian``, ``lm_fisher``, ``token_jacobian``, ``zen``: the masked-LM pass of the
  label-based proxies (search_spaces/nas_bench_bert/lm_probe.py), its own forward(s), apart from the
  pass above; ``weights``, ``flops``: no pass.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable

import torch
from torch import nn

from tfnas.probe import Probe, check_needs
from tfnas.probe.kernels import ActivationKernelMixin
from tfnas.probe.lm_pass import LMProbeMixin, run_lm_pass, wants_lm_pass
import tfnas.search_spaces.nas_bench_bert.lm_probe as lm_probe
from tfnas.search_spaces.nas_bench_bert.model import FlexiBertModel, SelfAttention

GRADIENT_NEEDS = {"jacobian", "saliency", "diversity", "head_importance"}
FORWARD_NEEDS = GRADIENT_NEEDS | {"activation_codes", "head_confidence", "softmax_confidence"}
# "ones": the paper's backward of last_hidden_state against ones. The last layer ends in a LayerNorm
# (unit gain, zero bias at initialisation) whose outputs sum to zero over the features for every
# token, so that gradient is analytically zero and the gradient metrics measure float rounding
# (this is also why the published jacobian scores sit near -1e5). "random": against a fixed
# standard-normal tensor (seed 0), which gives real gradients.
BACKWARD_TARGETS = ("ones", "random")


class Recorder:
    """Receives tensors from the model as they are computed and keeps only small summaries
    (and the binary codes), so nothing big outlives the forward."""

    def __init__(self, needs: set[str]):
        self.wants_codes = "activation_codes" in needs
        self.wants_confidence = "head_confidence" in needs
        self.wants_attention = "softmax_confidence" in needs
        self.codes: list[torch.Tensor] = []
        self.confidence: list[float] = []
        self.softmax_over_keys: list[float] = []
        self.softmax_over_heads: list[float] = []

    @torch.no_grad()
    def projection(self, y: torch.Tensor, mask: torch.Tensor | None) -> None:
        if not self.wants_confidence:
            return
        y = y.detach().float()
        if mask is not None:
            y = y.masked_fill(~mask[..., None], float("-inf"))
        self.confidence.append(float(y.amax(dim=1).mean()))

    @torch.no_grad()
    def attention(self, probs: torch.Tensor, mask: torch.Tensor | None) -> None:
        """probs: (B, heads, T_query, T_key)."""
        probs = probs.detach().float()
        over_keys = probs.amax(dim=-1)  # B, heads, T
        over_heads = probs.amax(dim=1)  # B, T, T
        if mask is None:
            self.softmax_over_keys.append(float(over_keys.mean()))
            self.softmax_over_heads.append(float(over_heads.mean()))
        else:
            m = mask.to(probs.dtype)
            self.softmax_over_keys.append(float((over_keys * m[:, None, :]).sum() / (m.sum() * probs.size(1))))
            pair = m[:, :, None] * m[:, None, :]
            self.softmax_over_heads.append(float((over_heads * pair).sum() / pair.sum()))

    @torch.no_grad()
    def ff_activation(self, x: torch.Tensor, mask: torch.Tensor | None) -> None:
        if not self.wants_codes:
            return
        if mask is not None:  # keep token positions that are real in every sequence
            x = x[:, mask.all(0)]
        self.codes.append((x.detach() > 0).reshape(x.size(0), -1))


def mixing_linears(layer) -> list[tuple[str, torch.Tensor]]:
    """(name, 2-D weight) of every linear map of a layer's token mixing, its output projection included.
    Convolution kernels are flattened per output channel; WMA's per-head matrices count one each."""
    out = []
    for name, module in layer.mixing.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv1d)):
            out.append((name, module.weight))
    if isinstance(layer.mixing, SelfAttention) and layer.mixing.wma is not None:
        out.extend((f"wma.{h}", layer.mixing.wma[h]) for h in range(layer.mixing.wma.size(0)))
    out.append(("mixing_output", layer.mixing_output.weight))
    return out


class BertProbe(LMProbeMixin, ActivationKernelMixin, Probe):
    """The BERT space's probe: serves the kinds whose methods it has (see `Probe.provides`)."""

    def __init__(self, model: FlexiBertModel, batch: dict, needs: Iterable[str], backward_target: str = "ones"):
        if backward_target not in BACKWARD_TARGETS:
            raise ValueError(f"backward_target must be one of {', '.join(BACKWARD_TARGETS)}, got {backward_target!r}")
        super().__init__(needs)
        self.backward_target = backward_target
        self.model = model
        check_needs(self.needs, self.provides(), "bert")
        self.recorder = Recorder(self.needs)
        self._position_grad: torch.Tensor | None = None
        self._diversity: list[float] = []
        self._saliency: list[torch.Tensor] = []
        self._importance: list[torch.Tensor] = []
        self.batch = batch
        if self.needs & FORWARD_NEEDS:
            self._run(batch)
        if wants_lm_pass(self.needs):
            self._lm = run_lm_pass(lm_probe.lm_layers(model), lm_probe.chunk_passes(model, batch), self.needs)

    # -- the passes ------------------------------------------------------------------
    def _weights_for_gradients(self) -> dict[str, list[nn.Parameter]]:
        groups: dict[str, list] = {"saliency": [], "diversity": [], "head_importance": []}
        for layer in self.model.layers:
            ff = layer.feed_forward
            groups["saliency"] += [d.weight for d in ff.dense] + [ff.output.weight]
            groups["diversity"] += [w for _, w in mixing_linears(layer)]
            groups["head_importance"] += [m.weight for m in layer.mixing.projections().values()]
        return {k: v for k, v in groups.items() if k in self.needs}

    def _run(self, batch: dict) -> None:
        model = self.model
        wanted = self._weights_for_gradients()
        backward = bool(self.needs & GRADIENT_NEEDS)
        saved = {p: p.requires_grad for p in model.parameters()}
        hook = None
        try:
            for p in model.parameters():
                p.requires_grad_(False)
                p.grad = None
            for weights in wanted.values():
                for w in weights:
                    if isinstance(w, nn.Parameter):
                        w.requires_grad_(True)
                    else:  # a view of a parameter (WMA head): its parameter needs the gradient
                        w._base.requires_grad_(True)
            if "jacobian" in self.needs:

                def keep_position(module, inputs, output):
                    leaf = output.detach().requires_grad_(True)
                    self._position_leaf = leaf
                    return leaf

                hook = model.embeddings.position_embeddings.register_forward_hook(keep_position)
            model.set_recorder(self.recorder)
            with torch.set_grad_enabled(backward):
                out = model(**batch).last_hidden_state
                if backward:
                    if self.backward_target == "ones":
                        seed = torch.ones_like(out)
                    else:
                        generator = torch.Generator(device="cpu").manual_seed(0)
                        seed = torch.randn(out.shape, generator=generator).to(out)
                    if batch.get("attention_mask") is not None:
                        seed = seed * batch["attention_mask"][..., None].to(out.dtype)
                    out.backward(seed)
            self._collect(wanted)
        finally:
            model.set_recorder(None)
            if hook is not None:
                hook.remove()
            for p, flag in saved.items():
                p.requires_grad_(flag)
            for p in model.parameters():
                p.grad = None

    def _collect(self, wanted: dict) -> None:
        if "jacobian" in self.needs:
            grad = self._position_leaf.grad
            self._position_grad = grad.reshape(grad.size(0), -1)
            self._position_leaf = None
        with torch.no_grad():
            for w in wanted.get("saliency", []):
                self._saliency.append((w * w.grad).abs())
            for w in wanted.get("head_importance", []):
                self._importance.append((w * w.grad).abs())
            if "diversity" in self.needs:
                with single_thread():
                    self._collect_diversity()

    @torch.no_grad()
    def _collect_diversity(self) -> None:
        for layer in self.model.layers:
            for _, w in mixing_linears(layer):
                grad = w.grad if isinstance(w, nn.Parameter) else _view_grad(w, layer)
                self._diversity.append(nuclear_norm(w.detach()) * nuclear_norm(grad))

    # -- what metrics read (the kinds' Protocols, tfnas.probe.kinds) ---------------------
    def jacobian_rows(self) -> torch.Tensor:
        return self._position_grad

    def saliency_terms(self) -> list[torch.Tensor]:
        return self._saliency

    def activation_codes(self) -> list[torch.Tensor]:
        return self.recorder.codes

    def num_parameters(self) -> int:
        return sum(p.numel() for p in {id(p): p for p in self.model.parameters()}.values())

    def _lm_layer_list(self):
        return lm_probe.lm_layers(self.model)

    def flops_per_token(self) -> float:
        return lm_probe.flops_per_token(self.model, self.batch)

    def num_classes(self) -> int:
        return int(self.model.config.vocab_size)

    # -- kinds only this space serves ------------------------------------------------
    def diversity_terms(self) -> list[float]:
        """||W||_nuc * ||dW||_nuc per linear map of the token-mixing operations."""
        return self._diversity

    def head_importance_terms(self) -> list[torch.Tensor]:
        return self._importance

    def head_confidence_terms(self) -> list[float]:
        return self.recorder.confidence

    def softmax_confidence_terms(self, max_over: str = "keys") -> list[float]:
        if max_over not in ("keys", "heads"):
            raise ValueError(f"max_over must be 'keys' or 'heads', got {max_over!r}")
        return self.recorder.softmax_over_keys if max_over == "keys" else self.recorder.softmax_over_heads


@contextmanager
def single_thread():
    """Small dense eigen-problems run many times faster on one thread than on a contended pool."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def nuclear_norm(matrix: torch.Tensor) -> float:
    """Sum of singular values, from the eigenvalues of the smaller Gram matrix in float64: the same
    value as an SVD, without its slow, iterative convergence on the rank-deficient gradients."""
    m = matrix.reshape(matrix.size(0), -1).to(torch.float64)
    gram = m @ m.t() if m.size(0) <= m.size(1) else m.t() @ m
    return float(torch.linalg.eigvalsh(gram).clamp_min(0).sqrt().sum())


def _view_grad(view: torch.Tensor, layer) -> torch.Tensor:
    """Gradient of one WMA head's matrix: the matching slice of the parameter's gradient."""
    wma = layer.mixing.wma
    for h in range(wma.size(0)):
        if view.data_ptr() == wma[h].data_ptr():
            return wma.grad[h]
    raise KeyError("not a WMA head of this layer")
