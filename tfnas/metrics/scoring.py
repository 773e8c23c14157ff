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
            metric.check_space(space)
        self.space = space
        self.metrics = list(metrics)
        self.device = torch.device(device)
        self.seed = seed
        self.needs = set().union(*(m.needs() for m in self.metrics))
        space.check_needs(self.needs)  # needs that each pass alone may conflict together
        self.batch = space.metric_batch(self.device)
        for metric in self.metrics:
            metric.check_batch(space, self.batch)
        #: build the next model on a thread while this one is probed (on by default off the CPU, where
        #: the build and the probe would compete for the same cores)
        self.overlap_builds = self.device.type != "cpu"

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.metrics]

    def __call__(self, arch: Any) -> Evaluation:
        start = time.perf_counter()
        return self._evaluate(self._build(arch), start)

    def score_many(self, archs: Sequence[Any]) -> list[Evaluation]:
        """Score several architectures, building the next model on a CPU thread while the device probes the
        current one (search.eval_batch; on a GPU the build is host work the device need not wait for).
        Each evaluation's `seconds` is its own build and probe time."""
        if len(archs) <= 1 or not self.overlap_builds:
            return [self(arch) for arch in archs]
        from concurrent.futures import ThreadPoolExecutor

        def timed_build(arch):
            start = time.perf_counter()
            return self._build(arch), time.perf_counter() - start

        out = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(timed_build, archs[0])
            for i in range(len(archs)):
                model, build_seconds = pending.result()
                if i + 1 < len(archs):
                    pending = pool.submit(timed_build, archs[i + 1])
                start = time.perf_counter() - build_seconds
                out.append(self._evaluate(model, start))
        return out

    def _build(self, arch: Any):
        model = self.space.build_model(arch, seed=self.seed, device=self.device)
        return model.eval()

    def _evaluate(self, model, start: float) -> Evaluation:
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
