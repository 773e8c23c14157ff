"""Head softmax confidence on a model without softmax attention."""
import math

import torch

from tiny_flexibert import tiny_flexibert
from tfnas.metrics import METRICS
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe

LT = dict(operation_type="LT", operation_parameter="DFT", num_operation_heads=2, feed_forward_dimension=7, num_feed_forward=1)


def test_linear_transform_only_model_has_undefined_softmax_confidence_norm():
    layers = [dict(LT), dict(LT)]
    model = tiny_flexibert(layers)
    ids = torch.randint(1, 40, (3, 5))
    probe = BertProbe(model, {"input_ids": ids}, {"softmax_confidence"})
    cls = METRICS.get("head_softmax_confidence")
    assert cls().compute(probe) == 0.0 and math.isnan(cls(normalized=True).compute(probe))
