"""Optuna's TPE sampler over the space's `suggest(trial)` encoding, driven by ask/tell.

The trials live in the search's own study (the persistent store), so an interrupted search
resumes with everything TPE learnt, and workers sharing a study share one model.
"""
from __future__ import annotations

import warnings

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tfnas.strategy import STRATEGIES, Candidate, Strategy
from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.store import enqueue, reject
from tfnas.trial_params import hide_readable

# multivariate/group/constant_liar are marked experimental by Optuna; they are what we want here
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


@STRATEGIES.register("tpe")
class OptunaTPE(Strategy):
    """Asks the study for a trial, lets the space decode the trial's suggestions into an
    architecture, and rejects (fails) trials the space cannot decode, up to `max_rejects`
    in a row. The search loop tells the study the scores of the trials it evaluates.

    A sampler that has converged keeps suggesting architectures that are already scored (the
    loop tells those trials the stored score without charging the budget). After such a
    duplicate the next trial is enqueued with uniformly random parameters, so the search keeps
    moving instead of spinning on one architecture.
    """

    name = "tpe"

    def __init__(self, n_startup_trials: int = 10, multivariate: bool = True, max_rejects: int = 1000):
        self.n_startup_trials = int(n_startup_trials)
        self.multivariate = bool(multivariate)
        self.max_rejects = int(max_rejects)
        self.rejected = 0

    def sampler(self, seed: int):
        return optuna.samplers.TPESampler(
            n_startup_trials=self.n_startup_trials, multivariate=self.multivariate, group=self.multivariate,
            constant_liar=True, seed=seed,
        )

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        if study is None:
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            study = optuna.create_study(
                sampler=hide_readable(self.sampler(int(rng.integers(2**31)))),
                directions=["maximize"] + [d for _, d in self.extra_objectives],
            )
            self.study = study  # a private study: run_search stores into it when given no store

    def ask(self) -> Candidate:
        for _ in range(self.max_rejects):
            trial = self.study.ask()
            try:
                arch = self.space.suggest(trial)
            except InvalidArchitecture as err:
                reject(self.study, trial, str(err))
                self.rejected += 1
                continue
            return self._candidate(arch, trial=trial)
        raise ConfigError(
            "space", f"{self.max_rejects} suggestions in a row did not decode into a valid architecture"
        )

    def tell(self, candidate: Candidate, score, duplicate: bool = False) -> None:
        trial = candidate.info.get("trial")
        if duplicate and trial is not None:
            enqueue(self.study, self._random_params(trial.distributions))

    def _random_params(self, distributions: dict) -> dict:
        params = {}
        for name, dist in distributions.items():
            if isinstance(dist, CategoricalDistribution):
                params[name] = dist.choices[int(self.rng.integers(len(dist.choices)))]
            elif isinstance(dist, IntDistribution):
                params[name] = int(self.rng.integers(dist.low, dist.high + 1))
            elif isinstance(dist, FloatDistribution):
                params[name] = float(self.rng.uniform(dist.low, dist.high))
        return params
