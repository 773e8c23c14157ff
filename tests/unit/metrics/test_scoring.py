"""Scoring several architectures at once gives what scoring them one by one gives."""
import numpy as np

from tfnas.metrics import METRICS, Scorer


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
