"""One set of passes through an RNN language model, shared by every metric that reads it.

Metrics declare requirements as strings; the probe runs each pass once:
- ``hidden:L``: the forward pass up to layer L (no decoder, no gradients).
"""
from __future__ import annotations

from typing import Iterable

import torch

from tfnas.errors import ConfigError


class RNNProbe:
    def __init__(self, model, tokens: torch.Tensor, needs: Iterable[str]):
        self.model = model
        self.tokens = tokens
        self.needs = set(needs)
        layers = [int(n.split(":", 1)[1]) for n in self.needs if n.startswith("hidden:")]
        for layer in layers:
            if not 1 <= layer <= model.nlayers:
                raise ConfigError("metric.layer", f"layer {layer} does not exist; the model has layers 1..{model.nlayers}")
        self._layer_outputs: list[torch.Tensor] = []
        if layers:
            with torch.no_grad():
                self._layer_outputs, _ = model.run_layers(model.embed(tokens), upto=max(layers))

    def hidden_states(self, layer: int) -> torch.Tensor:
        """The h_prev_0 entering layer `layer`'s cell at t = 1..T (T x B x hidden; the first is the zero state)."""
        if f"hidden:{layer}" not in self.needs:
            raise KeyError(f"hidden:{layer} was not requested from the probe")
        out = self._layer_outputs[layer - 1]
        return torch.cat([torch.zeros_like(out[:1]), out[:-1]], 0)
