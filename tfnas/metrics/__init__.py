"""Training-free metrics: each scores an untrained network from one minibatch.

Metrics register themselves by name (``@METRICS.register("hidden_cov")``); every module of
this package is imported on first lookup, so a new metric is one file plus one config file.
"""
from tfnas.metrics.base import METRICS, Metric, metrics_for_space
from tfnas.metrics.scoring import Evaluation, Scorer

__all__ = ["METRICS", "Metric", "metrics_for_space", "Evaluation", "Scorer"]
