"""Every BERT metric against a value computed independently (plain autograd, hooks, numpy) on a tiny model.

The gradient metrics are compared under `backward_target="random"`, where the gradients are real. Under the
paper's `ones` target they are float rounding (the last LayerNorm makes that gradient analytically zero),
so two correct computations in a different order disagree there; that case checks the forward metrics
exactly and the gradient metrics' documented size.
"""
import math

import numpy as np
import pytest
import torch

from tiny_flexibert import tiny_flexibert  # noqa: F401 (used through probe_values)
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert.probe import GRADIENT_NEEDS, BertProbe
from tfnas.metrics.suite import metric_suite


LAYERS = [
    dict(operation_type="SA", operation_parameter="WMA", num_operation_heads=2, feed_forward_dimension=6, num_feed_forward=2),
    dict(operation_type="DSC", operation_parameter=3, num_operation_heads=2, feed_forward_dimension=5, num_feed_forward=1),
    dict(operation_type="LT", operation_parameter="DFT", num_operation_heads=2, feed_forward_dimension=7, num_feed_forward=1),
]
PROJECTIONS = ("query", "key", "value", "conv_value", "projection")


def probe_values(target: str):
    torch.manual_seed(0)
    model = tiny_flexibert(LAYERS)
    ids = torch.randint(1, 40, (4, 6))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    metrics = metric_suite(NasBenchBertSpace(backward_target=target))
    probe = BertProbe(model, batch, set().union(*(m.needs() for m in metrics)), backward_target=target)
    values = {m.key: m.compute(probe) for m in metrics}
    gradient_keys = {m.key for m in metrics if m.needs() & GRADIENT_NEEDS}
    return model, batch, values, gradient_keys


@pytest.fixture(scope="module")
def setup():
    return probe_values("random")


def backward_seed(shape, target: str) -> torch.Tensor:
    """The probe's backward target: ones (the paper's) or a fixed N(0, 1) tensor."""
    if target == "ones":
        return torch.ones(shape)
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def reference(model, batch, target: str = "random"):
    """Everything by hand: a plain backward of last_hidden_state against the target, forward hooks, per-sequence runs."""
    ids = batch["input_ids"]
    captured = {"codes": [], "conf": [], "mix_in": {}}
    hooks = []
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if ".feed_forward.dense." in name:
            hooks.append(module.register_forward_hook(lambda m, i, o: captured["codes"].append((o > 0).reshape(o.size(0), -1).double())))
        if leaf in PROJECTIONS:
            hooks.append(module.register_forward_hook(lambda m, i, o: captured["conf"].append(float(o.detach().amax(1).mean()))))
        if name.endswith(".mixing"):
            hooks.append(module.register_forward_hook(lambda m, i, o, n=name: captured["mix_in"].__setitem__(n, i[0].detach())))
    model.zero_grad()
    for p in model.parameters():
        p.requires_grad_(True)
    out = model(**batch).last_hidden_state
    seed = backward_seed(out.shape, target)
    out.backward(seed)
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters())
    ref = {"params": sum(p.numel() for p in model.parameters())}
    ff = [p for n, p in params.items() if ".feed_forward." in n and n.endswith("weight")]
    ref["synaptic_saliency"] = sum(float((p * p.grad).abs().sum()) for p in ff)
    ref["synaptic_saliency_norm"] = ref["synaptic_saliency"] / len(ff)
    nuc = lambda m: np.linalg.norm(m.detach().double().reshape(m.size(0), -1).numpy(), "nuc")  # noqa: E731
    div = []
    for n, p in params.items():
        if (".mixing." in n and p.dim() >= 2) or n.endswith("mixing_output.weight"):
            if n.endswith(".wma"):
                div += [nuc(p[h]) * nuc(p.grad[h]) for h in range(p.size(0))]
            else:
                div.append(nuc(p) * nuc(p.grad))
    ref["synaptic_diversity"], ref["synaptic_diversity_norm"] = sum(div), sum(div) / len(div)
    imp = [float((p * p.grad).abs().sum()) for n, p in params.items() if n.rsplit(".", 2)[-2] in PROJECTIONS and n.endswith("weight")]
    ref["head_importance"], ref["head_importance_norm"] = sum(imp), sum(imp) / len(imp)
    conf = captured["conf"]
    ref["head_confidence"], ref["head_confidence_norm"] = sum(conf), sum(conf) / len(conf)
    keys, heads = [], []
    for name, x in captured["mix_in"].items():
        mixing = model.get_submodule(name)
        if not hasattr(mixing, "key"):
            continue
        n = mixing.heads
        split = lambda y: y.view(y.size(0), y.size(1), n, -1).transpose(1, 2)  # noqa: E731
        with torch.no_grad():
            q, k = split(mixing.query(x)), split(mixing.key(x))
            if getattr(mixing, "wma", None) is not None:
                q = torch.einsum("bntd,nde->bnte", q, mixing.wma)
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.size(-1)), -1)
        keys.append(float(probs.amax(-1).mean()))
        heads.append(float(probs.amax(1).mean()))
    ref["head_softmax_confidence"], ref["head_softmax_confidence_norm"] = sum(keys), sum(keys) / len(keys)
    ref["head_softmax_confidence_maxhead"], ref["head_softmax_confidence_maxhead_norm"] = sum(heads), sum(heads) / len(heads)
    codes = captured["codes"]
    b = ids.size(0)
    kernel = np.zeros((b, b))
    for c in codes:
        for i in range(b):
            for j in range(b):
                kernel[i, j] += float((c[i] == c[j]).sum())
    logdet = np.linalg.slogdet(kernel)[1]
    ref["activation_distance"], ref["activation_distance_norm"] = logdet, logdet / len(codes)
    ref["activation_distance_sum"], ref["activation_distance_sum_norm"] = kernel.sum(), kernel.sum() / len(codes)
    rows = []  # jacobian: each sequence alone, gradient of its outputs' sum w.r.t. the position table
    for i in range(b):
        model.zero_grad()
        model(ids[i : i + 1]).last_hidden_state.backward(seed[i : i + 1])
        rows.append(model.embeddings.position_embeddings.weight.grad[: ids.size(1)].reshape(-1).double().numpy())
    rows = np.stack(rows)
    eig = np.linalg.eigvalsh(np.corrcoef(rows)) + 1e-5
    ref["jacobian_cov"] = float(-(np.log(eig) + 1 / eig).sum())
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    cos = np.abs(unit @ unit.T) ** (1 / 20)
    ref["jacobian_cosine"] = 1 - (cos.sum() - np.trace(cos)) / (2 * (b * b - b))
    model.zero_grad()
    return ref


def test_every_bert_metric_matches_a_hand_computed_value(setup):
    model, batch, values, _ = setup
    ref = reference(model, batch, "random")
    assert set(values) == set(ref)
    for key, expected in ref.items():
        assert values[key] == pytest.approx(expected, rel=2e-4, abs=1e-9), key


def test_under_the_papers_ones_target_gradient_metrics_are_float_rounding(setup):
    model, batch, values, gradient_keys = probe_values("ones")
    ref = reference(model, batch, "ones")
    real = setup[2]
    for key, expected in ref.items():
        if key not in gradient_keys:
            assert values[key] == pytest.approx(expected, rel=2e-4, abs=1e-9), key
    for key in ("synaptic_saliency", "synaptic_diversity", "head_importance"):
        assert abs(values[key]) < 1e-6 * abs(real[key]), key


def test_probe_leaves_the_model_as_it_found_it(setup):
    model, batch, _, _ = setup
    flags = [p.requires_grad for p in model.parameters()]
    BertProbe(model, batch, {"saliency", "jacobian"})
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())


def test_gradient_of_ones_target_is_rounding_noise_and_random_target_is_not(setup):
    """sum(LayerNorm output) is constant, so the paper's backward carries no signal; a random target does."""
    model, batch, _, _ = setup
    ones = BertProbe(model, batch, {"jacobian"}).jacobian_rows()
    rand = BertProbe(model, batch, {"jacobian"}, backward_target="random").jacobian_rows()
    assert ones.abs().max() < 1e-4 * rand.abs().max()
    with pytest.raises(ValueError, match="backward_target"):
        BertProbe(model, batch, {"jacobian"}, backward_target="zeros")
