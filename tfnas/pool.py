"""A search space restricted to a finite pool of architectures (a tabular benchmark's labelled ones).

Benchmark mode (`search.pool=benchmark`) searches inside the pool so the true trained result
of everything a strategy finds is known. Strategies need no change: this wrapper keeps the
SearchSpace interface and maps every proposal into the pool --

* members are distinct networks: one per canonical hash;
* `sample` draws a pool member uniformly among those not yet handed out or evaluated;
* `mutate` mutates with the underlying space's operator, then returns the pool member nearest
  to the child (the child itself when it is in the pool), never the parent;
* `suggest` decodes the Optuna trial with the underlying space, then returns the nearest member.

"Nearest" is the Euclidean distance between standardised `space.features(arch)` vectors
(numeric `describe()` fields unless the space defines richer ones), ties broken at random;
members not yet handed out are preferred while there are any, so model-based strategies do
not keep landing on an architecture that is already scored.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from tfnas.search_space import SearchSpace, SpaceWrapper
from tfnas.errors import ConfigError


class PoolSpace(SpaceWrapper):
    def __init__(self, space: SearchSpace, members: Sequence[tuple[str, Any]], label: str = "pool"):
        if not members:
            raise ConfigError("search.pool", f"the {label} of space {space.name!r} is empty")
        super().__init__(space)
        self.label = label
        # one member per canonical hash (a benchmark may list the same network under several ids;
        # like TabularBenchmark.query, the first id stands for it)
        self.ids, self.archs, self.hashes, self.index = [], [], [], {}
        for arch_id, arch in members:
            key = space.hash(arch)
            if key not in self.index:
                self.index[key] = len(self.archs)
                self.ids.append(str(arch_id))
                self.archs.append(arch)
                self.hashes.append(key)
        feats = np.array([np.asarray(space.features(a), dtype=float) for a in self.archs])
        std = feats.std(axis=0)
        self._mean, self._std = feats.mean(axis=0), np.where(std > 0, std, 1.0)
        self._feats = (feats - self._mean) / self._std
        self._used: set[str] = set()
        self._tie_rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return len(self.archs)

    # -- pool ---------------------------------------------------------------------------
    def members(self) -> list[Any]:
        return list(self.archs)

    def restrict(self, keep) -> "PoolSpace":
        """The sub-pool of members for which `keep(arch)` holds."""
        kept = [(i, a) for i, a in zip(self.ids, self.archs) if keep(a)]
        return PoolSpace(self.inner, kept, label=f"{self.label} (restricted)")

    def note_evaluated(self, key: str) -> None:
        self._used.add(key)

    def _issue(self, i: int) -> Any:
        self._used.add(self.hashes[i])
        return self.archs[i]

    def nearest(self, arch: Any, rng: np.random.Generator | None = None, exclude: Iterable[str] = ()) -> Any:
        """The pool member closest to `arch` (itself if pooled), preferring members not yet used."""
        rng = rng or self._tie_rng
        exclude = set(exclude)
        fresh = [i for i, h in enumerate(self.hashes) if h not in self._used and h not in exclude]
        allowed = fresh or [i for i, h in enumerate(self.hashes) if h not in exclude] or list(range(len(self.archs)))
        key = self.inner.hash(arch)
        if key in self.index and self.index[key] in allowed:
            return self._issue(self.index[key])
        target = (np.asarray(self.inner.features(arch), dtype=float) - self._mean) / self._std
        dist = np.linalg.norm(self._feats[allowed] - target, axis=1)
        ties = np.flatnonzero(dist <= dist.min() + 1e-12)
        return self._issue(allowed[int(ties[rng.integers(len(ties))])])

    # -- SearchSpace ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Any:
        fresh = [i for i, h in enumerate(self.hashes) if h not in self._used]
        choices = fresh or range(len(self.archs))
        return self._issue(int(rng.choice(list(choices))))

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        return self.nearest(self.inner.mutate(arch, rng), rng, exclude={self.inner.hash(arch)})

    def suggest(self, trial) -> Any:
        return self.nearest(self.inner.suggest(trial))

    def validate(self, arch: Any) -> None:
        self.inner.validate(arch)


def benchmark_pool(space: SearchSpace) -> PoolSpace:
    """`search.pool=benchmark`: the space restricted to its tabular benchmark's labelled architectures."""
    bench = space.benchmark()
    if bench is None:
        raise ConfigError("search.pool", f"space {space.name!r} has no tabular benchmark; use search.pool=all")
    return PoolSpace(space, bench.pool(), label=f"{bench.name} pool")
