"""l2_norm on a one-node RNN against a manual unroll."""
import pytest
import torch

from tiny_lm import params


def test_l2_norm_matches_a_manual_unroll(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    W_x, W_h, E = params(model)
    weights = torch.cat([W_x.flatten(), W_h.flatten()])
    assert values["l2_norm"] == pytest.approx(float(weights.norm() + E.norm()), rel=1e-6)
