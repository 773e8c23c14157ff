"""Training-free metrics: each scores an untrained network from one minibatch.

A metric is one file named after it (`hidden_cov.py` holds `hidden_cov`), whose class sets `name` once and
registers under it (``@register``, tfnas.metrics.base); every module of this package is imported on first
lookup, so a new metric is one file plus one config file. A metric reads the probe only through the need
vocabulary of `tfnas.probe` (its `needs()` and the Protocols its `compute` is typed against).
"""
from tfnas.metrics.base import METRICS, Metric, metrics_for_space
from tfnas.metrics.scoring import Evaluation, Scorer

__all__ = ["METRICS", "Metric", "metrics_for_space", "Evaluation", "Scorer"]
