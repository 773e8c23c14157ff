"""The zero-cost proxy zoo: each proxy against a value computed by hand (a manual unroll of a one-node
RNN, plain autograd on the whole batch, numpy), shared-probe values equal to computed-alone values,
and inapplicable configurations refused before anything is scored."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tiny_flexibert import tiny_flexibert
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert import lm_probe as bert_lm
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe
from tfnas.errors import ConfigError
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.epe_nas import epe_score
from tfnas.probe.lm_pass import ZEN_ALPHA
from tfnas.metrics.zoo import ZOO

SIMPLE = {"n": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["n"]}}
ALL_NEEDS = {"lm_grad", "lm_hessian", "lm_fisher", "token_jacobian", "zen", "weights", "flops"}


@pytest.fixture(scope="module")
def tiny():
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


def test_gradient_proxies_match_a_manual_unroll(tiny):
    model, tokens, values = tiny
    (W_x, W_h, E), (g_x, g_h, g_e) = by_hand_grads(model, tokens)
    cell = torch.cat([g_x.flatten(), g_h.flatten()])
    assert values["grad_norm"] == pytest.approx(float(cell.norm() + g_e.norm()), rel=1e-5)
    pairs = [(W_x, g_x), (W_h, g_h), (E, g_e)]
    assert values["snip"] == pytest.approx(float(sum((w * g).abs().sum() for w, g in pairs).detach()), rel=1e-5)
    assert values["plain"] == pytest.approx(float(sum((w * g).sum() for w, g in pairs)), rel=1e-4)
    weights = torch.cat([W_x.flatten(), W_h.flatten()])
    assert values["l2_norm"] == pytest.approx(float(weights.norm() + E.norm()), rel=1e-6)
    assert values["flops"] == 2 * (3 * 3 + 3 * 3)


def test_grasp_is_minus_theta_times_the_hessian_gradient_product(tiny):
    """grasp: H from the first minibatch (sequences 0-1), g from the whole batch; grasp_full: both whole."""
    model, tokens, values = tiny
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


def test_a_hessian_minibatch_count_out_of_range_or_mixed_in_one_probe_is_refused():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8}, batch_size=4, seq_len=5)
    with pytest.raises(ConfigError, match="metric.hessian_minibatches"):
        METRICS.get("grasp")(hessian_minibatches=3)
    with pytest.raises(ConfigError, match="metric.hessian_minibatches.*one value"):
        Scorer(space, [METRICS.get("grasp")(), METRICS.get("grasp")(hessian_minibatches=2)])
    with pytest.raises(ConfigError, match="metric.hessian_minibatches"):
        space.check_needs({"lm_hessian:x"})


def test_zico_uses_the_two_minibatches_of_sequences(tiny):
    model, tokens, values = tiny
    per_batch = [by_hand_grads(model, tokens[:, cols])[1] for cols in (slice(0, 2), slice(2, 4))]
    score = 0.0
    for layer in ([0, 1], [2]):  # the linear node (both weights), then the tied decoder
        g = np.stack([np.concatenate([per_batch[c][i].numpy().ravel() for i in layer]) for c in range(2)])
        std = g.std(0)
        keep = std > 0
        score += math.log(np.sum(np.abs(g).mean(0)[keep] / std[keep]))
    assert values["zico"] == pytest.approx(score, rel=1e-4)


def test_fisher_sums_positions_inside_the_square(tiny):
    model, tokens, values = tiny
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


def test_epe_nas_groups_token_jacobians_by_next_token(tiny):
    model, tokens, values = tiny
    e = model.embed(tokens).detach().requires_grad_(True)
    W_x, W_h, E = (p.detach() for p in params(model))
    _, y, _ = unroll(W_x, W_h, model.cells[0].biases["n"].detach(), E, model.decoder.bias.detach(), tokens, e)
    y.sum().backward()
    rows = e.grad[:-1].reshape(-1, 3).numpy()
    labels = tokens[1:].reshape(-1).numpy()
    score = 0.0  # 6 classes (<= 100): the sum of |s_c|, classes with one row skipped
    for c in np.unique(labels):
        if (labels == c).sum() < 2:
            continue
        score += abs(np.sum(np.log(np.abs(np.corrcoef(rows[labels == c])) + 1e-5)))
    assert values["epe_nas"] == pytest.approx(score, rel=1e-5)


def test_epe_nas_with_many_classes_uses_pairwise_differences():
    torch.manual_seed(1)
    rows = torch.randn(9, 5)
    classes = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3])
    s = []
    for c in (0, 1, 3):
        corr = np.corrcoef(rows[classes == c].numpy())
        s.append(np.sum(np.log(np.abs(corr) + 1e-5)) / len(corr))
    expected = sum(abs(a - b) for a in s for b in s) / 3
    assert epe_score(rows, classes, num_classes=1000) == pytest.approx(expected, rel=1e-9)


def test_zen_is_the_log_output_change_under_an_embedding_perturbation(tiny):
    model, tokens, values = tiny
    W_x, W_h, E = (p.detach() for p in params(model))
    b, b_dec = model.cells[0].biases["n"].detach(), model.decoder.bias.detach()
    e = E[tokens]
    eps = torch.randn(e.shape, generator=torch.Generator().manual_seed(1))
    _, y, _ = unroll(W_x, W_h, b, E, b_dec, tokens, e)
    _, y2, _ = unroll(W_x, W_h, b, E, b_dec, tokens, e + ZEN_ALPHA * e.std() * eps)
    expected = math.log(float((y - y2).abs().sum()) / tokens.size(1))
    assert values["zen"] == pytest.approx(expected, rel=1e-4)


def test_lm_loss_is_next_token_cross_entropy(tiny):
    model, tokens, _ = tiny
    probe = RNNProbe(model, tokens, {"lm_grad"})
    assert probe.lm_loss() == pytest.approx(float(loss_of(params(model), model, tokens)), rel=1e-6)


# -- sharing -------------------------------------------------------------------------------------
def shared_vs_alone(space, arch, names=ZOO):
    everything = [n for n, cls in METRICS.items() if cls().applies_to(space) and n != "rank_average"]
    together = Scorer(space, [METRICS.get(n)() for n in everything])(arch).scores
    for name in names:
        alone = Scorer(space, [METRICS.get(name)()])(arch).scores[name]
        assert alone == together[name], name


def test_rnn_shared_probe_equals_each_proxy_alone(tiny_rnn_space):
    shared_vs_alone(tiny_rnn_space, Recipe.from_json(SIMPLE), ZOO + ("synflow", "nwot"))


def test_bert_shared_probe_equals_each_proxy_alone():
    """(The aliases are left out on BERT: the paper's ones-target saliency is float rounding noise,
    which moves with the set of weights that get gradients; see test_bert_metrics.)"""
    space = NasBenchBertSpace(batch_size=4, seq_len=12)
    arch = min((a for _, a in space.benchmark().pool()), key=lambda a: (a.num_layers, a.hidden_size))
    shared_vs_alone(space, arch)


def test_aliases_have_the_values_of_the_originals(tiny_rnn_space):
    names = ["synflow", "synaptic_saliency", "nwot", "activation_distance"]
    scores = Scorer(tiny_rnn_space, [METRICS.get(n)() for n in names])(Recipe.from_json(SIMPLE)).scores
    assert scores["synflow"] == scores["synaptic_saliency"] and scores["nwot"] == scores["activation_distance"]


# -- BERT: the masked-LM pass by hand -----------------------------------------------------------
LAYERS = [
    dict(operation_type="SA", operation_parameter="SDP", num_operation_heads=2, feed_forward_dimension=6, num_feed_forward=1),
    dict(operation_type="DSC", operation_parameter=3, num_operation_heads=2, feed_forward_dimension=5, num_feed_forward=1),
]


def test_bert_gradient_proxies_match_plain_autograd_of_the_mlm_loss():
    model = tiny_flexibert(LAYERS)
    ids = torch.randint(1, 39, (4, 10))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    probe = BertProbe(model, batch, ALL_NEEDS)
    values = {n: METRICS.get(n)().compute(probe) for n in ("grad_norm", "snip", "plain", "grasp", "l2_norm")}
    mask = bert_lm.mlm_mask(batch)
    assert mask.float().mean() > 0 and not mask[:, 0].any() and not mask[:, -1].any()
    layers = bert_lm.lm_layers(model)
    weights = [w for _, ws in layers for w in ws]

    def loss_fn(*ws):
        saved = [w.data.clone() for w in weights]
        out = torch.func.functional_call(
            model, {n: w for (n, _), w in zip(_named(model, weights), ws)}, (), {"input_ids": ids.masked_fill(mask, 39)}
        ).last_hidden_state
        del saved
        h = out[mask]
        project = ws[[i for i, (n, _) in enumerate(_named(model, weights)) if n == "embeddings.project.weight"][0]]
        word = ws[-1]
        return F.cross_entropy(h @ project @ word.t(), ids[mask])

    def first_minibatch_loss(*ws):  # grasp's H: the first of the two minibatches (sequences 0-1)
        keep = mask.clone()
        keep[2:] = False
        out = torch.func.functional_call(
            model, {n: w for (n, _), w in zip(_named(model, weights), ws)}, (), {"input_ids": ids.masked_fill(mask, 39)}
        ).last_hidden_state
        project = ws[[i for i, (n, _) in enumerate(_named(model, weights)) if n == "embeddings.project.weight"][0]]
        return F.cross_entropy(out[keep] @ project @ ws[-1].t(), ids[keep])

    with torch.nn.attention.sdpa_kernel([torch.nn.attention.SDPBackend.MATH]):
        grads = torch.autograd.grad(loss_fn(*weights), weights)
        _, hg = torch.autograd.functional.hvp(first_minibatch_loss, tuple(w.detach() for w in weights), tuple(grads))
    assert values["grad_norm"] == pytest.approx(float(sum(g.norm() for g in grads)), rel=1e-4)
    assert values["snip"] == pytest.approx(float(sum((w * g).abs().sum() for w, g in zip(weights, grads))), rel=1e-4)
    assert values["plain"] == pytest.approx(float(sum((w * g).sum() for w, g in zip(weights, grads))), rel=1e-3)
    assert values["grasp"] == pytest.approx(float(sum((-w * h).sum() for w, h in zip(weights, hg))), rel=1e-3)
    assert values["l2_norm"] == pytest.approx(float(sum(w.norm() for w in weights)), rel=1e-5)


def _named(model, weights):
    ids = {id(w): n for n, w in model.named_parameters()}
    return [(ids[id(w)], w) for w in weights]


# -- refusals -----------------------------------------------------------------------------------
def test_epe_nas_without_repeated_targets_is_refused():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8}, batch_size=2, seq_len=2)
    with pytest.raises(ConfigError) as err:
        Scorer(space, [METRICS.get("epe_nas")()])
    assert err.value.field == "space.batch_size"


def test_zico_with_a_one_sequence_batch_is_refused():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8}, batch_size=1, seq_len=5)
    with pytest.raises(ConfigError) as err:
        Scorer(space, [METRICS.get("zico")()])
    assert err.value.field == "space.batch_size"


def test_rank_average_accepts_a_zoo_proxy(tiny_rnn_space):
    rows = [{"snip": "1.0", "hidden_cov": "-5"}, {"snip": "3.0", "hidden_cov": "-1"}]
    metric = METRICS.get("rank_average")(components=["snip", "hidden_cov"], reference=rows)
    bert = NasBenchBertSpace()
    METRICS.get("rank_average")(components=["snip", "zen"], reference=rows).check_space(bert)  # where its parts apply
    with pytest.raises(ConfigError):
        metric.check_space(bert)
    value = Scorer(tiny_rnn_space, [metric])(Recipe.from_json(SIMPLE)).scores["rank_average"]
    assert 0.0 <= value <= 1.0
