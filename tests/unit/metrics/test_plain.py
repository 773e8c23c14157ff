"""plain on a one-node RNN against a manual unroll."""
import pytest

from tiny_lm import by_hand_grads


def test_plain_matches_a_manual_unroll(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    (W_x, W_h, E), (g_x, g_h, g_e) = by_hand_grads(model, tokens)
    pairs = [(W_x, g_x), (W_h, g_h), (E, g_e)]
    assert values["plain"] == pytest.approx(float(sum((w * g).sum() for w, g in pairs)), rel=1e-4)
