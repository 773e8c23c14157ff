"""The search loop: ask the strategy, dedupe, claim, score, store, record, tell.

`strategy.ask_batch(n)` -> dedupe by `space.hash` -> `store.claim_batch` -> `scorer.score_many`
-> `store.complete` -> `on_record` (results.csv) -> `strategy.tell`, `search.eval_batch` (n)
architectures at a time. The study is the source of truth: every step reads what changed in it
(other workers, a resumed run) before it asks.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import optuna
from tqdm.auto import tqdm

from tfnas.interrupts import DeferredInterrupts
from tfnas.results import Record
from tfnas.store import EvaluationStore
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
class SearchJob:
    """What one search loop needs. `objectives` are the (metric key, higher_is_better) pairs the study stores as
    values, the search metric first. `store` is the search's persistent study (the strategy bound to its study);
    None: the strategy's private study, or a new in-memory one. `progress=None` shows a bar only on a terminal."""

    space: Any
    strategy: Any
    scorer: Any
    budget: int
    objectives: list[tuple[str, bool]]
    store: EvaluationStore | None = None
    eval_batch: int = 1
    on_record: Callable[[Record], None] | None = None
    progress: bool | None = None
    max_consecutive_duplicates: int = 1000

    @property
    def metric_key(self) -> str:
        return self.objectives[0][0]

    @property
    def higher_is_better(self) -> bool:
        return self.objectives[0][1]


@dataclass
class BestSoFar:
    """The best record seen, by the search metric's direction (`sign` +1: higher is better)."""

    sign: float
    record: Record | None = None

    def consider(self, record: Record) -> None:
        if self.record is None or self.sign * record.score > self.sign * self.record.score:
            self.record = record


@dataclass
class Slot:
    """One proposed candidate on its way through a batch: "new" (to claim), "duplicate" (scored before, or
    earlier in this batch), "held" (claimed by this worker) or "lost" (another worker holds it, or finished it)."""

    candidate: Candidate
    key: str
    trial: Any = None
    state: str = "new"
    record: Record | None = None


def run_search(job: SearchJob) -> SearchResult:
    """Fill the study with `job.budget` distinct scored architectures proposed by `job.strategy`.

    Evaluations already in the study (an interrupted run being resumed, other workers sharing it)
    count towards the budget and are shown to the strategy through `observe`; an architecture
    already scored (same canonical hash) is never scored again: the strategy is told its stored
    score and the budget is not charged. The strategy always sees higher-is-better scores.
    Returns every evaluation of the study (not only this process's) in finishing order.
    """
    loop = SearchLoop(job)
    try:
        with loop.gate:
            while True:
                n = loop.room()
                if n is None:
                    break
                if n == 0:  # the rest of the budget is in other workers' hands: wait for their claims
                    loop.wait()
                    continue
                candidates = loop.ask(n)
                if not candidates:
                    break
                slots = loop.dedupe(candidates)
                held = loop.claim(slots)
                evaluations = loop.score(held)
                loop.complete(held, evaluations)
                if loop.tell(slots):
                    break
    except KeyboardInterrupt:
        # Everything scored so far is already on disk; end cleanly so the summary is written too.
        loop.result.stopped_early = INTERRUPTED
        log.warning("interrupted: %d architecture(s) scored by this process and saved", loop.result.scored_here)
    finally:
        loop.bar.close()
    loop.result.records = loop.store.records()
    return loop.result


def score_all(scorer, archs: list) -> list:
    """The scorer's evaluations of `archs` (`score_many` where it has one: builds overlap probes off the CPU)."""
    score_many = getattr(scorer, "score_many", None)
    return score_many(archs) if score_many is not None else [scorer(arch) for arch in archs]


class SearchLoop:
    """The state of one search loop and its steps; `run_search` reads as the order they run in."""

    def __init__(self, job: SearchJob):
        self.job, self.space, self.strategy = job, job.space, job.strategy
        self.store = job.store if job.store is not None else _default_store(job)
        self.sign = 1.0 if job.higher_is_better else -1.0
        self.result = SearchResult()
        self.known: set[int] = set()  # numbers of the evaluations seen
        self.mine: set[int] = set()  # numbers of the trials this worker created
        self.by_hash: dict[str, Record] = {}
        self.requeued: list[Candidate] = []  # claims that found the budget taken: proposed again if room returns
        self.best = BestSoFar(self.sign)  # for the progress bar (kept as records arrive, not re-found)
        self.streak = 0
        self.gate = DeferredInterrupts()  # Ctrl-C lands while scoring or waiting, never inside a write to the study
        used = self.sync()
        # evaluations only: a dead worker's claim left RUNNING by kill -9 is budget in use, not a result (it is retried)
        self.result.resumed = len(self.known)
        if self.result.resumed:
            log.info("the study already holds %d evaluation(s); resuming", self.result.resumed)
        progress = job.progress
        self.bar = tqdm(total=job.budget, initial=min(used, job.budget), desc="search", unit="arch",
                        disable=None if progress is None else not progress)

    def sync(self) -> int:
        """Read what changed in the study: show new evaluations to the strategy; return the budget used
        (evaluations, and other workers' live claims and pending trials)."""
        for trial in self.store.changes():
            if self.store.is_evaluation(trial) and trial.number not in self.known:
                record = self._know(trial.number, self.store.record(trial))
                if trial.number not in self.mine:
                    self.strategy.observe(self.space.from_json(record.arch), self.sign * record.score)
        others = [t for t in self.store.live_claims() + self.store.pending() if t.number not in self.mine]
        return len(self.known) + len(others)

    def _know(self, number: int, record: Record) -> Record:
        self.known.add(number)
        self.by_hash[record.hash] = record
        self.best.consider(record)
        self.space.note_evaluated(record.hash)
        return record

    def room(self) -> int | None:
        """How many architectures to ask for now: 0 to wait for other workers, None when the budget is filled."""
        self.gate.check()
        used = self.sync()
        self.store.maybe_fail_stale()
        self.bar.n = min(used, self.job.budget)
        self.bar.refresh()
        if used >= self.job.budget:
            return None if len(self.known) >= self.job.budget else 0
        return min(self.job.eval_batch, self.job.budget - used)

    def wait(self) -> None:
        """Until other workers' claims finish, or are failed as stale (a dead worker) and come back as retries."""
        with self.gate.allowed():
            time.sleep(0.1)

    def ask(self, n: int) -> list[Candidate]:
        """Up to `n` candidates: architectures lost with dead workers first, then the strategy's proposals."""
        batch = self._retries(n)
        if len(batch) < n:
            try:
                batch += self.strategy.ask_batch(n - len(batch))
            except StopIteration as stop:
                if not batch:
                    self.result.stopped_early = str(stop) or "the strategy has nothing left to propose"
        return batch

    def _retries(self, n: int) -> list[Candidate]:
        batch = []
        while self.requeued and len(batch) < n:
            batch.append(self.requeued.pop(0))
        while self.store.retries and len(batch) < n:
            key, arch_json = self.store.retries.pop(0)
            if key not in self.by_hash:
                log.info("scoring %s again: its worker died while scoring it", key)
                batch.append(Candidate(self.space.from_json(arch_json), -1, {"retry": True}))
        return batch

    def dedupe(self, candidates: list[Candidate]) -> list[Slot]:
        """One slot per candidate; those scored before or proposed earlier in the batch are duplicates."""
        slots, fresh = [], set()
        for candidate in candidates:
            slot = Slot(candidate, self.space.hash(candidate.arch), candidate.info.get("trial"))
            if slot.key in self.by_hash or slot.key in fresh:
                slot.state = "duplicate"
                self.result.duplicates += 1
                if slot.trial is not None:
                    self.store.hold_duplicate(slot.trial, slot.key)
            fresh.add(slot.key)
            slots.append(slot)
        return slots

    def claim(self, slots: list[Slot]) -> list[Slot]:
        """Claim the new slots' architectures; those held by this worker now (within the budget)."""
        new = [s for s in slots if s.state == "new"]
        for slot in new:
            slot.trial = slot.trial if slot.trial is not None else self.store.new_trial()
            self.mine.add(slot.trial.number)
        claims = [(s.trial, s.key, self.space.to_json(s.candidate.arch)) for s in new]
        outcomes = self.store.claim_batch(claims, self.job.budget)
        for slot, outcome in zip(new, outcomes):
            slot.state = "held" if outcome == "held" else "lost"
            if outcome == "over_budget":
                self.requeued.append(Candidate(slot.candidate.arch, slot.candidate.number, {"retry": True}))
        return [s for s in new if s.state == "held"]

    def score(self, held: list[Slot]) -> list:
        """Score the held architectures together while their claims beat."""
        if not held:
            return []
        with self.store.beating([s.trial for s in held]), self.gate.allowed():
            return score_all(self.job.scorer, [s.candidate.arch for s in held])

    def complete(self, held: list[Slot], evaluations: list) -> None:
        """Store each evaluation (unless a lower claim on its architecture appeared meanwhile) and record it."""
        self.store.refresh()
        for slot, evaluation in zip(held, evaluations):
            try:
                if not self.store.still_first(slot.trial, slot.key, refresh=False):
                    slot.state = "lost"  # a lower claim on the same architecture appeared meanwhile: its worker stores it
                    continue
                values = [evaluation.scores[k] for k, _ in self.job.objectives]
                arch_json = self.space.to_json(slot.candidate.arch)
                self.store.complete(slot.trial, slot.key, arch_json, evaluation.scores,
                                    evaluation.undefined, evaluation.seconds, values, params=_readable(self.space, slot))
            except optuna.exceptions.UpdateFinishedTrialError as err:
                # another worker (or an operator) finished this trial, e.g. failed it as stale: whoever failed
                # it scores the architecture again; drop this evaluation and go on
                slot.state = "lost"
                self.result.dropped += 1
                log.warning("trial %d (%s) was finished by someone else (%s); dropping this evaluation", slot.trial.number, slot.key, err)
                continue
            slot.record = self._know(slot.trial.number, _record(slot, arch_json, evaluation, self.job.metric_key))
            self.result.scored_here += 1
            if self.job.on_record is not None:
                self.job.on_record(slot.record)
            self.bar.set_postfix(best=f"{self.best.record.score:.4g}", refresh=False)

    def tell(self, slots: list[Slot]) -> bool:
        """Tell the strategy every slot's score, in the order it proposed them; True to stop the search
        (it proposed only already-scored architectures `max_consecutive_duplicates` times in a row)."""
        for slot in slots:
            if slot.state != "duplicate":
                self.streak = 0
                if slot.record is not None:
                    self._tell_scored(slot)
                continue
            self.streak += 1
            if self._tell_duplicate(slot) and self.streak >= self.job.max_consecutive_duplicates:
                self.result.stopped_early = f"the strategy proposed only already-scored architectures {self.streak} times in a row"
                log.warning("stopping early: %s", self.result.stopped_early)
                return True
        return False

    def _tell_scored(self, slot: Slot) -> None:
        score = self.sign * slot.record.score
        if slot.candidate.info.get("retry"):
            self.strategy.observe(slot.candidate.arch, score)
        else:
            self.strategy.tell(slot.candidate, score)

    def _tell_duplicate(self, slot: Slot) -> bool:
        """Tell a duplicate the stored score; False when the evaluation it repeats was lost (nothing to tell)."""
        stored = self.by_hash.get(slot.key)
        if stored is None:  # proposed twice in this batch and the first was lost to another worker
            if slot.trial is not None:
                self.store.fail(slot.trial, "taken")
            return False
        if slot.trial is not None:
            self.store.duplicate(slot.trial, slot.key, [stored.metrics[k] for k, _ in self.job.objectives],
                                 _readable(self.space, slot))
        self.strategy.tell(slot.candidate, self.sign * stored.score, duplicate=True)
        return True


def _default_store(job: SearchJob) -> EvaluationStore:
    """The strategy's private study wrapped as a store, or a new in-memory one."""
    directions = ["maximize" if hib else "minimize" for _, hib in job.objectives]
    if getattr(job.strategy, "study", None) is None:
        return EvaluationStore(None, "tfnas", directions, job.metric_key)
    store = EvaluationStore.wrap(job.strategy.study, job.metric_key)
    found = [d.name.lower() for d in store.study.directions]
    if found != directions:
        raise ValueError(f"the strategy's study optimises {found}, the search {directions}: bind it to a store's study")
    return store


def _readable(space, slot: Slot):
    return readable_params(space, slot.candidate.arch)


def _record(slot: Slot, arch_json: Any, evaluation, metric_key: str) -> Record:
    return Record(index=slot.trial.number, hash=slot.key, score=evaluation.scores[metric_key],
                  undefined=metric_key in evaluation.undefined, seconds=evaluation.seconds,
                  metrics=evaluation.scores, arch=arch_json)
