"""The language-model pass shared by the label-based proxies (grad_norm, snip, grasp, fisher, plain,
zico, epe_nas, zen), computed once per architecture whichever of them are asked for.

A space's probe describes its model as a list of *layers* (name, weight tensors: the weights of
its linear maps, as NAS-Bench-Suite-Zero counts Conv2d/Linear weights, biases and norms left out)
and splits its metric batch into ``LM_CHUNKS`` minibatches of whole sequences. For each minibatch
it supplies a `ChunkPass` (the LM loss, the inputs the proxies differentiate, the outputs they
compare); `run_lm_pass` then does, per minibatch, one backward of the loss to every layer weight
(and, for fisher, to every linear map's output), keeps the per-minibatch gradients (zico needs at
least two minibatches) and their token-weighted sum (the gradient of the loss over the whole
batch). Hessian-gradient products (grasp) come from one double backward after all minibatches, of
g . grad(L_i) over the first K minibatches i (need ``lm_hessian:K``; K = 1 by default): H is estimated
from K of the LM_CHUNKS minibatches, g is the whole batch's gradient. Every random draw (mask, noise) is
made once for the whole batch, so the values do not depend on which proxies share the pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from tfnas.probe.kinds import LM_FISHER, LM_GRAD, LM_HESSIAN, LM_KINDS, TOKEN_JACOBIAN, ZEN
from tfnas.probe.vocabulary import need_kind, single_argument

ZEN_ALPHA = 0.01  # Zen-NAS's mixup_gamma


def hessian_minibatches(needs) -> int | None:
    """How many minibatches the Hessian of `needs` uses (None: no Hessian asked); ConfigError for a
    value outside 1..LM_CHUNKS or for two different values in one probe."""
    return single_argument(needs, LM_HESSIAN)


def wants_lm_pass(needs) -> bool:
    return any(need_kind(n) in LM_KINDS for n in needs)


@dataclass
class ChunkPass:
    """One minibatch's forward, in the autograd graph.

    loss: mean LM loss over the minibatch's predicted tokens; share: its fraction of the batch's
    predicted tokens (the batch loss is sum(share * loss)); sequences: its number of sequences.
    acts: one group per linear map, (its output tensors, channel dim, sequence dim or a tensor of
    the sequence of each row), for fisher (empty when fisher is not asked). The tensors must be the
    ones the loss was computed from (not views made afterwards, which get no gradient). embedded / jacobian_output / token_classes:
    the input embeddings, the output whose cotangent gives the jacobian, its cotangent, and the class
    of each embedding row (-1: excluded), for epe_nas. zen: the absolute output difference per
    sequence under the zen perturbation, summed.
    """

    loss: torch.Tensor
    share: float
    sequences: int
    acts: list = field(default_factory=list)
    embedded: torch.Tensor | None = None
    jacobian_output: torch.Tensor | None = None
    jacobian_cotangent: torch.Tensor | None = None
    token_classes: torch.Tensor | None = None
    zen_sum: float | None = None


@dataclass
class LMResult:
    loss: float = math.nan
    layers: list[tuple[str, list[torch.Tensor]]] = field(default_factory=list)
    grads: list[list[torch.Tensor]] = field(default_factory=list)
    chunk_grads: list[list[list[torch.Tensor]]] = field(default_factory=list)  # chunk -> layer -> tensors
    hessian_grads: list[list[torch.Tensor]] | None = None
    fisher: list[torch.Tensor] | None = None  # one per-channel tensor per linear map
    jacobian_rows: torch.Tensor | None = None
    jacobian_classes: torch.Tensor | None = None
    zen_mean: float | None = None


def run_lm_pass(
    layers: Sequence[tuple[str, Sequence[torch.Tensor]]],
    chunk_passes: Sequence[Callable[[bool, bool, bool], ChunkPass]],
    needs: set[str],
) -> LMResult:
    """Run every minibatch's pass and collect what `needs` asks for.

    `chunk_passes[i](want_fisher, want_jacobian, want_zen)` builds minibatch i's graph.
    """
    hessian_chunks = hessian_minibatches(needs)
    want_hess = hessian_chunks is not None
    want_grad = want_hess or LM_GRAD.name in needs
    want_fisher = LM_FISHER.name in needs
    want_jac = TOKEN_JACOBIAN.name in needs
    want_zen = ZEN.name in needs
    result = LMResult(layers=[(name, [w.detach() for w in ws]) for name, ws in layers])
    flat = [w for _, ws in layers for w in ws]
    sizes = [len(ws) for _, ws in layers]
    total_loss = 0.0
    grad_graphs: list[tuple[float, list[torch.Tensor]]] = []
    fisher_sums: list[torch.Tensor] | None = None
    total_sequences = 0
    shares: list[float] = []
    rows, classes = [], []
    zen_total = 0.0
    for index, run in enumerate(chunk_passes):
        graph = want_hess and index < hessian_chunks
        with torch.enable_grad():
            chunk = run(want_fisher, want_jac, want_zen)
        total_loss += chunk.share * float(chunk.loss.detach())
        shares.append(chunk.share)
        total_sequences += chunk.sequences
        if want_zen:
            zen_total += float(chunk.zen_sum)
        if want_jac:
            (jac,) = torch.autograd.grad(
                chunk.jacobian_output, chunk.embedded, chunk.jacobian_cotangent, retain_graph=want_grad or want_fisher
            )
            jac = jac.detach().reshape(-1, jac.size(-1))
            keep = chunk.token_classes.reshape(-1) >= 0
            rows.append(jac[keep])
            classes.append(chunk.token_classes.reshape(-1)[keep])
        if want_grad or want_fisher:
            act_tensors = [a for tensors, _, _ in chunk.acts for a in tensors] if want_fisher else []
            inputs = (flat if want_grad else []) + act_tensors
            grads = torch.autograd.grad(chunk.loss, inputs, create_graph=graph, allow_unused=True)
            if want_grad:
                weight_grads = [torch.zeros_like(w) if g is None else g for w, g in zip(flat, grads[: len(flat)])]
                if graph:
                    grad_graphs.append((chunk.share, weight_grads))
                result.chunk_grads.append(_split([g.detach() for g in weight_grads], sizes))
            if want_fisher:
                terms = _fisher_terms(chunk.acts, grads[len(inputs) - len(act_tensors):], chunk.share, chunk.sequences)
                fisher_sums = terms if fisher_sums is None else [a + b for a, b in zip(fisher_sums, terms)]
    result.loss = total_loss
    if want_grad:
        result.grads = [
            [sum(s * chunk[i][j] for s, chunk in zip(shares, result.chunk_grads)) for j in range(len(ws))]
            for i, (_, ws) in enumerate(layers)
        ]
    if want_hess:
        g = [x for layer in result.grads for x in layer]
        used = sum(share for share, _ in grad_graphs)  # H: the token-weighted mean of the used minibatches'
        z = sum(share / used * sum((gi * fi).sum() for gi, fi in zip(g, graph)) for share, graph in grad_graphs)
        hg = torch.autograd.grad(z, flat, allow_unused=True)
        result.hessian_grads = _split([torch.zeros_like(w) if h is None else h.detach() for w, h in zip(flat, hg)], sizes)
    if want_fisher:
        result.fisher = [0.5 * s / total_sequences for s in fisher_sums]
    if want_jac:
        result.jacobian_rows = torch.cat(rows)
        result.jacobian_classes = torch.cat(classes)
    if want_zen:
        result.zen_mean = zen_total / total_sequences
    return result


def _split(flat: list[torch.Tensor], sizes: list[int]) -> list[list[torch.Tensor]]:
    out, start = [], 0
    for n in sizes:
        out.append(flat[start : start + n])
        start += n
    return out


def _fisher_terms(groups, grads, share: float, sequences: int) -> list[torch.Tensor]:
    """Per linear map, sum over sequences of (sum over positions of a * dL/da)^2, per channel.

    A group is one linear map's outputs: (tensors, channel dim, where the sequence is): an int is
    the sequence dim of each tensor, a tensor the sequence of each row (dim 0) of a 2-D act. The
    gradients are of the minibatch's mean loss; scaled by `share` they are the batch loss's.
    """
    terms, k = [], 0
    for tensors, channel_dim, seq_index in groups:
        per_seq = None
        for act in tensors:
            grad = grads[k]
            k += 1
            if grad is None:
                continue
            prod = act.detach() * grad.detach()
            if not torch.is_tensor(seq_index):  # positions summed in float32, per-sequence sums in float64
                seq_dim, chan_dim = seq_index % prod.dim(), channel_dim % prod.dim()
                others = [d for d in range(prod.dim()) if d not in (seq_dim, chan_dim)]
                part = prod.sum(others) if others else prod
                part = (part if seq_dim < chan_dim else part.t()).to(torch.float64) * share
            else:
                flat = prod.reshape(-1, prod.size(-1)).to(torch.float64) * share
                part = torch.zeros(sequences, flat.size(1), dtype=torch.float64).index_add_(0, seq_index, flat)
            per_seq = part if per_seq is None else per_seq + part
        if per_seq is None:
            channels = tensors[0].size(channel_dim)
            per_seq = torch.zeros(1, channels, dtype=torch.float64)
        terms.append(per_seq.pow(2).sum(0))
    return terms


def perturbation(shape, reference: torch.Tensor, seed: int, alpha: float = ZEN_ALPHA) -> torch.Tensor:
    """alpha * std(reference) * eps, eps ~ N(0, 1) seeded, drawn for the whole batch: Zen-NAS's input
    mixup, scaled to the embeddings (Zen-NAS perturbs unit-variance inputs by alpha; embeddings are
    far from unit scale). `reference`: the whole batch's embeddings."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    eps = torch.randn(tuple(shape), generator=generator).to(reference)
    return alpha * float(reference.detach().float().std()) * eps


class LMProbeMixin:
    """The LM kinds' probe methods (tfnas.probe.kinds: lm_grad, lm_hessian, lm_fisher, token_jacobian, zen,
    and weights) for a `Probe` subclass that sets `self._lm` (an LMResult, from `run_lm_pass` when its
    needs meet LM_KINDS) and implements `_lm_layer_list()`, `num_classes()` and `flops_per_token()`."""

    _lm: LMResult | None = None

    def _lm_result(self, kind: str) -> LMResult:
        self._require_kind(kind)
        return self._lm

    def lm_loss(self) -> float:
        return self._lm_result(LM_GRAD.name).loss

    def layer_weights(self) -> list[tuple[str, list[torch.Tensor]]]:
        """(name, weight tensors) of every layer the proxies count."""
        if self._lm is not None and self._lm.layers:
            return self._lm.layers
        return [(name, [w.detach() for w in ws]) for name, ws in self._lm_layer_list()]

    def lm_grads(self) -> list[list[torch.Tensor]]:
        """Per layer, the gradient of the batch's LM loss for each of its weights."""
        return self._lm_result(LM_GRAD.name).grads

    def lm_chunk_grads(self) -> list[list[list[torch.Tensor]]]:
        """Per minibatch, per layer, the gradient of that minibatch's mean LM loss."""
        return self._lm_result(LM_GRAD.name).chunk_grads

    def lm_hessian_grads(self) -> list[list[torch.Tensor]]:
        """Per layer, H g (H: Hessian of the LM loss of the first K minibatches, an estimate of the
        batch's; g: the batch loss's gradient), for each weight."""
        return self._lm_result(LM_HESSIAN.name).hessian_grads

    def fisher_terms(self) -> list[torch.Tensor]:
        """Per linear map, the per-channel Fisher saliency 1/(2N) sum_n (sum_positions a dL/da)^2."""
        return self._lm_result(LM_FISHER.name).fisher

    def token_jacobian(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows: the jacobian of the space's output w.r.t. each token's input embedding, classes)."""
        result = self._lm_result(TOKEN_JACOBIAN.name)
        return result.jacobian_rows, result.jacobian_classes

    def zen_distance(self) -> float:
        """Mean over sequences of sum |f(e) - f(e + perturbation)|."""
        return self._lm_result(ZEN.name).zen_mean
