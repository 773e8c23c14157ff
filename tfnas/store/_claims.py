"""What each trial of a search study is, who holds which architecture, and how much of the budget is taken.

Trial kinds (user attribute "kind"): "claim" while an architecture is being scored, "evaluation"
once scored, "duplicate" for a strategy's trial whose architecture was already scored, and
"rejected", "taken" or "over_budget" for failed trials. A RUNNING trial without a kind is
*pending*: a strategy asked for it (TPE, NSGA-II) and its worker is about to claim or settle it.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import psutil
from optuna.trial import FrozenTrial, TrialState


def is_evaluation(trial) -> bool:
    """A scored architecture: COMPLETE, or FAIL because its score is undefined (still counted, never re-scored)."""
    if trial.user_attrs.get("kind") != "evaluation":
        return False
    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and "fail_reason" in trial.user_attrs)


def is_live_claim(trial) -> bool:
    """An architecture being scored: a RUNNING claim, or one being stored (its kind is "evaluation" a few writes
    before Optuna's tell finishes it: it must go on holding its hash and its share of the budget meanwhile)."""
    return trial.state == TrialState.RUNNING and trial.user_attrs.get("kind") in ("claim", "evaluation")


def is_pending(trial) -> bool:
    """A trial a strategy asked for that its worker has not claimed or settled yet."""
    return trial.state == TrialState.RUNNING and "kind" not in trial.user_attrs


def holds_hash(trial) -> bool:
    """Whether `trial` keeps its architecture from being scored by anyone else: an evaluation or a live claim."""
    return is_evaluation(trial) or is_live_claim(trial)


def this_worker() -> dict:
    """How claims name their worker: host, pid and the process's start time (a reused pid is another process)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}


def alive(worker: dict) -> bool:
    """Whether the process a claim names still runs on this host. A zombie counts as dead: a killed worker
    whose parent died too stays one where PID 1 does not reap (many containers)."""
    try:
        process = psutil.Process(int(worker.get("pid", -1)))
        if "started" in worker and abs(process.create_time() - float(worker["started"])) > 1e-3:
            return False  # the pid now belongs to another process
        return process.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return True


class ClaimIndex:
    """Which trials hold each architecture hash, and the evaluations, as of the last read of the study."""

    def __init__(self):
        self.holders: dict[str, set[int]] = {}  # hash -> numbers of its evaluations and live claims
        self.evaluations: set[int] = set()

    def update(self, trials: list[FrozenTrial]) -> None:
        for trial in trials:
            (self.evaluations.add if is_evaluation(trial) else self.evaluations.discard)(trial.number)
            key = trial.user_attrs.get("hash")
            if key is not None:
                numbers = self.holders.setdefault(key, set())
                (numbers.add if holds_hash(trial) else numbers.discard)(trial.number)

    def first_claimant(self, key: str) -> int | None:
        numbers = self.holders.get(key, ())
        return min(numbers) if numbers else None

    def ahead_of(self, number: int, running: dict[int, FrozenTrial], pending_grace_s: float | None) -> int:
        """How much of the budget is taken before claim `number`: every evaluation, and the live claims and
        pending trials numbered below it (a pending trial only while younger than `pending_grace_s`; None:
        pending trials are not counted, as in a study no other process shares)."""
        lower = [t for n, t in running.items() if n < number]
        claims = sum(1 for t in lower if is_live_claim(t))
        pending = 0 if pending_grace_s is None else sum(1 for t in lower if is_pending(t) and recent(t, pending_grace_s))
        return len(self.evaluations) + claims + pending


def recent(trial: FrozenTrial, grace_s: float) -> bool:
    """Started less than `grace_s` ago (by this host's clock: workers' clocks must agree to within the grace period)."""
    started = trial.datetime_start
    return started is None or datetime.now() - started < timedelta(seconds=grace_s)
