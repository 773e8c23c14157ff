"""The benchmark's training details that keep short RNN training finite, and the divergence report."""
import numpy as np
import pytest
import torch

from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace, Recipe
from tfnas.errors import ConfigError
from tfnas.training import Budget, train_candidate
from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer

TANH = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "g": {"op": "activation_tanh", "input": ["f"]},
        "k": {"op": "linear", "input": ["g", "x"]}, "h_new_0": {"op": "activation_tanh", "input": ["k"]}}
# NAS-Bench-NLP cell 1005786: h = z * tanh(z), z = linear(h_prev, x); the benchmark trained it to a PTB loss of 4.85
SQUARE = {"node_0": {"op": "linear", "input": ["h_prev_0", "x"]}, "node_1": {"op": "activation_tanh", "input": ["node_0"]},
          "h_new_0": {"op": "elementwise_prod", "input": ["node_0", "node_1"]}}


def make(space, recipe=TANH, **options):
    return RNNLanguageModelTrainer(space, Recipe.from_json(recipe), seed=0, device=torch.device("cpu"),
                                   options={"batch_size": 4, "bptt": 12, "eval_max_tokens": 200, **options})


def test_variable_bptt_lengths_and_learning_rate(tiny_rnn_space):
    t = make(tiny_rnn_space, bptt=70)
    lengths = [t.window_length(s) for s in range(400)]
    assert lengths == [t.window_length(s) for s in range(400)]  # a function of (seed, step) only
    assert min(lengths) >= 5 and 66 < np.mean(lengths) < 70 and any(l < 50 for l in lengths)  # 5% drawn around 35
    opt = t.optimizer()
    t.before_step(3, opt)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3 * t.window_length(3) / 70)
    start, length = t._window
    _, values = t.train_loss(3)
    assert start == 0 and values["bptt"] == length and t.position == length  # windows follow each other
    fixed = make(tiny_rnn_space, bptt=70, bptt_mode="fixed")
    fixed.before_step(3, opt)
    assert opt.param_groups[0]["lr"] == 1e-3 and fixed._window[1] == 70
    with pytest.raises(ConfigError):
        make(tiny_rnn_space, bptt_mode="random")


def test_hidden_reading_weights_stay_at_init_unless_asked(tiny_rnn_space, tmp_path):
    for mode, moved in (("frozen", False), ("trained", True)):
        t = make(tiny_rnn_space, recurrent_weights=mode)
        cell = t.model.cells[0]
        hidden = cell.hidden_weight_keys()
        assert sorted(hidden) == ["f__1", "k__0"]  # reads h_prev_0, reads the inner node g; never x
        before = {k: v.clone() for k, v in cell.weights.items()}
        train_candidate(t, Budget(steps=3), tmp_path / mode, fingerprint={})
        for key, value in cell.weights.items():
            changed = not torch.equal(before[key], value)
            assert changed == (moved or key not in hidden), (mode, key)


def test_benchmark_trained_cell_stays_finite_where_trained_recurrent_weights_explode(tmp_path):
    # lr 1e-2 makes the explosion of cell 1005786 (step ~25 at lr 1e-3) come within a few steps
    space = NasBenchNLPSpace(model={"emsize": 32, "nhid": 48})
    options = {"bptt": 70, "lr": 1e-2}
    exploding = train_candidate(make(space, SQUARE, recurrent_weights="trained", **options), Budget(steps=12),
                                tmp_path / "a", fingerprint={})
    assert exploding.status == "failed" and exploding.diverged_at <= 12
    assert "max |output| per layer" in exploding.offending and f"at step {exploding.diverged_at}" in exploding.error
    benchmark = train_candidate(make(space, SQUARE, **options), Budget(steps=12), tmp_path / "b", fingerprint={})
    assert benchmark.status == "ok" and np.isfinite(benchmark.values["eval_loss"])
