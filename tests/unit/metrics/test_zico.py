"""zico over the LM pass's two minibatches, and its refusal of a one-sequence batch."""
import math

import numpy as np
import pytest

from tiny_lm import by_hand_grads
from tfnas.errors import ConfigError
from tfnas.metrics import METRICS, Scorer
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace


def test_zico_uses_the_two_minibatches_of_sequences(tiny_lm_values):
    model, tokens, values = tiny_lm_values
    per_batch = [by_hand_grads(model, tokens[:, cols])[1] for cols in (slice(0, 2), slice(2, 4))]
    score = 0.0
    for layer in ([0, 1], [2]):  # the linear node (both weights), then the tied decoder
        g = np.stack([np.concatenate([per_batch[c][i].numpy().ravel() for i in layer]) for c in range(2)])
        std = g.std(0)
        keep = std > 0
        score += math.log(np.sum(np.abs(g).mean(0)[keep] / std[keep]))
    assert values["zico"] == pytest.approx(score, rel=1e-4)


def test_zico_with_a_one_sequence_batch_is_refused():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8}, batch_size=1, seq_len=5)
    with pytest.raises(ConfigError) as err:
        Scorer(space, [METRICS.get("zico")()])
    assert err.value.field == "space.batch_size"
