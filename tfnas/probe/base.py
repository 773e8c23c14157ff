"""The base of every space's probe: the needs it was asked for, and the kinds it serves."""
from __future__ import annotations

from typing import Iterable

from tfnas.probe.vocabulary import NEEDS, need_kind


class Probe:
    """What a space's `probe(model, batch, needs)` returns.

    A subclass runs the passes its needs ask for and serves a need kind by implementing that kind's
    Protocol (tfnas.probe.kinds); `provides()` derives the served kinds from those methods, so a
    space declares what it serves in one place: its probe's methods. A metric calls only the methods
    of the kinds it declared in `needs()`; a method of a kind that was not asked for raises KeyError.
    """

    def __init__(self, needs: Iterable[str]):
        self.needs = set(needs)

    @classmethod
    def provides(cls) -> frozenset[str]:
        """The need kinds this probe serves: those whose Protocol methods it implements."""
        return frozenset(name for name, kind in NEEDS.items() if all(callable(getattr(cls, m, None)) for m in kind.methods()))

    def _require(self, need: str) -> None:
        if need not in self.needs:
            raise KeyError(f"{need} was not requested from the probe")

    def _require_kind(self, kind: str) -> None:
        if not any(need_kind(n) == kind for n in self.needs):
            raise KeyError(f"{kind} was not requested from the probe")
