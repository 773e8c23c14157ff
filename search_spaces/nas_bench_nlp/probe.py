"""One set of passes through an RNN language model, shared by every metric that reads it.

Metrics declare requirements as strings; the probe runs each pass at most once and only the
passes the requirements need:

- ``hidden:L``: h_prev_0 entering layer L's cell (forward up to layer L; no decoder, no gradients
  unless another requirement needs a gradient pass anyway, whose forward is then reused).
- ``activation_codes``: 1[a > 0] of every activation node at every step of every layer, per sequence
  (read from the records of the one full forward).
- ``jacobian``: d(sum of the last layer's outputs)/d(embedding output), one row per sequence
  (B x T*emsize). Input gradient only: no weight gradient is computed.
- ``saliency``: |theta * grad| of 1/2||y||^2 (y: the last layer's outputs) over the recurrent
  weights of every linear node (all but its first input) and the decoder weight.
- ``hidden_saliency``: sum of |h * dh| of the same loss over the recorded h_prev_0 of every layer.
- ``jacobian_noise:A``: the jacobian recomputed after adding A * var_batch(e) * eps to the
  embedding output e (eps ~ N(0, 1), one draw shared by every amplitude, seeded by `noise_seed`).
  Each amplitude is its own forward and input-gradient pass.
- ``params``: number of parameters (no pass).
- ``lm_grad``, ``lm_hessian``, ``lm_fisher``, ``token_jacobian``, ``zen``: the language-model pass of
  the label-based proxies (search_spaces/nas_bench_nlp/lm_probe.py, tfnas/probe/lm_pass.py): its
  own forward(s), apart from the passes above, so those keep their values; ``weights``, ``flops``:
  no pass.

Pass plan: one forward (with a graph only if a gradient is needed) serves hidden states,
activation codes, the jacobian, saliency and hidden saliency; the jacobian (cotangent ones) and
the saliencies (cotangent y) are two backward passes over that one graph.
"""
from __future__ import annotations

from typing import Iterable

import torch

from tfnas.errors import ConfigError
from tfnas.probe import HIDDEN, JACOBIAN_NOISE, Probe, arguments, check_needs
from tfnas.probe.kernels import ActivationKernelMixin
from tfnas.probe.lm_pass import LMProbeMixin, run_lm_pass, wants_lm_pass
import tfnas.search_spaces.nas_bench_nlp.lm_probe as lm_probe
from tfnas.search_spaces.nas_bench_nlp.recipe import ACTIVATIONS, h_new


def check_layers(needs, nlayers: int) -> None:
    """Refuse, with a ConfigError, a hidden:L need for a layer the model does not have (before any pass)."""
    for layer in sorted(arguments(needs, HIDDEN)):
        if not 1 <= layer <= nlayers:
            raise ConfigError(HIDDEN.argument.field, f"layer {layer} does not exist; the model has layers 1..{nlayers}")


class RNNProbe(LMProbeMixin, ActivationKernelMixin, Probe):
    """The RNN space's probe: serves the kinds whose methods it has (see `Probe.provides`)."""

    def __init__(self, model, tokens: torch.Tensor, needs: Iterable[str], noise_seed: int = 0):
        super().__init__(needs)
        self.model = model
        self.tokens = tokens
        self.noise_seed = noise_seed
        check_needs(self.needs, self.provides(), "rnn")
        check_layers(self.needs, model.nlayers)
        layers = arguments(self.needs, HIDDEN)
        amplitudes = arguments(self.needs, JACOBIAN_NOISE)
        self._layer_outputs: list[torch.Tensor] = []
        self._codes: list[torch.Tensor] | None = None
        self._jacobian: torch.Tensor | None = None
        self._noised: dict[float, torch.Tensor] = {}
        self._saliency: list[torch.Tensor] | None = None
        self._hidden_saliency: float | None = None

        want_grad = bool(self.needs & {"jacobian", "saliency", "hidden_saliency"})
        if want_grad or "activation_codes" in self.needs:
            self._full_pass(want_grad)
        elif layers:
            with torch.no_grad():
                self._layer_outputs, _ = model.run_layers(model.embed(tokens), upto=max(layers))
        if amplitudes:
            self._noise_passes(sorted(amplitudes))
        if wants_lm_pass(self.needs):
            self._lm = run_lm_pass(lm_probe.lm_layers(model), lm_probe.chunk_passes(model, tokens), self.needs)

    # -- passes --------------------------------------------------------------------------
    def _full_pass(self, want_grad: bool) -> None:
        model, needs = self.model, self.needs
        want_sal = bool(needs & {"saliency", "hidden_saliency"})
        keep_records = bool(needs & {"activation_codes", "hidden_saliency"})
        records: list | None = [] if keep_records else None
        with torch.set_grad_enabled(want_grad):
            embedded = model.embed(self.tokens)  # in the graph of the tied encoder/decoder weight
            outputs, _ = model.run_layers(embedded, records=records)
        y = outputs[-1]
        self._layer_outputs = [o.detach() for o in outputs]
        if "activation_codes" in needs:
            self._codes = self._activation_codes(records)
        if "jacobian" in needs:
            (grad,) = torch.autograd.grad(y, embedded, torch.ones_like(y), retain_graph=want_sal)
            self._jacobian = _rows(grad)
        if want_sal:
            weights = self._saliency_weights() if "saliency" in needs else []
            hiddens = self._recorded_hiddens(records) if "hidden_saliency" in needs else []
            grads = torch.autograd.grad(y, weights + hiddens, y.detach(), allow_unused=True)
            if "saliency" in needs:
                self._saliency = [
                    (w.detach() * g).abs() if g is not None else torch.zeros_like(w)
                    for w, g in zip(weights, grads[: len(weights)])
                ]
            if "hidden_saliency" in needs:
                total = torch.zeros((), dtype=torch.float64, device=y.device)
                for h, g in zip(hiddens, grads[len(weights):]):
                    if g is not None:
                        total += (h.detach() * g).abs().sum(dtype=torch.float64)
                self._hidden_saliency = float(total)

    def _noise_passes(self, amplitudes: list[float]) -> None:
        model = self.model
        with torch.no_grad():
            clean = model.embed(self.tokens)
            variance = clean.var(dim=1, unbiased=False, keepdim=True)  # over the batch, as published
            generator = torch.Generator(device=clean.device).manual_seed(self.noise_seed)
            eps = torch.randn(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
        for amplitude in amplitudes:
            noisy = (clean + amplitude * variance * eps).requires_grad_(True)
            with torch.enable_grad():
                outputs, _ = model.run_layers(noisy)
                (grad,) = torch.autograd.grad(outputs[-1], noisy, torch.ones_like(outputs[-1]))
            self._noised[amplitude] = _rows(grad)

    def _saliency_weights(self) -> list[torch.Tensor]:
        """Recurrent weight matrices (every linear node's weights but the first input's) and the decoder."""
        weights = []
        for cell in self.model.cells:
            for name in cell.recipe.order:
                node = cell.recipe.nodes[name]
                if node.op == "linear":
                    weights.extend(cell.weights[f"{name}__{pos}"] for pos in range(1, len(node.inputs)))
        weights.append(self.model.decoder.weight)
        return weights

    def _recorded_hiddens(self, records: list) -> list[torch.Tensor]:
        """h_prev_0 entering every step after the first (the first is the constant zero state)."""
        out = h_new(0)
        return [step[out] for layer in records for step in layer[:-1]]

    def _activation_codes(self, records: list) -> list[torch.Tensor]:
        names = [n for n in self.model.recipe.order if self.model.recipe.nodes[n].op in ACTIVATIONS]
        codes = []
        for layer in records:
            for name in names:
                stacked = torch.stack([step[name].detach() for step in layer]) > 0  # T x B x H
                codes.extend(stacked.to(torch.float32).unbind(0))
        return codes

    # -- what metrics read (the kinds' Protocols, tfnas.probe.kinds) --------------------------
    def hidden_states(self, layer: int) -> torch.Tensor:
        """The h_prev_0 entering layer `layer`'s cell at t = 1..T (T x B x hidden; the first is the zero state)."""
        self._require(HIDDEN.need(layer))
        out = self._layer_outputs[layer - 1]
        return torch.cat([torch.zeros_like(out[:1]), out[:-1]], 0)

    def activation_codes(self) -> list[torch.Tensor]:
        """One B x H 0/1 tensor per (layer, activation node, step)."""
        self._require("activation_codes")
        return self._codes

    def jacobian_rows(self) -> torch.Tensor:
        self._require("jacobian")
        return self._jacobian

    def noised_jacobian_rows(self, amplitude: float) -> torch.Tensor:
        self._require(JACOBIAN_NOISE.need(amplitude))
        return self._noised[float(amplitude)]

    def saliency_terms(self) -> list[torch.Tensor]:
        self._require("saliency")
        return self._saliency

    def hidden_saliency(self) -> float:
        self._require("hidden_saliency")
        return self._hidden_saliency

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def _lm_layer_list(self):
        return lm_probe.lm_layers(self.model)

    def flops_per_token(self) -> float:
        return lm_probe.flops_per_token(self.model)

    def num_classes(self) -> int:
        return int(self.model.decoder.out_features)


def _rows(grad: torch.Tensor) -> torch.Tensor:
    """T x B x E gradient -> B x (T*E): one row per sequence."""
    return grad.detach().transpose(0, 1).reshape(grad.size(1), -1)
