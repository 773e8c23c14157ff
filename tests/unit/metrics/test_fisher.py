"""fisher against the activations and loss gradients of the unrolled cell."""
import pytest
import torch
import torch.nn.functional as F

from tiny_lm import params


def test_fisher_sums_positions_inside_the_square(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    W_x, W_h, E = params(model)
    b, b_dec = model.cells[0].biases["n"], model.decoder.bias
    h = torch.zeros(4, 3)
    pre, outs = [], []
    for t in range(5):
        a = E[tokens[t]] @ W_x.t() + h @ W_h.t() + b
        pre.append(a)
        h = torch.tanh(a)
        outs.append(h)
    logits = torch.stack(outs)[:-1] @ E.t() + b_dec
    acts = pre + [logits]
    grads = torch.autograd.grad(F.cross_entropy(logits.reshape(-1, 6), tokens[1:].reshape(-1)), acts)
    node = sum(a * g for a, g in zip(pre, grads[:-1]))  # B x H: the positions summed per sequence
    dec = (logits * grads[-1]).sum(0)  # B x V
    expected = float(0.5 * node.pow(2).mean(0).sum() + 0.5 * dec.pow(2).mean(0).sum())
    assert values["fisher"] == pytest.approx(expected, rel=1e-4)
