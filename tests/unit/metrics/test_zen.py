"""zen against the unrolled cell under the seeded embedding perturbation."""
import math

import pytest
import torch

from tiny_lm import params, unroll
from tfnas.probe.lm_pass import ZEN_ALPHA


def test_zen_is_the_log_output_change_under_an_embedding_perturbation(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    W_x, W_h, E = (p.detach() for p in params(model))
    b, b_dec = model.cells[0].biases["n"].detach(), model.decoder.bias.detach()
    e = E[tokens]
    eps = torch.randn(e.shape, generator=torch.Generator().manual_seed(1))
    _, y, _ = unroll(W_x, W_h, b, E, b_dec, tokens, e)
    _, y2, _ = unroll(W_x, W_h, b, E, b_dec, tokens, e + ZEN_ALPHA * e.std() * eps)
    expected = math.log(float((y - y2).abs().sum()) / tokens.size(1))
    assert values["zen"] == pytest.approx(expected, rel=1e-4)
