"""Score architectures with several metrics, sharing one set of passes, and flag undefined values."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from tfnas.metrics.base import Metric


@dataclass
class Evaluation:
    """The metric values of one architecture; undefined (NaN/inf) values are replaced by the worst score."""

    scores: dict[str, float]
    undefined: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __getitem__(self, key: str) -> float:
        return self.scores[key]


class Scorer:
    """Builds each architecture's untrained model (same seed every time) and applies the metrics to one probe."""

    def __init__(self, space, metrics: Sequence[Metric], device: str | torch.device = "cpu", seed: int = 0):
        if not metrics:
            raise ValueError("Scorer needs at least one metric")
        for metric in metrics:
            metric.check_space(space.name)
        self.space = space
        self.metrics = list(metrics)
        self.device = torch.device(device)
        self.seed = seed
        self.needs = set().union(*(m.needs() for m in self.metrics))
        self.batch = space.metric_batch(self.device)
        for metric in self.metrics:
            metric.check_batch(space, self.batch)

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.metrics]

    def __call__(self, arch: Any) -> Evaluation:
        start = time.perf_counter()
        model = self.space.build_model(arch, seed=self.seed, device=self.device)
        model.eval()
        probe = self.space.probe(model, self.batch, self.needs)
        scores, undefined = {}, []
        for metric in self.metrics:
            try:
                value = float(metric.compute(probe))
            except (torch.linalg.LinAlgError, FloatingPointError, OverflowError):
                value = math.nan
            if not math.isfinite(value):
                undefined.append(metric.key)
                value = metric.worst
            scores[metric.key] = value
        return Evaluation(scores, undefined, time.perf_counter() - start)
