"""The search loop: ask the strategy, score the architecture, store it, tell the strategy, record it."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import optuna
from tqdm.auto import tqdm

from tfnas.interrupts import DeferredInterrupts
from tfnas.metrics.scoring import Scorer
from tfnas.results import Record
from tfnas.storage import EvaluationStore
from tfnas.strategy import Candidate
from tfnas.trial_params import readable_params

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted by the user"


@dataclass
class SearchResult:
    records: list[Record] = field(default_factory=list)
    duplicates: int = 0
    stopped_early: str | None = None
    resumed: int = 0
    scored_here: int = 0
    dropped: int = 0  # evaluations whose trial another worker finished first (e.g. failed as stale)

    def best(self, k: int = 1, higher_is_better: bool = True) -> list[Record]:
        return sorted(self.records, key=lambda r: r.score, reverse=higher_is_better)[:k]


@dataclass
class BestSoFar:
    """The best record seen, by the search metric's direction (`sign` +1: higher is better)."""

    sign: float
    record: Record | None = None

    def consider(self, record: Record) -> None:
        if self.record is None or self.sign * record.score > self.sign * self.record.score:
            self.record = record


def score_claimed(store: EvaluationStore, space, scorer: Scorer, arch, trial, key: str, metric_key: str,
                  objectives: list[tuple[str, bool]], gate: DeferredInterrupts, result: SearchResult) -> Record | None:
    """Claim `key` with `trial`, score `arch` while beating, and store it; the record, or None when
    another worker holds the architecture or finished the trial (then its result arrives by sync)."""
    arch_json = space.to_json(arch)
    try:
        if not store.try_claim(trial, key, arch_json):
            return None  # another worker claimed it first
        with store.beating(trial), gate.allowed():
            evaluation = scorer(arch)
        values = [evaluation.scores[k] for k, _ in objectives]
        if not store.still_first(trial, key):
            return None  # a lower claim on the same architecture appeared meanwhile: its worker stores it
        store.complete(trial, key, arch_json, evaluation.scores, evaluation.undefined, evaluation.seconds, values,
                       params=readable_params(space, arch))
    except optuna.exceptions.UpdateFinishedTrialError as err:
        # another worker (or an operator) finished this trial, e.g. failed it as stale: whoever failed
        # it scores the architecture again; drop this evaluation and go on
        result.dropped += 1
        log.warning("trial %d (%s) was finished by someone else (%s); dropping this evaluation", trial.number, key, err)
        return None
    return Record(
        index=trial.number,
        hash=key,
        score=evaluation.scores[metric_key],
        undefined=metric_key in evaluation.undefined,
        seconds=evaluation.seconds,
        metrics=evaluation.scores,
        arch=arch_json,
    )


def retry(store: EvaluationStore, space, by_hash: dict) -> Candidate | None:
    """The next architecture whose claim this worker failed (its worker died), unless it is scored already."""
    while store.retries:
        key, arch_json = store.retries.pop(0)
        if key not in by_hash:
            log.info("scoring %s again: its worker died while scoring it", key)
            return Candidate(space.from_json(arch_json), -1, {"retry": True})
    return None


def run_search(
    space,
    strategy,
    scorer: Scorer,
    metric_key: str,
    higher_is_better: bool,
    budget: int,
    on_record: Callable[[Record], None] | None = None,
    max_consecutive_duplicates: int = 1000,
    progress: bool | None = None,
    store: EvaluationStore | None = None,
    objectives: list[tuple[str, bool]] | None = None,
) -> SearchResult:
    """Fill the study with `budget` distinct scored architectures proposed by `strategy`.

    `store` is the search's persistent study (the strategy must have been bound to its study);
    without one, the strategy's private study or a new in-memory one is used. Evaluations
    already in it -- an interrupted run being resumed, other workers sharing it -- count
    towards the budget and are shown to the strategy through `observe`; an architecture
    already scored (same canonical hash) is never scored again: the strategy is told its
    stored score and the budget is not charged. `objectives` are the (metric key,
    higher_is_better) pairs the study stores as values (default: the search metric).
    The strategy always sees higher-is-better scores. `progress=None` shows a bar only on a terminal.

    Returns every evaluation of the study (not only this process's) in finishing order.
    """
    objectives = objectives or [(metric_key, higher_is_better)]
    directions = ["maximize" if hib else "minimize" for _, hib in objectives]
    if store is None and getattr(strategy, "study", None) is not None:
        store = EvaluationStore.wrap(strategy.study, metric_key)
        found = [d.name.lower() for d in store.study.directions]
        if found != directions:
            raise ValueError(f"the strategy's study optimises {found}, the search {directions}: bind it to a store's study")
    elif store is None:
        store = EvaluationStore(None, "tfnas", directions, metric_key)
    result = SearchResult()
    sign = 1.0 if higher_is_better else -1.0
    known: set[int] = set()
    by_hash: dict[str, Record] = {}
    mine: set[int] = set()
    best = BestSoFar(sign)  # for the progress bar (kept as records arrive, not re-found)

    def sync() -> int:
        """Read what changed in the study: show new evaluations to the strategy; return the budget used."""
        for trial in store.changes():
            if store.is_evaluation(trial) and trial.number not in known:
                known.add(trial.number)
                record = store.record(trial)
                by_hash[record.hash] = record
                best.consider(record)
                space.note_evaluated(record.hash)
                if trial.number not in mine:
                    strategy.observe(space.from_json(record.arch), sign * record.score)
        # another worker is scoring each of its live claims
        return len(known) + sum(1 for t in store.live_claims() if t.number not in mine)

    used = sync()
    result.resumed = used
    if used:
        log.info("the study already holds %d evaluation(s); resuming", used)
    streak = 0
    bar = tqdm(total=budget, initial=min(used, budget), desc="search", unit="arch", disable=None if progress is None else not progress)
    gate = DeferredInterrupts()  # Ctrl-C lands while scoring or waiting, never inside a write to the study
    try:
        with gate:
            while True:
                gate.check()
                used = sync()
                store.maybe_fail_stale()
                bar.n = min(used, budget)
                bar.refresh()
                if used >= budget:
                    if len(known) >= budget:
                        break
                    # the rest of the budget is in other workers' hands: wait for their claims to finish,
                    # or to be failed as stale (a dead worker), and then score what they lost
                    with gate.allowed():
                        time.sleep(0.1)
                    continue
                candidate = retry(store, space, by_hash)
                if candidate is None:
                    try:
                        candidate = strategy.ask()
                    except StopIteration as stop:
                        result.stopped_early = str(stop) or "the strategy has nothing left to propose"
                        break
                key = space.hash(candidate.arch)
                trial = candidate.info.get("trial")
                if key in by_hash:
                    result.duplicates += 1
                    streak += 1
                    stored = by_hash[key]
                    if trial is not None:
                        store.duplicate(trial, key, [stored.metrics[k] for k, _ in objectives], readable_params(space, candidate.arch))
                    strategy.tell(candidate, sign * stored.score, duplicate=True)
                    if streak >= max_consecutive_duplicates:
                        result.stopped_early = f"the strategy proposed only already-scored architectures {streak} times in a row"
                        log.warning("stopping early: %s", result.stopped_early)
                        break
                    continue
                streak = 0
                if trial is None:
                    trial = store.new_trial()
                mine.add(trial.number)
                record = score_claimed(store, space, scorer, candidate.arch, trial, key, metric_key, objectives, gate, result)
                if record is None:
                    continue
                known.add(trial.number)
                by_hash[key] = record
                space.note_evaluated(key)
                result.scored_here += 1
                if on_record is not None:
                    on_record(record)
                if candidate.info.get("retry"):
                    strategy.observe(candidate.arch, sign * record.score)
                else:
                    strategy.tell(candidate, sign * record.score)
                best.consider(record)
                bar.set_postfix(best=f"{best.record.score:.4g}", refresh=False)
    except KeyboardInterrupt:
        # Everything scored so far is already on disk; end cleanly so the summary is written too.
        result.stopped_early = INTERRUPTED
        log.warning("interrupted: %d architecture(s) scored by this process and saved", result.scored_here)
    finally:
        bar.close()
    result.records = store.records()
    return result
