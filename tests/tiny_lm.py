"""A one-node RNN language model small enough to compute every LM proxy by hand (a manual unroll, plain autograd)."""
import torch
import torch.nn.functional as F

from tfnas.metrics import METRICS
from tfnas.metrics.zoo import ZOO
from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe

SIMPLE = {"n": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["n"]}}
ALL_NEEDS = {"lm_grad", "lm_hessian", "lm_fisher", "token_jacobian", "zen", "weights", "flops"}


def tiny_lm():
    """(model, tokens T=5 x B=4, every zoo proxy's value from one shared probe)."""
    torch.manual_seed(0)
    model = RNNLanguageModel(Recipe.from_json(SIMPLE), vocab_size=6, emsize=3, nlayers=1).eval()
    tokens = torch.tensor([[0, 1, 2, 3], [1, 1, 2, 0], [2, 1, 0, 3], [1, 4, 2, 0], [0, 1, 5, 3]])  # T=5 x B=4
    probe = RNNProbe(model, tokens, ALL_NEEDS)
    values = {name: METRICS.get(name)().compute(probe) for name in ZOO}
    return model, tokens, values


def unroll(W_x, W_h, b, E, b_dec, tokens, embedded=None):
    """The one-node cell by hand: a_t = W_x e_t + W_h h_{t-1} + b, h_t = tanh(a_t); logits = h E^T + b_dec."""
    e = E[tokens] if embedded is None else embedded
    h = torch.zeros(tokens.size(1), W_h.size(0))
    pre, outs = [], []
    for t in range(tokens.size(0)):
        a = e[t] @ W_x.t() + h @ W_h.t() + b
        h = torch.tanh(a)
        pre.append(a)
        outs.append(h)
    y = torch.stack(outs)
    return pre, y, y[:-1] @ E.t() + b_dec


def params(model):
    cell = model.cells[0]
    return [cell.weights["n__0"], cell.weights["n__1"], model.encoder.weight]


def loss_of(weights, model, tokens):
    W_x, W_h, E = weights
    _, _, logits = unroll(W_x, W_h, model.cells[0].biases["n"], E, model.decoder.bias, tokens)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), tokens[1:].reshape(-1))


def by_hand_grads(model, tokens):
    weights = [w.detach().clone().requires_grad_(True) for w in params(model)]
    return weights, torch.autograd.grad(loss_of(weights, model, tokens), weights)
