"""grasp against Hessian-vector products of the unrolled loss."""
import pytest
import torch

from tiny_lm import by_hand_grads, loss_of
from tfnas.metrics import METRICS
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_grasp_is_minus_theta_times_the_hessian_gradient_product(tiny_lm_values):
    """grasp: H from the first minibatch (sequences 0-1), g from the whole batch; grasp_full: both whole."""
    model, tokens, values = tiny_lm_values
    weights, grads = by_hand_grads(model, tokens)
    expected = {}
    for key, part in (("grasp", tokens[:, :2]), ("grasp_full", tokens)):
        _, hg = torch.autograd.functional.hvp(lambda *w, t=part: loss_of(list(w), model, t), tuple(weights), tuple(grads))
        expected[key] = float(sum((-w * h).sum() for w, h in zip(weights, hg)))
    assert values["grasp"] == pytest.approx(expected["grasp"], rel=1e-4)
    full = METRICS.get("grasp")(hessian_minibatches=2)
    assert full.key == "grasp_full" and full.variant_of == "grasp" and METRICS.get("grasp")().variant_of is None
    probe = RNNProbe(model, tokens, full.needs())
    assert full.compute(probe) == pytest.approx(expected["grasp_full"], rel=1e-4)
    assert expected["grasp"] != pytest.approx(expected["grasp_full"], rel=1e-2)  # the two estimators differ here
