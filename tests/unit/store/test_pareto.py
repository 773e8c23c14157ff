"""The Pareto front comes from the study (Optuna's best_trials) and is what the pairwise comparison gave."""
import math

import numpy as np

from synthetic import BitScorer, BitSpace
from tfnas.search_loop import SearchJob, run_search
from tfnas.store import EvaluationStore
from tfnas.strategies.nsga2 import NSGAII
from tfnas.summary import pareto_front


def pairwise_front(records, objectives):
    """The previous O(n^2) definition, kept here as the reference: undominated, finite, ties kept, by the first."""
    points = [[(1.0 if hib else -1.0) * r.metrics[k] for k, hib in objectives] for r in records]
    front = []
    for i, p in enumerate(points):
        dominated = any(all(q[j] >= p[j] for j in range(len(p))) and any(q[j] > p[j] for j in range(len(p))) for q in points)
        if not dominated and all(math.isfinite(v) for v in p):
            front.append({"hash": records[i].hash, **{k: records[i].metrics[k] for k, _ in objectives}, "arch": records[i].arch})
    key, hib = objectives[0]
    return sorted(front, key=lambda e: e[key], reverse=hib)


def test_the_study_front_is_the_pairwise_front_entry_for_entry():
    for seed in range(3):
        space, strategy, scorer = BitSpace(), NSGAII(population_size=10, second_objective="size"), BitScorer()
        objectives = [("agree", True), ("size", False)]
        store = EvaluationStore(None, "t", ["maximize", "minimize"], "agree", sampler=strategy.sampler(seed))
        strategy.bind(space, np.random.default_rng(seed), store.study)
        result = run_search(SearchJob(space, strategy, scorer, 60, objectives, store=store, progress=False))
        front = pareto_front(store, result.records, objectives)
        assert front == pairwise_front(result.records, objectives)
        ties = len(front) - len({(e["agree"], e["size"]) for e in front})
        assert len(front) > 1 and ties > 0  # equal points are all kept (3, 1 and 9 of them on these seeds)
