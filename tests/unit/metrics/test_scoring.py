"""The Scorer: one probe per architecture, undefined values flagged as the worst score, reproducible for a seed, and
several architectures at once equal to one by one."""
import math

import numpy as np

from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.suite import metric_suite
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_nlp import load_recipes


def test_score_many_with_overlapped_builds_equals_one_by_one(tiny_rnn_space):
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(3)]
    metrics = [METRICS.get("hidden_cov")(), METRICS.get("params")()]
    one_by_one = [Scorer(tiny_rnn_space, metrics)(a).scores for a in archs]
    scorer = Scorer(tiny_rnn_space, metrics)
    scorer.overlap_builds = True  # the GPU path: build the next model on a thread
    together = scorer.score_many(archs)
    assert [e.scores for e in together] == one_by_one
    assert all(e.seconds > 0 for e in together)


def test_ask_batch_gives_n_distinct_candidates(tiny_rnn_space):
    from tfnas.strategies.evolution import RegularizedEvolution

    strategy = RegularizedEvolution(population_size=4, sample_size=2)
    strategy.bind(tiny_rnn_space, np.random.default_rng(0))
    batch = strategy.ask_batch(3)
    assert len(batch) == 3 and len({tiny_rnn_space.hash(c.arch) for c in batch}) == 3
    assert [c.number for c in batch] == [0, 1, 2]


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


def test_scorer_on_a_real_benchmark_architecture():
    space = NasBenchBertSpace(batch_size=4, seq_len=16)
    arch = space.from_json({"hidden_size": 128, "nas_config": {"encoder_layers": [
        dict(operation_type="SA", operation_parameter="SDP", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1),
        dict(operation_type="LT", operation_parameter="DCT", num_operation_heads=4, feed_forward_dimension=512, num_feed_forward=1)]}})
    scorer = Scorer(space, metric_suite(NasBenchBertSpace()))
    first, second = scorer(arch), scorer(arch)
    assert first.scores == second.scores  # same seed, same batch: reproducible
    assert all(math.isfinite(v) for v in first.scores.values())
    assert first.scores["params"] == sum(p.numel() for p in space.build_model(arch).parameters())
