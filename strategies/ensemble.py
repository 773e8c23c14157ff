"""strategy=ensemble: what the calibrated proxy ensemble scores; the ensemble itself is `predictor=ensemble`.

Proposals are uniform draws (`proposals=random`) or regularized evolution on the search metric
(`proposals=evolution`). The config sets `predictor=ensemble`, whose metric suite is scored in the
same probe; the trainings (train.budget) are spent by the training stage, each on the best untrained
candidate under the ensemble refitted after every training (tfnas/training/sequential.py).

Why random proposals by default: on NAS-Bench-NLP a search that climbs one proxy drifts towards
cells the proxy loves and that train badly; uniform draws keep the scored set representative, so
the ensemble fitted on a few trainings generalises to the rest of it.
"""
from __future__ import annotations

from tfnas.errors import ConfigError
from tfnas.strategies.evolution import RegularizedEvolution
from tfnas.strategies.random_search import RandomSearch
from tfnas.strategy import STRATEGIES


@STRATEGIES.register("ensemble")
class EnsembleProposals(RandomSearch):
    """Proposes like `random` (or like `evolution` with proposals=evolution); refuses a training stage
    without a training budget, since the pipeline this config names is "score, then spend K trainings"."""

    name = "ensemble"

    def __init__(self, proposals: str = "random", population_size: int = 20, sample_size: int = 5, max_resample: int = 100):
        super().__init__(max_resample)
        if proposals not in ("random", "evolution"):
            raise ConfigError("strategy.proposals", f"must be random or evolution, got {proposals!r}")
        self.proposals = proposals
        self._evolution = RegularizedEvolution(population_size, sample_size) if proposals == "evolution" else None

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        if self._evolution is not None:
            self._evolution.bind(space, rng, study)

    def ask(self):
        if self._evolution is None:
            return super().ask()
        candidate = self._evolution.ask()
        candidate.number = self._asked
        self._asked += 1
        return candidate

    def tell(self, candidate, score: float, duplicate: bool = False) -> None:
        if self._evolution is not None:
            self._evolution.tell(candidate, score, duplicate)

    def observe(self, arch, score: float) -> None:
        super().observe(arch, score)
        if self._evolution is not None:
            self._evolution.observe(arch, score)

    def check_stage(self, stage) -> None:
        """Refuse, before anything is written, a training stage that spends no training budget."""
        if stage.name == "none":
            raise ConfigError("train", "strategy=ensemble spends trainings: use train=benchmark (tabular lookup or "
                              "space.benchmark.labels) or train=short, with train.budget=K")
        if not stage.trainings:
            raise ConfigError("train.budget", "the number of trainings strategy=ensemble spends, a positive integer "
                              f"(train.budget=10); train={stage.name} has none")
