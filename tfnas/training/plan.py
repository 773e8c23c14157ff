"""How a pruned training stage sizes itself to a compute budget, without reading any label.

A budget is counted in full trainings of `full` steps each. A rung costs the steps it adds; a
candidate continued from its last rung to a full training costs `full` minus the steps it already
has; one trained from scratch costs `full`. Two sizing rules:

* `fit_halving`: classic successive halving (Jamieson & Talwalkar, AISTATS 2016): n entrants at the
  cheapest rung, the best 1/eta of them going on at each next rung (up to the last rung available),
  the one winner continued to a full training; n is the largest whose synchronous cost fits. Used
  by the proxy-free rows and by `train=halving` / `train=hyperband` when given a budget.
* `fit_screening`: the proxy-informed rule of `train=multifidelity` (tfnas/training/pruned.py): half
  of the budget (rounded, at least one) for full trainings of the best candidates, the rest for
  rungs no more expensive than a quarter of that rest, entrants in the predictor's order for as
  long as the budget lasts; budget a cheap rung leaves over buys more full trainings
  (`tfnas.training.rungs.Spend`). Why these two shares: docs/search-quality.md (measured on
  learning curves of controlled informativeness).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from tfnas.errors import ConfigError


@dataclass(frozen=True)
class Plan:
    """What a stage does within its budget: the rungs (cumulative steps), the candidates trained in full
    after them, and how many enter (None: as many as the budget allows, in the predictor's order)."""

    rungs: tuple[int, ...]
    finals: int
    entrants: int | None


def ladder(available: Sequence[int], eta: int) -> list[int]:
    """Rungs from the cheapest available step, each the smallest available step at least eta times the previous."""
    steps = sorted({int(s) for s in available})
    if not steps:
        raise ConfigError("train.min_steps", "no rung steps to plan with")
    out = [steps[0]]
    for step in steps[1:]:
        if step >= eta * out[-1]:
            out.append(step)
    return out


def geometric(min_steps: int, max_steps: int, eta: int) -> list[int]:
    """min_steps, min_steps x eta, ... below max_steps, then max_steps."""
    out, step = [], int(min_steps)
    while step < max_steps:
        out.append(step)
        step *= eta
    return out + [int(max_steps)]


def halving_cost(entrants: int, rungs: Sequence[int], full: int, eta: int) -> float:
    """Steps of synchronous successive halving: max(1, n // eta^j) candidates at rung j, the winner continued."""
    alive, previous, total = entrants, 0, 0.0
    for rung in rungs:
        total += alive * (rung - previous)
        previous, alive = rung, max(1, alive // eta)
    return total + (full - previous)


def fit_halving(available: Sequence[int], full: int, budget: float, eta: int, most: int = 4096) -> Plan:
    """The largest n whose halving (down to one, or to the last rung available) costs at most `budget` x `full`."""
    lad = [r for r in ladder(available, eta) if r < full]
    best = Plan((lad[0],) if lad else (), 1, 1)
    for n in range(2, most + 1):
        depth = min(len(lad), 1 + math.ceil(math.log(n, eta) - 1e-9))
        if halving_cost(n, lad[:depth], full, eta) <= budget * full + 1e-6:
            best = Plan(tuple(lad[:depth]), 1, n)
    return best


def fit_screening(available: Sequence[int], full: int, budget: float, eta: int, finals_share: float = 0.5,
                  divisor: float = 4.0) -> Plan:
    """Full trainings for `finals_share` of the budget; rungs up to (rest of the budget) / `divisor` of a full training."""
    finals = max(1, min(math.floor(budget + 1e-9), int(budget * finals_share + 0.5)))
    cap = (budget - finals) * full / divisor
    lad = [r for r in ladder(available, eta) if r < full]
    rungs = [r for r in lad if r <= cap] or lad[:1]
    return Plan(tuple(rungs), finals, None)
