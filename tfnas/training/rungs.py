"""Candidates through rungs of short training, each a trial that Optuna's pruner stops or promotes.

One code path for a real training and for the replay of recorded learning curves: what a rung
costs and yields comes from a `CurveSource` (`TrainerCurves` trains for real through
`train_candidate`, `tfnas.training.curves.RecordedCurves` reads `loss_<steps>` from a file).

Semantics (deterministic): candidates are trained one after another in the order given (the
predictor's ranking), each through the rungs until the pruner stops it. At every rung the
candidate's trial calls `trial.report(loss, step)` and then `trial.should_prune()`. Optuna's
pruners decide with the trials reported so far, so this is asynchronous successive halving
(ASHA; Li et al., MLSys 2020) in that order: a candidate goes on from a rung when its loss there is
among the best 1/eta of every loss reported at that rung so far (the first eta - 1 must be the best
so far). Training rung by rung across candidates (all at rung 0, then rung 1, ...) would call the
pruner in the same order with the same values, hence give the same decisions; one after another
keeps one candidate's model in memory at a time and resumes simply.

The pruner's state lives in system attributes of its trials, and a trial cannot be continued by
another process, so a run restarted after kill -9 could not reuse the killed run's trial without
its rung being counted twice. The decisions are therefore taken on an in-memory study rebuilt on
every start by replaying the recorded rungs in the same order (no training: `Replayed`), while the
persistent record is the stage's trained study in the search's storage (tfnas.store.trained).
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import optuna


class CurveSource(Protocol):
    def loss(self, key: str, steps: int) -> float:
        """The evaluation loss of candidate `key` after `steps` cumulative training steps (inf: it failed)."""


@dataclass
class Outcome:
    """What the rungs made of one candidate."""

    key: str
    order: int
    losses: dict[int, float] = field(default_factory=dict)  # rung step -> evaluation loss
    status: str = "not trained"  # ok (reached the last rung) | pruned | failed | stopped (the budget ran out)
    steps: int = 0  # the deepest rung's cumulative steps
    loss: float = math.inf  # the loss there

    def add(self, steps: int, loss: float) -> None:
        self.losses[steps] = loss if math.isfinite(loss) else math.inf
        self.steps, self.loss = steps, self.losses[steps]

    def rank_key(self) -> tuple:
        """Deepest rung first, then the loss there, then the incoming order (failed candidates last)."""
        return (self.status == "failed" or self.loss == math.inf, -self.steps, self.loss, self.order)


def ranked(outcomes: dict[str, Outcome]) -> list[Outcome]:
    """The trained candidates, best first (deepest rung, then loss there; failed ones last)."""
    return sorted((o for o in outcomes.values() if o.losses), key=Outcome.rank_key)


def finalists(outcomes: dict[str, Outcome], count: int, without: str | None = None) -> list[Outcome]:
    """The `count` best candidates that did not fail (leaving out `without`): those a stage trains in full."""
    pool = (o for k, o in outcomes.items() if k != without and o.status != "failed" and o.loss != math.inf)
    return heapq.nsmallest(count, pool, key=Outcome.rank_key)


@dataclass
class Spend:
    """A compute budget in training steps, with `finals` full trainings (`full_steps` each) held in
    reserve: a candidate continued from its last rung to a full training costs the steps it lacks.

    A rung is trained only if, after paying for it, the finals the ranking would then pick can still
    be trained in full; so the total never exceeds `limit`, whatever the losses turn out to be."""

    limit: float
    full_steps: int
    finals: int
    spent: float = 0.0

    def reserve(self, outcomes: dict[str, Outcome], without: str | None = None) -> float:
        best = finalists(outcomes, self.finals, without)
        return sum(self.full_steps - o.steps for o in best) + (self.finals - len(best)) * self.full_steps

    def allows(self, outcomes: dict[str, Outcome], steps: float, key: str | None = None) -> bool:
        """Whether `steps` more (for candidate `key`) leave the finals affordable, even if that candidate
        then fails and drops out of them."""
        reserve = max(self.reserve(outcomes), self.reserve(outcomes, without=key)) if key else self.reserve(outcomes)
        return self.spent + steps + reserve <= self.limit + 1e-6

    def finals_cost(self, chosen: Sequence[Outcome]) -> float:
        return sum(self.full_steps - o.steps for o in chosen)


class Replayed:
    """A source that answers from recorded rungs first and asks `inner` (trains) only for the rest."""

    def __init__(self, recorded: dict[str, dict[int, float]], inner: CurveSource):
        self.recorded, self.inner = recorded, inner

    def loss(self, key: str, steps: int) -> float:
        known = self.recorded.get(key, {})
        return float(known[steps]) if steps in known else self.inner.loss(key, steps)


def run_rungs(order: Sequence[str], rungs: Sequence[int], pruner, source: CurveSource, *,
              spend: Spend | None = None, record: Callable[[str, Outcome, str], Any] | None = None,
              name: str = "tfnas-rungs") -> dict[str, Outcome]:
    """Train `order`'s candidates one after another through `rungs` (increasing cumulative steps).

    `record(key, outcome, event)` hears "begin", each "rung" and "end" (the stage's trained study).
    With `spend`, a candidate's next rung is trained only if the budget allows it; the first candidate
    the budget cannot start ends the screening."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one "study created" line per run is noise
    decisions = optuna.create_study(storage=optuna.storages.InMemoryStorage(), study_name=name,
                                    direction="minimize", pruner=pruner)
    outcomes: dict[str, Outcome] = {}
    notify = record or (lambda *args: None)
    for position, key in enumerate(order):
        outcome = Outcome(key, position)
        if spend is not None and not spend.allows(outcomes, rungs[0]):
            break
        outcomes[key] = outcome
        notify(key, outcome, "begin")
        trial = decisions.ask()
        _climb(trial, outcome, rungs, source, spend, outcomes, notify)
        decisions.tell(trial, outcome.loss if outcome.status == "ok" else None,
                       state=_STATES.get(outcome.status, optuna.trial.TrialState.PRUNED))
        notify(key, outcome, "end")
    return outcomes


_STATES = {"ok": optuna.trial.TrialState.COMPLETE, "failed": optuna.trial.TrialState.FAIL}


def _climb(trial, outcome: Outcome, rungs, source, spend, outcomes, notify) -> None:
    """One candidate up the rungs until it fails, the pruner stops it, the budget does, or it reaches the top."""
    for index, steps in enumerate(rungs):
        cost = steps - outcome.steps
        if spend is not None and index and not spend.allows(outcomes, cost, outcome.key):
            outcome.status = "stopped"
            return
        loss = source.loss(outcome.key, steps)
        if spend is not None:
            spend.spent += cost
        outcome.add(steps, loss)
        if not math.isfinite(loss):
            outcome.status = "failed"
            return
        trial.report(loss, steps)
        notify(outcome.key, outcome, "rung")
        if index == len(rungs) - 1:
            outcome.status = "ok"
            return
        if trial.should_prune():
            outcome.status = "pruned"
            return


@dataclass
class Schedule:
    """One run of a pruned stage: every candidate's rungs, the finalists to train in full, and the steps spent."""

    outcomes: dict[str, Outcome]
    finals: list[Outcome]
    rung_steps: float
    full_steps: int | None

    @property
    def cost(self) -> float:
        """Rung steps plus, for each finalist, the steps a full training adds to what it already has."""
        return self.rung_steps + sum((self.full_steps or 0) - o.steps for o in self.finals)


def run_schedule(order: Sequence[str], rungs: Sequence[int], finals: int, pruner, source: CurveSource, *,
                 full_steps: int | None = None, budget: float | None = None, fill: bool = False,
                 record: Callable[[str, Outcome, str], Any] | None = None, name: str = "tfnas-rungs") -> Schedule:
    """The rungs (`run_rungs`), then the `finals` best candidates to train in full. With `budget` (in full
    trainings of `full_steps`), the total stays within it; `fill`: budget the rungs left over buys more finalists."""
    spend = Spend(budget * full_steps, full_steps, finals) if budget is not None and full_steps else None
    outcomes = run_rungs(order, rungs, pruner, source, spend=spend, record=record, name=name)
    count = finals
    if spend is not None and fill:
        pool = finalists(outcomes, len(outcomes))
        while count < len(pool) and spend.spent + spend.finals_cost(pool[: count + 1]) <= spend.limit + 1e-6:
            count += 1
    chosen = finalists(outcomes, count)
    if not chosen and finals and order and spend is not None:
        # the budget cannot pay even the first rung on top of the full trainings: train the first candidates from scratch
        chosen = [Outcome(key, i) for i, key in enumerate(order[:finals])]
    rung_steps = spend.spent if spend is not None else sum(o.steps for o in outcomes.values())
    return Schedule(outcomes, chosen, rung_steps, full_steps)
