"""Hidden covariance and the scores it is built from, against hand computation."""
import math

import numpy as np
import torch

from tfnas.search_spaces.nas_bench_nlp import load_recipes
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.scores import correlation, cosine_score, log_eig_score


def test_log_eig_score_by_hand():
    corr = torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64)  # eigenvalues 0.5 and 1.5
    k = 1e-5
    expected = -sum(math.log(l + k) + 1 / (l + k) for l in (0.5, 1.5))
    assert math.isclose(log_eig_score(corr), expected, rel_tol=1e-12)


def test_correlation_matches_numpy_and_flags_constant_rows():
    rows = torch.randn(4, 30)
    np.testing.assert_allclose(correlation(rows).numpy(), np.corrcoef(rows.numpy()), atol=1e-6)
    rows[2] = 3.0
    assert math.isnan(log_eig_score(correlation(rows)))


def test_cosine_score_by_hand():
    rows = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    cos = 1 / math.sqrt(2)
    expected = 1 - 2 * cos ** (1 / 20) / (2 * (4 - 2))
    assert math.isclose(cosine_score(rows), expected, rel_tol=1e-12)


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


def test_undefined_value_becomes_worst_and_is_flagged(tiny_rnn_space):
    # A cell whose output is the product of two sigmoids of the same zero-input linear is not
    # constant; make one that is: h_new_0 = prod(h_prev_0, tanh(linear)) stays exactly zero from h0 = 0.
    from tfnas.search_spaces.nas_bench_nlp import Recipe

    dead = Recipe.from_json(
        {
            "a": {"op": "linear", "input": ["x", "h_prev_0"]},
            "b": {"op": "activation_tanh", "input": ["a"]},
            "h_new_0": {"op": "elementwise_prod", "input": ["h_prev_0", "b"]},
        }
    )
    scorer = Scorer(tiny_rnn_space, [METRICS.get("hidden_cov")()])
    evaluation = scorer(dead)
    assert evaluation.undefined == ["hidden_cov"]
    assert evaluation["hidden_cov"] == -math.inf


def test_scoring_is_deterministic_for_a_seed(tiny_rnn_space):
    recipe = load_recipes()[1000050]
    metric = METRICS.get("hidden_cov")()
    a = Scorer(tiny_rnn_space, [metric], seed=3)(recipe)["hidden_cov"]
    b = Scorer(tiny_rnn_space, [metric], seed=3)(recipe)["hidden_cov"]
    c = Scorer(tiny_rnn_space, [metric], seed=4)(recipe)["hidden_cov"]
    assert a == b and a != c
