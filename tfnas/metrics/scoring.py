"""Score architectures with several metrics, sharing one set of passes, and flag undefined values."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from tfnas.metrics.base import Metric

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """The metric values of one architecture; undefined (NaN/inf) values are replaced by the worst score."""

    scores: dict[str, float]
    undefined: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __getitem__(self, key: str) -> float:
        return self.scores[key]


class Scorer:
    """Scores architectures: builds each one's untrained model (same seed every time) and applies the metrics
    to one probe.

    The parts every architecture of the space shares are built once, on `device`, when the scorer is made
    (`space.model_builder`); per architecture only the rest is built. `score_many` scores several
    architectures: in one pass (a pack) where the space packs the metrics' needs and `pack` is on, else one
    at a time. Either way each architecture gets the evaluation `scorer(arch)` gives it (to float rounding).
    """

    def __init__(self, space, metrics: Sequence[Metric], device: str | torch.device = "cpu", seed: int = 0,
                 pack: bool = True):
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
        self.builder = space.model_builder(seed, self.device)
        #: score_many probes its architectures in one pass where the space packs these needs
        self.pack = bool(pack) and space.packs(self.needs)
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
        """Evaluations of `archs`, in their order (search.eval_batch): one pack of them all when `pack` is on,
        else one at a time (building the next model on a CPU thread while the device probes the current one,
        with `overlap_builds`). A pack's build and probe time is shared equally among its architectures;
        each evaluation's `seconds` adds its own metric arithmetic."""
        if len(archs) > 1 and self.pack:
            return self._score_pack(archs)
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

    def _score_pack(self, archs: Sequence[Any]) -> list[Evaluation]:
        start = time.perf_counter()
        models = [self._build(arch) for arch in archs]
        try:
            probes = self.space.probe_many(models, self.batch, self.needs)
        except RuntimeError as err:  # e.g. a device out of memory for the whole pack: one at a time instead
            log.warning("scoring %d architectures in one pass failed (%s); scoring them one at a time", len(archs), err)
            del models
            return [self(arch) for arch in archs]
        share = (time.perf_counter() - start) / len(archs)
        return [self._compute(probe, time.perf_counter() - share) for probe in probes]

    def _build(self, arch: Any):
        return self.builder(arch).eval()

    def _evaluate(self, model, start: float) -> Evaluation:
        return self._compute(self.space.probe(model, self.batch, self.needs), start)

    def _compute(self, probe, start: float) -> Evaluation:
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
