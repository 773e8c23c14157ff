"""grad_norm on a one-node RNN against a manual unroll."""
import pytest
import torch

from tiny_lm import by_hand_grads


def test_grad_norm_matches_a_manual_unroll(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    (W_x, W_h, E), (g_x, g_h, g_e) = by_hand_grads(model, tokens)
    cell = torch.cat([g_x.flatten(), g_h.flatten()])  # a layer: the linear node, all its input weights together
    assert values["grad_norm"] == pytest.approx(float(cell.norm() + g_e.norm()), rel=1e-5)
