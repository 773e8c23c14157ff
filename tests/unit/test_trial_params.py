"""Readable trial params for every strategy, TPE unchanged by them, undefined scores as FAIL trials."""
import math

import numpy as np
from optuna.trial import TrialState

from tfnas.metrics.scoring import Evaluation
from tfnas.search_loop import SearchJob, run_search
from tfnas.store import EvaluationStore
from tfnas.strategies.optuna_tpe import OptunaTPE
from tfnas.strategies.random_search import RandomSearch
from tfnas.trial_params import ADDED_PARAMS_ATTR, hide_readable, readable_params

from synthetic import BitScorer, BitSpace


class Unreadable(BitSpace):
    def describe_ranges(self):
        return {}


def tpe_search(space, budget=25, hide=True):
    strategy, scorer = OptunaTPE(n_startup_trials=5, multivariate=True), BitScorer()
    sampler = strategy.sampler(0)
    store = EvaluationStore(None, "t", ["maximize"], "agree", sampler=hide_readable(sampler) if hide else sampler)
    strategy.bind(space, np.random.default_rng(0), store.study)
    result = run_search(SearchJob(space, strategy, scorer, budget, [("agree", True)], store=store, progress=False))
    return store, [r.hash for r in result.records]


def test_tpe_trials_carry_readable_params_and_propose_as_without_them():
    store, with_readable = tpe_search(BitSpace())
    _, without = tpe_search(Unreadable())
    assert with_readable == without  # the readable params never enter TPE's model
    trial = next(t for t in store.trials() if EvaluationStore.is_evaluation(t))
    assert {"ones", "first", "last", "b0", "b13"} <= set(trial.params)
    assert trial.params["ones"] == sum(store.study.trials[trial.number].params[f"b{i}"] for i in range(14))
    assert store.study.user_attrs[ADDED_PARAMS_ATTR] == ["first", "last", "ones"]


def test_random_search_trials_carry_readable_params():
    space, strategy = BitSpace(), RandomSearch()
    store = EvaluationStore(None, "t", ["maximize"], "agree")
    strategy.bind(space, np.random.default_rng(0), store.study)
    run_search(SearchJob(space, strategy, BitScorer(), 5, [("agree", True)], store=store, progress=False))
    for trial in store.trials():
        assert set(trial.params) == {"ones", "first", "last"}
        assert trial.distributions["ones"].high == 14


def test_value_outside_its_range_is_left_out():
    class Narrow(BitSpace):
        def describe_ranges(self):
            return {"ones": (0, 3), "first": [0, 1]}

    params, dists = readable_params(Narrow(), (1,) * 14)
    assert params == {"first": 1} and set(dists) == {"first"}


class HalfUndefined(BitScorer):
    """Architectures starting with 0 get an undefined score (the metric's worst value, as Scorer gives)."""

    def __call__(self, arch):
        self.calls += 1
        if arch[0] == 0:
            return Evaluation({"agree": -math.inf, "size": float(sum(arch))}, undefined=["agree"])
        return Evaluation({"agree": float(sum(arch)), "size": float(sum(arch))})


def test_undefined_scores_are_fail_trials_counted_and_never_rescored(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    space, scorer = BitSpace(), HalfUndefined()

    def run(budget):
        store = EvaluationStore(url, "t", ["maximize"], "agree")
        strategy = RandomSearch()
        strategy.bind(space, np.random.default_rng(0), store.study)
        return store, run_search(SearchJob(space, strategy, scorer, budget, [("agree", True)], store=store, progress=False))

    store, result = run(12)
    failed = [t for t in store.trials() if t.state == TrialState.FAIL]
    assert failed and all(EvaluationStore.is_evaluation(t) for t in failed)
    assert all("agree=-inf" in t.user_attrs["fail_reason"] for t in failed)
    assert sum(r.undefined for r in result.records) == len(failed) and len(result.records) == 12
    calls = scorer.calls
    _, again = run(12)  # the same seed proposes the same architectures: none is scored again
    assert scorer.calls == calls and len(again.records) == 12
