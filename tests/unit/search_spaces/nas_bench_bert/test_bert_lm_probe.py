"""The BERT space's masked-LM pass against plain autograd of the MLM loss."""
import pytest
import torch
import torch.nn.functional as F

from tiny_flexibert import tiny_flexibert
from tiny_lm import ALL_NEEDS
from tfnas.metrics import METRICS
from tfnas.search_spaces.nas_bench_bert import lm_probe as bert_lm
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe


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
