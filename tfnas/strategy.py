"""The ask/tell interface every strategy implements (the same shape as Optuna's)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfnas.registry import Registry

STRATEGIES: Registry[type["Strategy"]] = Registry("strategy", ("tfnas.strategies",), entry_point_group="tfnas.strategies")


@dataclass
class Candidate:
    """One proposed architecture; `info` carries strategy-specific state (a parent, an Optuna trial)."""

    arch: Any
    number: int
    info: dict[str, Any] = field(default_factory=dict)


class Strategy(ABC):
    """Proposes architectures of a space and is told their scores.

    `bind` is called once before the search with the space, a seeded numpy Generator and,
    when the search is persisted, the Optuna study every evaluation is stored in. Scores
    given to `tell` and `observe` are always "higher is better" (the search loop negates
    metrics that should be minimised).

    Strategies that keep state outside the study (a population, a set of seen hashes) learn
    about evaluations they did not ask for -- those of an interrupted run being resumed, or
    of other workers sharing the study -- through `observe`.
    """

    name: str = ""
    #: (metric name, "minimize" | "maximize") scored as extra objectives besides the search metric
    extra_objectives: tuple[tuple[str, str], ...] = ()

    def bind(self, space, rng: np.random.Generator, study=None) -> None:
        self.space = space
        self.rng = rng
        self.study = study
        self._asked = 0

    def check_stage(self, stage) -> None:
        """Refuse (ConfigError, before anything is written) a training stage this strategy cannot work with."""

    def check_space(self, space) -> None:
        """Refuse (ConfigError) a space this strategy cannot search; called before the store is opened."""

    def sampler(self, seed: int):
        """The Optuna sampler the study should be loaded with (only strategies that suggest through trials need one)."""
        return None

    def _candidate(self, arch: Any, **info: Any) -> Candidate:
        candidate = Candidate(arch, self._asked, dict(info))
        self._asked += 1
        return candidate

    @abstractmethod
    def ask(self) -> Candidate:
        """The next architecture to evaluate."""

    def ask_batch(self, n: int) -> list[Candidate]:
        """Up to `n` candidates to score together (search.eval_batch). The default asks n times: random draws
        are independent, evolution mutates n tournament winners of the current population, and TPE's
        constant-liar sampler treats the pending trials as scored. A StopIteration after the first candidate
        ends the batch early; before it, it ends the search."""
        batch = []
        for _ in range(n):
            try:
                batch.append(self.ask())
            except StopIteration:
                if not batch:
                    raise
                break
        return batch

    def tell(self, candidate: Candidate, score: float, duplicate: bool = False) -> None:
        """Learn from the (higher-is-better) score of an asked candidate; `duplicate`: it was scored before
        (the stored score is told, and the budget was not charged)."""

    def observe(self, arch: Any, score: float) -> None:
        """Learn from an evaluation this strategy did not ask for (resume, another worker); default: ignore."""
