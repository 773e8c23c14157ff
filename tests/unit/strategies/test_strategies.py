"""Strategies on a synthetic objective with a known optimum: each must beat random search."""
import numpy as np
import pytest

from tfnas.strategies.evolution import RegularizedEvolution
from tfnas.strategies.nsga2 import NSGAII
from tfnas.strategies.optuna_tpe import OptunaTPE
from tfnas.strategies.pruned import PrunedSearch
from tfnas.strategies.random_search import RandomSearch
from tfnas.summary import pareto_front
from tfnas.errors import ConfigError
from tfnas.search_loop import SearchJob, run_search
from tfnas.store import EvaluationStore

from synthetic import L, TARGET, BitScorer, BitSpace

BUDGET = 60
SEEDS = range(4)  # margins over random on these seeds: evolution 1.75, tpe 1.0, pruned 2.25 (threshold 0.5)


def best_found(make_strategy, seed: int, budget: int = BUDGET) -> float:
    space, strategy, scorer = BitSpace(), make_strategy(), BitScorer()
    store = EvaluationStore(None, "t", ["maximize"], "agree", sampler=strategy.sampler(seed))
    strategy.bind(space, np.random.default_rng(seed), store.study)
    result = run_search(SearchJob(space, strategy, scorer, budget, [("agree", True)], store=store, progress=False))
    assert len(result.records) == budget
    assert scorer.calls == budget  # an architecture proposed again is never scored again
    assert len({r.hash for r in result.records}) == budget
    return max(r.score for r in result.records)


def mean_best(make_strategy) -> float:
    return float(np.mean([best_found(make_strategy, s) for s in SEEDS]))


@pytest.fixture(scope="module")
def random_baseline() -> float:
    return mean_best(RandomSearch)


@pytest.mark.parametrize(
    "make_strategy",
    [
        lambda: RegularizedEvolution(population_size=10, sample_size=3),
        lambda: OptunaTPE(n_startup_trials=10, multivariate=False),
        lambda: PrunedSearch("first == 1 and last == 1", inner=RegularizedEvolution(population_size=10, sample_size=3)),
    ],
    ids=["evolution", "tpe", "pruned+evolution"],
)
def test_strategy_beats_random(make_strategy, random_baseline):
    found = mean_best(make_strategy)
    assert found > random_baseline + 0.5, (found, random_baseline)


def test_evolution_reaches_optimum_with_more_budget():
    assert best_found(lambda: RegularizedEvolution(population_size=10, sample_size=4), 0, budget=300) == L


def test_nsga2_returns_a_pareto_front():
    space, strategy, scorer = BitSpace(), NSGAII(population_size=10, second_objective="size"), BitScorer()
    objectives = [("agree", True), ("size", False)]
    store = EvaluationStore(None, "t", ["maximize", "minimize"], "agree", sampler=strategy.sampler(0))
    strategy.bind(space, np.random.default_rng(0), store.study)
    result = run_search(SearchJob(space, strategy, scorer, 80, objectives, store=store, progress=False))
    front = pareto_front(store, result.records, objectives)
    assert front and len(front) < len(result.records)
    points = [(r.metrics["agree"], r.metrics["size"]) for r in result.records]
    for entry in front:  # nothing evaluated beats a front member on both objectives
        assert not any(a >= entry["agree"] and s <= entry["size"] and (a, s) != (entry["agree"], entry["size"]) for a, s in points)
    # the study holds both objective values of every evaluation
    assert all(len(t.values) == 2 for t in store.study.trials if t.state.name == "COMPLETE")
    assert max(e["agree"] for e in front) >= 10


def test_evolution_config_is_checked():
    with pytest.raises(ConfigError, match="strategy.sample_size"):
        RegularizedEvolution(population_size=5, sample_size=9)


def test_tpe_rejects_undecodable_suggestions():
    class Picky(BitSpace):
        def suggest(self, trial):
            arch = super().suggest(trial)
            if arch[0] == 0:
                from tfnas.errors import InvalidArchitecture

                raise InvalidArchitecture("first bit must be 1")
            return arch

    space, strategy, scorer = Picky(), OptunaTPE(n_startup_trials=5), BitScorer()
    store = EvaluationStore(None, "t", ["maximize"], "agree", sampler=strategy.sampler(0))
    strategy.bind(space, np.random.default_rng(0), store.study)
    result = run_search(SearchJob(space, strategy, scorer, 20, [("agree", True)], store=store, progress=False))
    assert all(r.arch[0] == 1 for r in result.records)
    assert strategy.rejected > 0
    assert TARGET[0] == 1
