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
the saliencies (cotangent y) are two backward passes over that one graph. The passes run in
tfnas.search_spaces.nas_bench_nlp.passes, for one model or for a pack of several at once
(`probe_many`): a model's values do not depend on how many are probed with it.
"""
from __future__ import annotations

from typing import Iterable

import torch

from tfnas.errors import ConfigError
from tfnas.probe import HIDDEN, JACOBIAN_NOISE, Probe, arguments, check_needs
from tfnas.probe.kernels import ActivationKernelMixin
from tfnas.probe.lm_pass import LMProbeMixin, run_lm_pass, wants_lm_pass
import tfnas.search_spaces.nas_bench_nlp.lm_probe as lm_probe
from tfnas.search_spaces.nas_bench_nlp.passes import PackedPasses, RNNPasses


def check_layers(needs, nlayers: int) -> None:
    """Refuse, with a ConfigError, a hidden:L need for a layer the model does not have (before any pass)."""
    for layer in sorted(arguments(needs, HIDDEN)):
        if not 1 <= layer <= nlayers:
            raise ConfigError(HIDDEN.argument.field, f"layer {layer} does not exist; the model has layers 1..{nlayers}")


class RNNProbe(LMProbeMixin, ActivationKernelMixin, Probe):
    """The RNN space's probe: serves the kinds whose methods it has (see `Probe.provides`).

    `passes`: this model's results of the passes, computed with other models' in one pack (`probe_many`);
    without them the probe runs the passes for its model alone. The LM pass always runs per model.
    """

    def __init__(self, model, tokens: torch.Tensor, needs: Iterable[str], noise_seed: int = 0, passes: RNNPasses | None = None):
        super().__init__(needs)
        self.model = model
        self.tokens = tokens
        self.noise_seed = noise_seed
        check_needs(self.needs, self.provides(), "rnn")
        check_layers(self.needs, model.nlayers)
        if passes is None:
            (passes,) = PackedPasses([model], tokens, self.needs, noise_seed).members
        self._layer_outputs = passes.layer_outputs
        self._codes = passes.codes
        self._jacobian = passes.jacobian
        self._noised = passes.noised
        self._saliency = passes.saliency
        self._hidden_saliency = passes.hidden_saliency
        if wants_lm_pass(self.needs):
            self._lm = run_lm_pass(lm_probe.lm_layers(model), lm_probe.chunk_passes(model, tokens), self.needs)

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


def probe_many(models, tokens: torch.Tensor, needs: Iterable[str], noise_seed: int = 0) -> list[RNNProbe]:
    """One RNNProbe per model, the passes run once for all of them (models of one RNNModelBuilder)."""
    for model in models:
        check_layers(needs, model.nlayers)
    passes = PackedPasses(models, tokens, set(needs), noise_seed).members
    return [RNNProbe(model, tokens, needs, noise_seed, passes=p) for model, p in zip(models, passes)]
