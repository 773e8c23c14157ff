"""search.eval_batch: the loop asks, claims, scores, stores and tells N architectures at a time."""
import numpy as np
import pytest

from synthetic import BitScorer, BitSpace
from tfnas.errors import ConfigError
from tfnas.search_loop import SearchJob, run_search
from tfnas.store import EvaluationStore
from tfnas.strategies.evolution import RegularizedEvolution
from tfnas.strategies.optuna_tpe import OptunaTPE
from tfnas.strategies.random_search import RandomSearch
from tfnas.trial_params import hide_readable

from apprun import cli, config, search
from tfnas.app import read_settings
from tfnas.results import read_results


def rows(make_strategy, eval_batch: int, budget: int, seed: int = 0):
    space, strategy, scorer = BitSpace(), make_strategy(), BitScorer()
    store = EvaluationStore(None, "t", ["maximize"], "agree", sampler=hide_readable(strategy.sampler(seed)))
    strategy.bind(space, np.random.default_rng(seed), store.study)
    result = run_search(SearchJob(space, strategy, scorer, budget, [("agree", True)], store=store, eval_batch=eval_batch,
                                  progress=False))
    assert scorer.calls == budget == len({r.hash for r in result.records})
    return [(r.index, r.hash, r.score, r.metrics) for r in result.records]


#: (strategy, budget over which its proposals do not depend on scores it has not been told yet)
IDENTICAL = {
    "random": (RandomSearch, 40),  # independent draws: always
    "evolution": (lambda: RegularizedEvolution(population_size=16, sample_size=4), 16),  # its random first population
    "tpe": (lambda: OptunaTPE(n_startup_trials=16), 16),  # TPE's random start-up trials
}


@pytest.mark.parametrize("name", sorted(IDENTICAL))
def test_a_batch_of_8_gives_the_rows_of_one_at_a_time(name):
    make_strategy, budget = IDENTICAL[name]
    assert rows(make_strategy, 8, budget) == rows(make_strategy, 1, budget)


@pytest.mark.parametrize("name", ["evolution", "tpe"])
def test_past_its_start_a_batch_proposes_without_the_pending_scores(name):
    """A batch's later members are asked before the earlier ones are scored: evolution mutates a population
    without them, TPE's constant liar counts them as running. The search is still complete and exact."""
    make_strategy, start = IDENTICAL[name]
    one, eight = rows(make_strategy, 1, start + 8), rows(make_strategy, 8, start + 8)
    assert eight[: start + 1] == one[: start + 1]  # the first proposal after the start sees every score
    assert len(eight) == len(one) == start + 8


def test_a_batch_larger_than_the_budget_left_asks_only_that_many():
    assert len(rows(RandomSearch, 8, 5)) == 5


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "two"])
def test_eval_batch_must_be_a_positive_integer(value):
    with pytest.raises(ConfigError, match="search.eval_batch: must be a positive integer"):
        read_settings(config(f"search.eval_batch={value}"))


def test_the_app_scores_the_same_rows_in_batches(tmp_path):
    def rows_of(run_dir):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in read_results(run_dir)]

    one = search(tmp_path / "one", "search.budget=10")
    eight = search(tmp_path / "eight", "search.budget=10", "search.eval_batch=8")
    assert eight["config"]["search"]["eval_batch"] == 8 and eight["evaluated"] == 10
    assert rows_of(tmp_path / "eight") == rows_of(tmp_path / "one")
    assert one["best"] == eight["best"]


def test_help_shows_eval_batch(monkeypatch, capsys):
    assert cli(monkeypatch, "search", "--help") == 0
    assert "\n  eval_batch: 1\n" in capsys.readouterr().out
