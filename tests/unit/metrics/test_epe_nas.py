"""epe_nas: token jacobians grouped by target class, both of its forms, and its refusal without repeated classes."""
import numpy as np
import pytest
import torch

from tiny_lm import params, unroll
from tfnas.errors import ConfigError
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.epe_nas import epe_score
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace


def test_epe_nas_groups_token_jacobians_by_next_token(tiny_lm_values):
    model, tokens, values = tiny_lm_values
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


def test_epe_nas_without_repeated_targets_is_refused():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8}, batch_size=2, seq_len=2)
    with pytest.raises(ConfigError) as err:
        Scorer(space, [METRICS.get("epe_nas")()])
    assert err.value.field == "space.batch_size"
