"""predictor=random: a seeded random order, the proxy-free baseline (random trainings, halving over random candidates)."""
from __future__ import annotations

import numpy as np

from tfnas.predictors.base import PREDICTORS, Predictor


@PREDICTORS.register("random")
class RandomPredictor(Predictor):
    """Each candidate gets a score drawn from the run's seed and its hash, so the order does not depend on
    the order the candidates were scored in, and a resumed run draws the same."""

    name = "random"
    guarded = False  # the proxy-free baseline: no prior knowledge of any kind

    def query(self, records) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        draws = {h: rng.random() for h in sorted({r.hash for r in records})}
        return np.array([draws[r.hash] for r in records], dtype=float)
