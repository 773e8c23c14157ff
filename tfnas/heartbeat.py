"""Liveness of in-flight evaluations through Optuna's heartbeat mechanism.

A worker scoring an architecture records a heartbeat for its claim trial every
`interval` seconds; any worker fails a RUNNING trial whose last heartbeat is older than
the grace period (`fail_stale_trials` below: Optuna's, with per-claim grace periods). Optuna
records heartbeats for `RDBStorage`; `HeartbeatJournalStorage` adds the same protocol to the journal storage
(heartbeats as a trial system attribute stamped with the writer's wall clock).

"A live worker is never failed" must hold whatever each worker was configured with: a worker
that fails trials after 0.2 s of silence would fail every trial of a worker that beats every
10 s. So each claim declares its own worker's grace period (user attribute "grace_s"), and a
worker fails a claim only after both its own grace period and the one that claim declares: a
live worker beats within its own grace period, so it is never failed.
"""
from __future__ import annotations

import copy
import logging
import threading
import time
from typing import Any, Callable

import optuna
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import TrialState

log = logging.getLogger(__name__)

JOURNAL_BEAT_ATTR = "tfnas:heartbeat"


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's JournalStorage plus the heartbeat protocol RDBStorage has (wall-clock beats in the journal)."""

    def __init__(self, backend, heartbeat_interval: float | None = None, grace_period: float | None = None):
        super().__init__(backend)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback: Callable | None = None

    def record_heartbeat(self, trial_id: int) -> None:
        self.set_trial_system_attr(trial_id, JOURNAL_BEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        grace = self.grace_period if self.grace_period is not None else 2 * (self.heartbeat_interval or 0)
        now = time.time()
        return [
            t._trial_id
            for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
            if JOURNAL_BEAT_ATTR in t.system_attrs and now - float(t.system_attrs[JOURNAL_BEAT_ATTR]) > grace
        ]

    def get_heartbeat_interval(self) -> float | None:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return self.heartbeat_stale_trial_callback


def supports_heartbeat(backend: Any) -> bool:
    return isinstance(backend, BaseHeartbeat) and backend.get_heartbeat_interval() is not None


def fail_stale_trials(study, backend, own_grace: float) -> list[int]:
    """Optuna's `fail_stale_trials`, honouring each claim's declared grace period without a race.

    A trial is failed only when its heartbeats stopped for longer than both this worker's grace
    period and the one its own worker declared. The declaration is read from the storage after
    the staleness query: a claim sets "grace_s" before its first heartbeat, so any trial the query
    can flag already carries it (a list of claims read earlier would miss one made just now, and
    fail a live worker's brand-new claim by this worker's shorter grace period).
    `backend` is the heartbeat storage itself (Optuna wraps an RDBStorage in a cache that does not
    pass a grace period through). Returns the ids it failed; the backend's stale-trial callback
    runs for each.
    """
    storage = study._storage
    backend.grace_period = own_grace
    candidates = backend._get_stale_trial_ids(study._study_id)
    by_grace: dict[float, list[int]] = {}
    for trial_id in candidates:
        declared = float(backend.get_trial(trial_id).user_attrs.get("grace_s", 0.0))  # uncached
        by_grace.setdefault(max(own_grace, declared), []).append(trial_id)
    stale = list(by_grace.pop(own_grace, []))
    for grace, ids in sorted(by_grace.items()):  # silent past our grace, not yet past theirs: ask again under theirs
        backend.grace_period = grace
        still = set(backend._get_stale_trial_ids(study._study_id))
        stale += [t for t in ids if t in still]
    backend.grace_period = own_grace
    failed = []
    for trial_id in stale:
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:  # another worker failed it first
            pass
    callback = backend.get_heartbeat_stale_trial_callback()
    for trial_id in failed:
        if callback is not None:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return failed


class Beat:
    """A thread that records heartbeats for one trial while it is scored (a context manager)."""

    def __init__(self, backend, trial_id: int, interval: float):
        self.backend, self.trial_id, self.interval = backend, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tfnas-heartbeat-{trial_id}", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                self.backend.record_heartbeat(self.trial_id)
            except Exception as err:  # the trial was finished by another worker, or the storage hiccuped
                log.debug("heartbeat for trial %d not recorded: %s", self.trial_id, err)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "Beat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class NoBeat:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
