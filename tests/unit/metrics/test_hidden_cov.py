"""Hidden covariance against a step-by-step forward and numpy."""
import math

import numpy as np
import torch

from tfnas.metrics import METRICS
from tfnas.search_spaces.nas_bench_nlp import load_recipes


def test_hidden_covariance_of_a_tiny_model_by_hand(tiny_rnn_space):
    recipe = load_recipes()[1000001]
    metric = METRICS.get("hidden_cov")(layer=1)
    model = tiny_rnn_space.build_model(recipe, seed=0).eval()
    batch = tiny_rnn_space.metric_batch()
    value = metric.compute(tiny_rnn_space.probe(model, batch, metric.needs()))

    # By hand: run layer 1 step by step, keep the h entering each step (zero first), numpy corrcoef + eigvals.
    with torch.no_grad():
        emb = model.embed(batch)
        cell = model.cells[0]
        state, entering = cell.init_state(batch.size(1)), []
        for t in range(batch.size(0)):
            entering.append(state[0])
            _, state = cell(emb[t : t + 1], state)
    h = torch.stack(entering).reshape(-1, cell.hidden_size).double().numpy()  # (T*B) x H
    eig = np.linalg.eigvalsh(np.corrcoef(h.T))
    expected = -np.sum(np.log(eig + 1e-5) + 1 / (eig + 1e-5))
    assert math.isclose(value, expected, rel_tol=1e-6)
