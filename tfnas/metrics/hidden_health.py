"""Hidden-state health at initialisation: the guard of strategy=ensemble against degenerate cells.

A cell whose hidden state explodes, collapses or ignores its input at initialisation is visible in
the same forward pass hidden covariance reads. This metric is *undefined* (NaN, so the Scorer
records it with `undefined`) for such a cell, and otherwise the state's input dependence:

* non-finite states, or a state whose RMS is below `min_rms` (collapsed to zero): undefined;
* exploding: the RMS over the last 5 steps exceeds `max_growth` times the RMS over the first 5
  (after the zero initial state): undefined;
* constant: the state's spread across the batch's sequences, relative to its magnitude (mean
  over units of std over sequences / mean |h|, last 10 steps), is below `min_input_dependence`
  -- the state carries almost nothing about the text it read: undefined;
* else: that relative spread (higher is better).
"""
from __future__ import annotations

import math

from tfnas.metrics.base import Metric, register
from tfnas.probe import HIDDEN, HiddenProbe


@register
class HiddenHealth(Metric):
    name = "hidden_health"
    spaces = ("rnn",)
    higher_is_better = True

    def __init__(self, layer: int = 1, max_growth: float = 2.0, min_input_dependence: float = 0.01, min_rms: float = 1e-6):
        self.layer = int(layer)
        self.max_growth, self.min_input_dependence, self.min_rms = float(max_growth), float(min_input_dependence), float(min_rms)

    def needs(self) -> set[str]:
        return {HIDDEN.need(self.layer)}

    def compute(self, probe: HiddenProbe) -> float:
        states = probe.hidden_states(self.layer)[1:].double()  # T-1 x B x H, without the zero initial state
        if states.numel() == 0 or not bool(states.isfinite().all()):
            return math.nan
        rms_t = states.pow(2).mean(dim=(1, 2)).sqrt()
        if float(rms_t.mean()) < self.min_rms:
            return math.nan
        window = min(5, len(rms_t))
        if float(rms_t[-window:].mean()) > self.max_growth * float(rms_t[:window].mean()):
            return math.nan
        last = states[-min(10, len(states)):]
        dependence = float(last.std(dim=1, unbiased=False).mean() / last.abs().mean().clamp_min(1e-300))
        return dependence if dependence >= self.min_input_dependence else math.nan
