"""The ask/tell interface every strategy implements (the same shape as Optuna's)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfnas.registry import Registry

STRATEGIES: Registry[type["Strategy"]] = Registry("strategy", ("strategies",))


@dataclass
class Candidate:
    """One proposed architecture; `info` carries strategy-specific state (a parent, an Optuna trial)."""

    arch: Any
    number: int
    info: dict[str, Any] = field(default_factory=dict)


class Strategy(ABC):
    """Proposes architectures of a space and is told their scores.

    `bind` is called once before the search with the space, a seeded numpy Generator and
    the direction of the metric; scores given to `tell` are always "higher is better"
    (the search loop negates metrics that should be minimised).
    """

    name: str = ""

    def bind(self, space, rng: np.random.Generator) -> None:
        self.space = space
        self.rng = rng
        self._asked = 0

    def _candidate(self, arch: Any, **info: Any) -> Candidate:
        candidate = Candidate(arch, self._asked, dict(info))
        self._asked += 1
        return candidate

    @abstractmethod
    def ask(self) -> Candidate:
        """The next architecture to evaluate."""

    def tell(self, candidate: Candidate, score: float) -> None:
        """Learn from the (higher-is-better) score of an asked candidate."""
