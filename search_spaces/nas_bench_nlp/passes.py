"""The RNN probe's forward and backward passes, for one model or for a pack of several at once.

The models of one scorer share the embedding and the tied decoder (tfnas.search_spaces.nas_bench_nlp.build),
so the pack embeds the metric batch once and runs every member's cells side by side
(tfnas.search_spaces.nas_bench_nlp.pack): the forward up to the deepest hidden:L, the full forward with the
records of the activation codes and hidden saliency, the jacobian and saliency backward passes, and one
forward-backward per noise amplitude, each once for the whole pack. The result is one `RNNPasses` per member,
which its `RNNProbe` serves to the metrics. A model probed alone is a pack of one, and the pack's groups follow
one fixed order whatever its members, so each member's operations are created, and their gradients summed, in
the same order: on the CPU a model's values are the same bit for bit alone or in a pack of any size
(tests/unit/search_spaces/nas_bench_nlp/test_rnn_pack.py).

Gradients are per member: each member reads its own copy of the embeddings as a leaf (the jacobian and the
tied decoder's saliency are gradients with respect to the input embeddings, which a shared leaf would sum over
the pack), and members share no other parameter, so one backward of the sum of the members' outputs gives
each member its own gradients.

The language-model pass of the zero-cost proxies (lm_grad, lm_hessian, lm_fisher, token_jacobian, zen) is not
packed: it differentiates each architecture's loss with respect to the shared decoder weight, where a pack's
summed loss would add the members' gradients, and grasp needs a double backward of it; each member's probe
runs that pass on its own model. `params`, `weights` and `flops` need no pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch

from tfnas.probe import HIDDEN, JACOBIAN_NOISE, arguments
from tfnas.probe.vocabulary import need_kind
from tfnas.search_spaces.nas_bench_nlp.pack import PackSchedule, run_layer
from tfnas.search_spaces.nas_bench_nlp.recipe import ACTIVATIONS, h_new

GRADIENT_NEEDS = frozenset({"jacobian", "saliency", "hidden_saliency"})

#: the need kinds whose passes a pack runs for all its members at once
PACKED_KINDS = frozenset({"hidden", "activation_codes", "jacobian", "saliency", "hidden_saliency", "jacobian_noise"})


def packs(needs) -> bool:
    """Whether a pack saves work for `needs`: some need is served by a pass the pack runs."""
    return any(need_kind(n) in PACKED_KINDS for n in needs)


@dataclass
class RNNPasses:
    """What the passes leave for the metrics of one model."""

    layer_outputs: list[torch.Tensor] = field(default_factory=list)  # each layer's outputs, detached
    codes: list[torch.Tensor] | None = None
    jacobian: torch.Tensor | None = None
    noised: dict[float, torch.Tensor] = field(default_factory=dict)
    saliency: list[torch.Tensor] | None = None
    hidden_saliency: float | None = None


class PackedPasses:
    """Runs the passes `needs` asks for over every model of the pack; `members[i]` holds model i's results."""

    def __init__(self, models: Sequence, tokens: torch.Tensor, needs: set[str], noise_seed: int = 0):
        encoders = {id(m.encoder.weight) for m in models}
        if len(encoders) != 1:
            raise ValueError("a pack's models must share one embedding (build them with one RNNModelBuilder)")
        self.models, self.tokens, self.needs, self.noise_seed = list(models), tokens, needs, noise_seed
        self.schedule = PackSchedule([m.recipe for m in self.models])
        self.members = [RNNPasses() for _ in self.models]
        layers = arguments(needs, HIDDEN)
        want_grad = bool(needs & GRADIENT_NEEDS)
        if want_grad or "activation_codes" in needs:
            self._full_pass(want_grad)
        elif layers:
            with torch.no_grad():
                embedded = self.models[0].embed(tokens)
                outputs, _ = self._run([embedded] * len(self.models), max(layers))
            for member, out in zip(self.members, outputs):
                member.layer_outputs = out
        amplitudes = arguments(needs, JACOBIAN_NOISE)
        if amplitudes:
            self._noise_passes(sorted(amplitudes))

    def _run(self, inputs: list[torch.Tensor], upto: int | None = None, record: bool = False):
        """Layers 1..upto of every member; per member its layers' outputs and (with `record`) per layer its step records."""
        upto = self.models[0].nlayers if upto is None else upto
        outputs = [[] for _ in self.models]
        records = [[] for _ in self.models] if record else None
        for layer in range(upto):
            cells = [m.cells[layer] for m in self.models]
            inputs, _, logs = run_layer(self.schedule, cells, inputs, record)
            for i, out in enumerate(inputs):
                outputs[i].append(out)
                if record:
                    records[i].append(logs[i])
        return outputs, records

    @staticmethod
    def _leaves(embedded: torch.Tensor, count: int) -> torch.Tensor:
        """count x T x B x E: one copy of the embeddings per member, a leaf of its own for its input gradients."""
        return embedded.detach().unsqueeze(0).repeat(count, 1, 1, 1).requires_grad_(True)

    def _full_pass(self, want_grad: bool) -> None:
        needs, models = self.needs, self.models
        want_sal = bool(needs & {"saliency", "hidden_saliency"})
        with torch.set_grad_enabled(want_grad):
            embedded = models[0].embed(self.tokens)  # in the graph of the shared encoder/decoder weight
            leaves = self._leaves(embedded, len(models)) if want_grad else None
            inputs = list(leaves.unbind(0)) if want_grad else [embedded] * len(models)
            outputs, records = self._run(inputs, record=bool(needs & {"activation_codes", "hidden_saliency"}))
        ys = [out[-1] for out in outputs]
        for i, member in enumerate(self.members):
            member.layer_outputs = [o.detach() for o in outputs[i]]
            if "activation_codes" in needs:
                member.codes = activation_codes(models[i].recipe, records[i])
        if "jacobian" in needs:
            (grad,) = torch.autograd.grad(ys, leaves, [torch.ones_like(y) for y in ys], retain_graph=want_sal)
            for member, g in zip(self.members, grad):
                member.jacobian = rows(g)
        if want_sal:
            self._saliency_pass(embedded, leaves, ys, records)

    def _saliency_pass(self, embedded: torch.Tensor, leaves: torch.Tensor, ys: list, records) -> None:
        """|w * dw| and sum |h * dh| of 1/2 ||y||^2, per member: one backward over the pack, then each member's
        decoder (the tied embedding) gradient from its own input gradient through the embedding lookup."""
        needs = self.needs
        weights = [saliency_weights(m)[:-1] if "saliency" in needs else [] for m in self.models]  # the decoder below
        hiddens = [recorded_hiddens(r) for r in records] if "hidden_saliency" in needs else [[] for _ in self.models]
        flat = [t for group in weights for t in group] + [t for group in hiddens for t in group]
        grads = torch.autograd.grad(ys, flat + [leaves], [y.detach() for y in ys], allow_unused=True)
        *grads, input_grads = grads
        start = 0
        for i, member in enumerate(self.members):
            member_grads = grads[start : start + len(weights[i])]
            start += len(weights[i])
            if "saliency" in needs:
                decoder = self.models[i].decoder.weight
                (decoder_grad,) = torch.autograd.grad(embedded, decoder, input_grads[i], retain_graph=True, allow_unused=True)
                member.saliency = saliency_terms(weights[i] + [decoder], list(member_grads) + [decoder_grad])
        for i, member in enumerate(self.members):
            member_grads = grads[start : start + len(hiddens[i])]
            start += len(hiddens[i])
            if "hidden_saliency" in needs:
                member.hidden_saliency = hidden_saliency(hiddens[i], member_grads, ys[i].device)

    def _noise_passes(self, amplitudes: list[float]) -> None:
        clean, scale, eps = noise(self.models[0], self.tokens, self.noise_seed)
        for amplitude in amplitudes:
            leaves = self._leaves(clean + amplitude * scale * eps, len(self.models))
            with torch.enable_grad():
                outputs, _ = self._run(list(leaves.unbind(0)))
                ys = [out[-1] for out in outputs]
                (grad,) = torch.autograd.grad(ys, leaves, [torch.ones_like(y) for y in ys])
            for member, g in zip(self.members, grad):
                member.noised[amplitude] = rows(g)


def rows(grad: torch.Tensor) -> torch.Tensor:
    """T x B x E gradient -> B x (T*E): one row per sequence."""
    return grad.detach().transpose(0, 1).reshape(grad.size(1), -1)


@torch.no_grad()
def noise(model, tokens: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(clean embeddings e, their variance over the batch as published, eps ~ N(0, 1) seeded): the input of
    amplitude A is e + A * var * eps, one draw of eps for every amplitude."""
    clean = model.embed(tokens)
    variance = clean.var(dim=1, unbiased=False, keepdim=True)
    generator = torch.Generator(device=clean.device).manual_seed(seed)
    eps = torch.randn(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
    return clean, variance, eps


def saliency_weights(model) -> list[torch.Tensor]:
    """Recurrent weight matrices (every linear node's weights but the first input's) and the decoder."""
    weights = []
    for cell in model.cells:
        for name in cell.recipe.order:
            node = cell.recipe.nodes[name]
            if node.op == "linear":
                weights.extend(cell.weights[f"{name}__{pos}"] for pos in range(1, len(node.inputs)))
    weights.append(model.decoder.weight)
    return weights


def saliency_terms(weights: list[torch.Tensor], grads) -> list[torch.Tensor]:
    return [(w.detach() * g).abs() if g is not None else torch.zeros_like(w) for w, g in zip(weights, grads)]


def recorded_hiddens(records: list) -> list[torch.Tensor]:
    """h_prev_0 entering every step after the first (the first is the constant zero state)."""
    out = h_new(0)
    return [step[out] for layer in records for step in layer[:-1]]


def hidden_saliency(hiddens: list[torch.Tensor], grads, device) -> float:
    """sum |h * dh| over the recorded hidden states (in float64), all steps and layers in one product."""
    pairs = [(h.detach(), g) for h, g in zip(hiddens, grads) if g is not None]
    if not pairs:
        return 0.0
    product = torch.cat([h.reshape(-1) for h, _ in pairs]) * torch.cat([g.reshape(-1) for _, g in pairs])
    return float(product.abs().sum(dtype=torch.float64))


def activation_codes(recipe, records: list) -> list[torch.Tensor]:
    """One B x H 0/1 tensor per (layer, activation node, step)."""
    names = [n for n in recipe.order if recipe.nodes[n].op in ACTIVATIONS]
    codes = []
    for layer in records:
        for name in names:
            stacked = torch.stack([step[name].detach() for step in layer]) > 0  # T x B x H
            codes.extend(stacked.to(torch.float32).unbind(0))
    return codes
