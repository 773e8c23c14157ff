"""The tabular-benchmark interface: labelled architectures and their trained results."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class TabularBenchmark(ABC):
    """A table of trained architectures of one search space.

    `target` names the headline result (e.g. "test_loss", "glue") and `higher_is_better`
    its direction. Queries go through the space's canonical hash, so an architecture
    written differently (renamed nodes, reordered inputs) still matches.
    """

    name: str = ""
    target: str = ""
    higher_is_better: bool = True
    # our metric key -> the column of the paper's published metric values it is compared with
    published_by_key: dict[str, str] = {}

    def __init__(self, space):
        self.space = space
        self._by_hash: dict[str, str] | None = None

    @abstractmethod
    def pool(self) -> list[tuple[str, Any]]:
        """(id, architecture) of every labelled architecture, in the benchmark's order."""

    @abstractmethod
    def query_id(self, arch_id: str) -> dict[str, Any] | None:
        """The trained results of one id ({target: value, ...}), or None if it has none."""

    def reference_scores(self):
        """The shipped table of this project's training-free scores of the labelled architectures (a CSV,
        one column per metric key): the default reference population of `rank_average`; None if none ships."""
        return None

    def query(self, arch: Any) -> dict[str, Any] | None:
        """The trained results of an architecture, found by canonical hash; None if it is not in the table."""
        if self._by_hash is None:
            self._by_hash = {}
            for arch_id, labelled in self.pool():
                self._by_hash.setdefault(self.space.hash(labelled), arch_id)
        arch_id = self._by_hash.get(self.space.hash(arch))
        if arch_id is None:
            return None
        result = self.query_id(arch_id)
        return None if result is None else {"id": arch_id, **result}
