"""Random search: independent draws from the space's sampling distribution."""
from __future__ import annotations

from tfnas.strategy import STRATEGIES, Candidate, Strategy


@STRATEGIES.register("random")
class RandomSearch(Strategy):
    """Samples architectures it has not proposed or seen before (up to `max_resample` redraws)."""

    name = "random"

    def __init__(self, max_resample: int = 100):
        self.max_resample = max_resample

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        self._seen: set[str] = set()

    def ask(self) -> Candidate:
        for _ in range(self.max_resample):
            arch = self.space.sample(self.rng)
            key = self.space.hash(arch)
            if key not in self._seen:
                break
        self._seen.add(key)
        return self._candidate(arch)

    def observe(self, arch, score: float) -> None:
        self._seen.add(self.space.hash(arch))
