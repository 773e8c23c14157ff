"""The Scorer: one probe per architecture, undefined values flagged as the worst score, reproducible for a seed, and
several architectures at once equal to one by one."""
import math

import numpy as np
import pytest
import torch

from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.suite import metric_suite
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_nlp import load_recipes


def test_score_many_with_overlapped_builds_equals_one_by_one(tiny_rnn_space):
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(3)]
    metrics = [METRICS.get("hidden_cov")(), METRICS.get("params")()]
    one_by_one = [Scorer(tiny_rnn_space, metrics)(a).scores for a in archs]
    scorer = Scorer(tiny_rnn_space, metrics, pack=False)
    scorer.overlap_builds = True  # the GPU path without packs: build the next model on a thread
    together = scorer.score_many(archs)
    assert [e.scores for e in together] == one_by_one
    assert all(e.seconds > 0 for e in together)


def everything(space):
    """The paper's suite and the zero-cost proxies (grasp_full apart: its Hessian setting needs a probe of its own)."""
    return [m for m in metric_suite(space) + metric_suite(space, zoo=True) if m.key != "grasp_full"]


def test_packed_scoring_equals_one_at_a_time_for_every_metric(tiny_rnn_space):
    """On the CPU a pack gives each architecture its one-at-a-time values bit for bit (the LM pass of the zoo runs
    per architecture inside the pack's probes); so a search's results do not depend on search.eval_batch."""
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(5)] + [load_recipes()[1000001]]
    scorer = Scorer(tiny_rnn_space, everything(tiny_rnn_space))
    assert scorer.pack
    alone = [scorer(arch) for arch in archs]
    packed = scorer.score_many(archs)
    unpacked = Scorer(tiny_rnn_space, scorer.metrics, pack=False).score_many(archs)
    for a, b, c in zip(alone, packed, unpacked):
        assert a.undefined == b.undefined == c.undefined
        assert _same(a.scores, b.scores) and _same(a.scores, c.scores), {k: (a[k], b[k]) for k in a.scores if a[k] != b[k]}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


@pytest.mark.parametrize("space_name", ["rnn", "bert"])
def test_shared_parts_scorer_equals_a_fresh_full_build_for_every_metric(space_name, tiny_rnn_space):
    """The scorer builds the shared parts once; a fresh `build_model` per architecture scores the same."""
    space = tiny_rnn_space if space_name == "rnn" else NasBenchBertSpace(batch_size=4, seq_len=12, backward_target="random")
    metrics = everything(space)
    scorer = Scorer(space, metrics)
    for arch in _archs(space):
        probe = space.probe(space.build_model(arch, seed=0).eval(), scorer.batch, scorer.needs)
        fresh = {m.key: float(m.compute(probe)) for m in metrics}
        shared = scorer(arch)
        assert _same({k: v for k, v in fresh.items() if k not in shared.undefined},
                     {k: v for k, v in shared.scores.items() if k not in shared.undefined})


def _archs(space):
    if space.name == "rnn":
        return [space.sample(np.random.default_rng(i)) for i in range(3)]
    layer = dict(operation_type="SA", operation_parameter="WMA", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1)
    other = dict(layer, operation_type="DSC", operation_parameter="5", num_feed_forward=3)
    return [space.from_json({"hidden_size": 128, "nas_config": {"encoder_layers": layers}})
            for layers in ([layer, dict(layer, operation_type="LT", operation_parameter="DCT")], [other, layer])]


def test_a_pack_that_fails_is_scored_one_at_a_time(tiny_rnn_space, monkeypatch, caplog):
    archs = [tiny_rnn_space.sample(np.random.default_rng(i)) for i in range(3)]
    scorer = Scorer(tiny_rnn_space, [METRICS.get("hidden_cov")()])
    expected = [scorer(a).scores for a in archs]

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(type(tiny_rnn_space), "probe_many", out_of_memory)
    assert [e.scores for e in scorer.score_many(archs)] == expected
    assert "one at a time" in caplog.text


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
