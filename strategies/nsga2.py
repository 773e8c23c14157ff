"""Multi-objective search with Optuna's NSGA-II: the search metric versus the parameter count.

The study has two objectives (the metric in its own direction, `params` minimised), and the
search writes the Pareto front of everything evaluated to pareto.json.
"""
from __future__ import annotations

import optuna

from tfnas.strategy import STRATEGIES
from tfnas.strategies.optuna_tpe import OptunaTPE
from tfnas.errors import ConfigError


@STRATEGIES.register("nsga2")
class NSGAII(OptunaTPE):
    """NSGA-II over the space's `suggest(trial)` encoding; `second_objective` names a metric
    (default `params`) that the search minimises alongside its own metric."""

    name = "nsga2"

    def __init__(
        self,
        population_size: int = 20,
        second_objective: str = "params",
        second_direction: str = "minimize",
        max_rejects: int = 1000,
    ):
        super().__init__(max_rejects=max_rejects)
        if second_direction not in ("minimize", "maximize"):
            raise ConfigError("strategy.second_direction", f"must be minimize or maximize, got {second_direction!r}")
        self.population_size = int(population_size)
        self.extra_objectives = ((str(second_objective), second_direction),)

    def sampler(self, seed: int):
        return optuna.samplers.NSGAIISampler(population_size=self.population_size, seed=seed)
