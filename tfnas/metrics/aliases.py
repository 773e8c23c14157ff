"""The names other zero-cost tools use for metrics tfnas already has, so their users find them:
`synflow` is `synaptic_saliency` (Tanaka et al., "Pruning neural networks without any data by
iteratively conserving synaptic flow", NeurIPS 2020, as the paper applies it: see
synaptic_saliency.py) and `nwot` is `activation_distance` (Mellor et al., "Neural Architecture
Search without Training", ICML 2021). Same definitions and values; only the name (and column) differ.
"""
from __future__ import annotations

from tfnas.metrics.activation_distance import ActivationDistance
from tfnas.metrics.base import METRICS
from tfnas.metrics.synaptic_saliency import SynapticSaliency


@METRICS.register("synflow")
class Synflow(SynapticSaliency):
    """`synaptic_saliency` under the name NAS-Bench-Suite-Zero uses."""

    name = "synflow"
    alias_of = "synaptic_saliency"


@METRICS.register("nwot")
class Nwot(ActivationDistance):
    """`activation_distance` under the name NAS-Bench-Suite-Zero uses."""

    name = "nwot"
    alias_of = "activation_distance"
