"""predictor=score (the default): the search metric's own score, in its declared direction."""
from __future__ import annotations


import numpy as np

from tfnas.predictors.base import PREDICTORS, Predictor


@PREDICTORS.register("score")
class ScorePredictor(Predictor):
    """Ranks by the metric it is bound to (the search metric; read from the record's metric values, so it
    also serves a metric that was scored beside another search metric); undefined values rank last."""

    name = "score"
    unhealthy = "undefined score"

    def __init__(self, structural_guard: bool = True):
        self.guarded = bool(structural_guard)  # false: the space's degenerate() guard is not applied

    def values(self, records) -> np.ndarray:
        key = self.metric.key
        return np.array([r.metrics.get(key, r.score) for r in records], dtype=float)

    def query(self, records) -> np.ndarray:
        scores = (1.0 if self.metric.higher_is_better else -1.0) * self.values(records)
        return np.where(np.isfinite(scores), scores, -np.inf)

    def healthy(self, records) -> np.ndarray:
        values = self.values(records)
        own = [not (r.undefined and self.metric.key not in r.metrics) for r in records]
        return np.isfinite(values) & np.array(own, dtype=bool) if len(records) else np.ones(0, dtype=bool)



