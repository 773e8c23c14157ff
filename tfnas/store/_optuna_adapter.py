"""The one module that touches Optuna's private names; the rest of tfnas uses Optuna's public API.

Why each private name is needed (Optuna 3.5 to 5.x; `tests/unit/test_layering.py` keeps them here):

- `study._storage`, `study._study_id`, `trial._trial_id`: a `Study` and a `Trial` do not expose
  their storage or ids, but Optuna's public storage methods (`get_trial`,
  `get_trial_id_from_study_id_trial_number`, `set_trial_param`, `record_heartbeat`) take them. The
  incremental study feed, heartbeats and readable params need those storage calls.
- `optuna.storages._heartbeat.BaseHeartbeat`: Optuna's heartbeat protocol, public in use (RDBStorage
  implements it) but not exported. Optuna's journal storage has no heartbeats; tfnas adds them
  (`HeartbeatJournalStorage`) so journal and Redis studies recover dead workers' claims too.
- `BaseHeartbeat._get_stale_trial_ids`: the staleness query. Optuna's public
  `optuna.storages.fail_stale_trials(study)` applies the storage's one grace period to every trial;
  tfnas keeps a stronger guarantee, "a live worker is never failed", whatever grace period each
  worker was started with: a claim declares its worker's grace period ("grace_s") and is failed only
  after both that and this worker's own have passed (`fail_stale_trials` below). Where every worker
  shares one grace period the result is what Optuna's function does.

What Optuna's public API does cover is used as is: `RDBStorage(heartbeat_interval=, grace_period=,
heartbeat_stale_trial_callback=)` (tfnas/store/_rdb.py), `JournalFileBackend` and its lock,
`JournalRedisBackend`, and `study.ask`/`study.tell` for every state change of a trial of ours.
Optuna's `RetryFailedTrialCallback` does not fit: it re-enqueues a failed trial's params as a
WAITING trial that whichever worker asks next would take, while a tfnas claim's architecture is in
its "arch" attribute (random search and evolution suggest nothing through the trial); the store
queues the architecture for the worker that failed the claim instead (`EvaluationStore.retries`).
"""
from __future__ import annotations

import copy
import time
from typing import Any, Callable

import optuna
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import TrialState

JOURNAL_BEAT_ATTR = "tfnas:heartbeat"


def storage_of(study) -> Any:
    """The storage a study reads and writes through (for RDB: Optuna's cache in front of it)."""
    return study._storage


def study_id_of(study) -> int:
    return study._study_id


def trial_id_of(trial) -> int:
    """The storage id of a `Trial` or `FrozenTrial`."""
    return trial._trial_id


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """Optuna's JournalStorage plus the heartbeat protocol RDBStorage has (wall-clock beats in the journal)."""

    def __init__(self, backend, heartbeat_interval: float | None = None, grace_period: float | None = None,
                 heartbeat_stale_trial_callback: Callable | None = None):
        super().__init__(backend)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback = heartbeat_stale_trial_callback

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
    by_grace: dict[float, list[int]] = {}
    for trial_id in backend._get_stale_trial_ids(study._study_id):
        declared = float(backend.get_trial(trial_id).user_attrs.get("grace_s", 0.0))  # uncached
        by_grace.setdefault(max(own_grace, declared), []).append(trial_id)
    stale = list(by_grace.pop(own_grace, []))
    for grace, ids in sorted(by_grace.items()):  # silent past our grace, not yet past theirs: ask again under theirs
        backend.grace_period = grace
        still = set(backend._get_stale_trial_ids(study._study_id))
        stale += [t for t in ids if t in still]
    backend.grace_period = own_grace
    failed = [trial_id for trial_id in stale if fail_trial(storage, trial_id)]
    callback = backend.get_heartbeat_stale_trial_callback()
    for trial_id in failed:
        if callback is not None:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return failed


def fail_trial(storage, trial_id: int) -> bool:
    """Fail a RUNNING trial of another worker; False when someone finished it first."""
    try:
        return bool(storage.set_trial_state_values(trial_id, state=TrialState.FAIL))
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
