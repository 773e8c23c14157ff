"""Liveness of in-flight evaluations through Optuna's heartbeat mechanism.

A worker scoring an architecture records a heartbeat for its claim trial every
`interval` seconds; any worker fails a RUNNING trial whose last heartbeat is older than
the grace period (`optuna.storages.fail_stale_trials`). Optuna implements this for
`RDBStorage`; `HeartbeatJournalStorage` adds the same protocol to the journal storage
(heartbeats as a trial system attribute stamped with the writer's wall clock).

"A live worker is never failed" must hold whatever each worker was configured with: a worker
that fails trials after 0.2 s of silence would fail every trial of a worker that beats every
10 s. So each claim declares its own worker's grace period (user attribute "grace_s"), and a
worker fails claims only after the longest grace period declared by any claim in flight (and
at least its own): a live worker beats within its own grace period, so it is never failed.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

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


def stale_grace(own_grace: float, running_claims: list) -> float:
    """The grace period to fail with now: at least this worker's, and no shorter than any claim in flight declares."""
    return max([own_grace] + [float(t.user_attrs.get("grace_s", 0.0)) for t in running_claims])


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
