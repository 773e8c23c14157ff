"""Optuna's TPE sampler over the space's `suggest(trial)` encoding, driven by ask/tell.

The trials live in the search's own study (the persistent store), so an interrupted search
resumes with everything TPE learnt, and workers sharing a study share one model.
"""
from __future__ import annotations

import optuna

from strategies.base import STRATEGIES, Candidate, Strategy
from tfnas.errors import ConfigError, InvalidArchitecture


@STRATEGIES.register("tpe")
class OptunaTPE(Strategy):
    """Asks the study for a trial, lets the space decode the trial's suggestions into an
    architecture, and rejects (fails) trials the space cannot decode, up to `max_rejects`
    in a row. The search loop tells the study the scores of the trials it evaluates.
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
                sampler=self.sampler(int(rng.integers(2**31))),
                directions=["maximize"] + [d for _, d in self.extra_objectives],
            )
            self.study = study  # a private study: run_search stores into it when given no store

    def ask(self) -> Candidate:
        for _ in range(self.max_rejects):
            trial = self.study.ask()
            try:
                arch = self.space.suggest(trial)
            except InvalidArchitecture as err:
                trial.set_user_attr("kind", "rejected")
                trial.set_user_attr("reason", str(err))
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                self.rejected += 1
                continue
            return self._candidate(arch, trial=trial)
        raise ConfigError(
            "space", f"{self.max_rejects} suggestions in a row did not decode into a valid architecture"
        )
