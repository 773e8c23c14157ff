"""Regularized (aging) evolution, Real et al. 2019: tournament selection, mutation, oldest dies."""
from __future__ import annotations

from collections import deque

from tfnas.strategy import STRATEGIES, Candidate, Strategy
from tfnas.errors import ConfigError


@STRATEGIES.register("evolution")
class RegularizedEvolution(Strategy):
    """Keeps the `population_size` most recent evaluations. Until that many have been asked,
    candidates are random samples; afterwards `sample_size` members are drawn uniformly, the best
    of them is mutated with the space's mutation operator, and the child joins the population
    while the oldest member leaves (age, not score, decides who dies -- the regularization).
    """

    name = "evolution"

    def __init__(self, population_size: int = 20, sample_size: int = 5):
        if int(population_size) < 2:
            raise ConfigError("strategy.population_size", f"must be >= 2, got {population_size}")
        if not 1 <= int(sample_size) <= int(population_size):
            raise ConfigError(
                "strategy.sample_size", f"must be between 1 and population_size={population_size}, got {sample_size}"
            )
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        self.population: deque[tuple[object, float]] = deque(maxlen=self.population_size)
        self._seen: set[str] = set()

    def ask(self) -> Candidate:
        if self._asked < self.population_size and len(self.population) < self.population_size:
            for _ in range(100):
                arch = self.space.sample(self.rng)
                if self.space.hash(arch) not in self._seen:
                    break
            self._seen.add(self.space.hash(arch))
            return self._candidate(arch, origin="sample")
        members = list(self.population)
        if not members:  # every early candidate is still pending (several workers): keep sampling
            return self._candidate(self.space.sample(self.rng), origin="sample")
        picks = self.rng.choice(len(members), size=min(self.sample_size, len(members)), replace=False)
        parent = max((members[i] for i in picks), key=lambda m: m[1])[0]
        child = self.space.mutate(parent, self.rng)
        self._seen.add(self.space.hash(child))
        return self._candidate(child, origin="mutation", parent=self.space.hash(parent))

    def tell(self, candidate: Candidate, score: float, duplicate: bool = False) -> None:
        self.population.append((candidate.arch, float(score)))

    def observe(self, arch, score: float) -> None:
        self._seen.add(self.space.hash(arch))
        self.population.append((arch, float(score)))
