"""The persistent store of a search: an Optuna study with one trial per scored architecture.

Every evaluation is a COMPLETE trial whose user attributes hold the architecture's canonical
hash, its JSON, every metric value and the scoring time; its values are the search metric
(and any extra objectives) in their own directions. The study lives in any Optuna storage
(tfnas.store.storage_url). Because the store is written before results.csv, it is the source of
truth: a search started again on the same store resumes where it stopped, and an architecture
already in the study is never scored again.

A claim (kind "claim", tfnas/store/_claims.py) marks an architecture being scored: other workers
treat its hash as taken, and it holds the architecture, so whoever fails it when its worker dies
scores it again. An evaluation whose objective value is undefined (NaN/inf from the metric) is a
FAIL trial of kind "evaluation" with the reason in `fail_reason`: still an evaluation (counted,
never scored again), but Optuna's samplers and plots skip it. Every evaluation's params are the
architecture's readable `describe()` fields (tfnas.trial_params).
"""
from __future__ import annotations

import json
import logging
import math
import time
import warnings
from datetime import datetime
from typing import Any

import optuna
from optuna.trial import TrialState

from tfnas.errors import ConfigError
from tfnas.results import Record
from tfnas.store import _claims
from tfnas.store._backends import open_storage
from tfnas.store._beat import Beat, NoBeat
from tfnas.store._claims import ClaimIndex, alive, recent, this_worker
from tfnas.store._feed import StudyFeed
from tfnas.store._optuna_adapter import fail_stale_trials, fail_trial, storage_of, supports_heartbeat, trial_id_of
from tfnas.store._params import write_params
from tfnas.store._urls import redact
from tfnas.trial_params import ADDED_PARAMS_ATTR

log = logging.getLogger(__name__)
# Optuna warns on every ask() that heartbeats are meant for optimize(); the search loop beats itself (Beat)
warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used", category=UserWarning)

FINGERPRINT_ATTR = "tfnas_fingerprint"


class EvaluationStore:
    """One search's study plus the bookkeeping the search loop needs (claims, stale trials, records).

    Reads go through a `StudyFeed` (only new and unfinished trials), so the cost of an
    evaluation does not grow with the study. A claim in flight records Optuna heartbeats;
    `fail_stale` fails claims whose heartbeats stopped (or whose process on this host is gone)
    and queues their architectures in `retries`, to be scored again by this worker.
    """

    is_evaluation = staticmethod(_claims.is_evaluation)
    is_live_claim = staticmethod(_claims.is_live_claim)
    holds_hash = staticmethod(_claims.holds_hash)

    def __init__(self, url: str | None, study_name: str, directions: list[str], metric_key: str, sampler=None,
                 fingerprint: dict | None = None, heartbeat_interval_s: float | None = 10.0, grace_period_s: float | None = 60.0):
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url = url
        self.metric_key = metric_key
        interval = heartbeat_interval_s if url is not None else None
        grace = float(grace_period_s or 2 * heartbeat_interval_s) if interval is not None else None
        self.storage = open_storage(url, interval, grace, self._on_stale)
        try:
            self.study = optuna.create_study(
                storage=self.storage, study_name=study_name, directions=directions, sampler=sampler, load_if_exists=True
            )
        except ValueError as err:
            raise ConfigError("search.study_name", f"{study_name!r} in {redact(url or 'memory')}: {err}") from None
        found = [d.name.lower() for d in self.study.directions]
        if found != list(directions):
            raise ConfigError(
                "search.study_name",
                f"study {study_name!r} optimises {found} but this search needs {directions}; use another study name or run dir",
            )
        self._check_fingerprint(fingerprint)
        self._init_bookkeeping()
        if supports_heartbeat(self.storage):
            self.heartbeat_interval, self.grace_period = float(interval), grace
        self.refresh()
        self.fail_stale()

    def _init_bookkeeping(self) -> None:
        self.worker = this_worker()
        self.feed = StudyFeed(self.study)
        self.index = ClaimIndex()
        self.retries: list[tuple[str, Any]] = []  # (hash, architecture JSON) of failed claims to score again
        self.heartbeat_interval: float | None = None
        self.grace_period: float | None = None
        self._last_stale_check = time.monotonic()
        self._stale_failed = 0
        self._backlog: list = []
        self._added: set[str] | None = None
        self._metric_names: list[str] | None = None

    @classmethod
    def wrap(cls, study, metric_key: str) -> "EvaluationStore":
        """A store around an existing study (a strategy's private in-memory one)."""
        self = cls.__new__(cls)
        self.url, self.metric_key, self.study = None, metric_key, study
        self.storage = storage_of(study)
        self._init_bookkeeping()
        self.refresh()
        return self

    def _check_fingerprint(self, fingerprint: dict | None) -> None:
        if fingerprint is None:
            return
        fingerprint = json.loads(json.dumps(fingerprint, default=str))
        stored = self.study.user_attrs.get(FINGERPRINT_ATTR)
        if stored is None:
            self.study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
            return
        for key in sorted(set(stored) | set(fingerprint)):
            if stored.get(key) != fingerprint.get(key):
                raise ConfigError(
                    "search.storage",
                    f"study {self.study.study_name!r} holds a different search ({key}: stored {stored.get(key)!r}, "
                    f"now {fingerprint.get(key)!r}); its scores would not be comparable. Resume with the same "
                    "settings, or use another search.study_name / run directory",
                )

    # -- reading --------------------------------------------------------------------------
    def trials(self) -> list:
        """Every trial of the study (a full read: for reports, not for the per-evaluation loop)."""
        return self.study.get_trials(deepcopy=False)

    def refresh(self) -> list:
        """Read the trials that changed since the last call and update the claims index; returns them."""
        fresh = self.feed.read()
        self._backlog.extend(fresh)
        self.index.update(fresh)
        return fresh

    def changes(self) -> list:
        """Refresh, and return every trial read since the last call of `changes` (by any refresh)."""
        self.refresh()
        out, self._backlog = self._backlog, []
        return out

    def running_claims(self) -> list:
        """Claims in flight as of the last refresh."""
        return [t for t in self.feed.running.values() if _claims.is_live_claim(t)]

    def live_claims(self) -> list:
        """Claims in flight that will end: finished by their worker, or failed when it dies. With heartbeats,
        a claim without a declared grace period (left by a version without heartbeats) would never be failed
        on another host, so it does not count (its hash stays taken)."""
        claims = self.running_claims()
        return claims if self.grace_period is None else [t for t in claims if "grace_s" in t.user_attrs]

    def pending(self) -> list:
        """Trials a strategy asked for (TPE, NSGA-II) that their worker has not claimed or settled yet, as of the
        last refresh; those older than the grace period are taken for abandoned (their worker died)."""
        if self.grace_period is None:
            return []
        return [t for t in self.feed.running.values()
                if _claims.is_pending(t) and recent(t, self.grace_period) and not self._dead_here(t)]

    def _dead_here(self, trial) -> bool:
        """Whether `trial` names another process of this host that is gone (a kill -9): no need to wait for it."""
        worker = trial.user_attrs.get("worker") or {}
        return worker.get("host") == self.worker["host"] and worker.get("pid") != self.worker["pid"] and not alive(worker)

    def first_claimant(self, key: str, trials: list | None = None) -> int | None:
        """The lowest trial number that holds `key` (an evaluation or a live claim), from the claims index
        (or from `trials`, when given)."""
        if trials is None:
            return self.index.first_claimant(key)
        numbers = [t.number for t in trials if t.user_attrs.get("hash") == key and _claims.holds_hash(t)]
        return min(numbers) if numbers else None

    def record(self, trial) -> Record:
        attrs = trial.user_attrs
        return Record(
            index=trial.number,
            hash=attrs["hash"],
            score=float(attrs["metrics"][self.metric_key]),
            undefined=self.metric_key in attrs.get("undefined", []),
            seconds=float(attrs.get("seconds", 0.0)),
            metrics={k: float(v) for k, v in attrs["metrics"].items()},
            arch=attrs["arch"],
        )

    def records(self) -> list[Record]:
        """Every evaluation in the study, in the order they were finished."""
        done = [t for t in self.trials() if _claims.is_evaluation(t)]
        done.sort(key=lambda t: (t.datetime_complete or datetime.max, t.number))
        return [self.record(t) for t in done]

    def pareto_numbers(self) -> set[int]:
        """Trial numbers of the evaluations on the study's Pareto front (Optuna's `study.best_trials`)."""
        return {t.number for t in self.study.best_trials if _claims.is_evaluation(t)}

    # -- stale claims ---------------------------------------------------------------------
    def fail_stale(self) -> int:
        """Fail claims left RUNNING by dead workers: those whose heartbeats stopped for the grace period
        (this worker's and the claim's own, whichever is longer; tfnas/store/_optuna_adapter.py), and at
        once those of this host whose process is gone (a kill -9). Their architectures go to `retries`,
        so the evaluation lost with the worker is scored again."""
        self._last_stale_check = time.monotonic()
        before = self._stale_failed
        for trial in self.feed.running.values():
            if (_claims.is_live_claim(trial) or _claims.is_pending(trial)) and self._dead_here(trial):
                if fail_trial(self.storage, trial_id_of(trial)):
                    self._on_stale(self.study, trial)
        if supports_heartbeat(self.storage):
            fail_stale_trials(self.study, self.storage, self.grace_period)  # calls _on_stale for each trial it failed
        failed = self._stale_failed - before
        if failed:
            log.warning("marked %d unfinished evaluation(s) of dead workers as failed; they will be scored again", failed)
            self.refresh()
        return failed

    def maybe_fail_stale(self) -> int:
        """`fail_stale` at most once per heartbeat interval (at most every 2 s), for the search loop."""
        period = min(self.heartbeat_interval or 2.0, 2.0)
        return self.fail_stale() if time.monotonic() - self._last_stale_check >= period else 0

    def _on_stale(self, study, trial) -> None:
        self._stale_failed += 1
        log.info("failed trial %d (hash %s) of %s: its worker is gone", trial.number, trial.user_attrs.get("hash"), trial.user_attrs.get("worker"))
        if trial.user_attrs.get("kind") in ("claim", "evaluation") and "arch" in trial.user_attrs and not self.is_evaluation(trial):
            self.retries.append((trial.user_attrs["hash"], trial.user_attrs["arch"]))

    def beating(self, trials):
        """A context manager recording heartbeats for `trials` (one trial or a list) while they are scored."""
        trials = trials if isinstance(trials, list) else [trials]
        if self.heartbeat_interval is None or not trials:
            return NoBeat()
        return Beat(self.storage, [trial_id_of(t) for t in trials], self.heartbeat_interval)

    # -- claims ---------------------------------------------------------------------------
    def new_trial(self):
        return self.study.ask()

    def claim(self, trial, key: str, arch_json: Any = None) -> None:
        trial.set_user_attr("worker", self.worker)  # first: a kill -9 from here on leaves a trial known to be this process's
        trial.set_user_attr("hash", key)
        if arch_json is not None:
            trial.set_user_attr("arch", arch_json)
        if self.grace_period is not None:
            trial.set_user_attr("grace_s", self.grace_period)  # others fail this claim only after this much silence
            self.storage.record_heartbeat(trial_id_of(trial))  # beating before it counts: a death from here on is seen
        trial.set_user_attr("kind", "claim")

    def try_claim(self, trial, key: str, arch_json: Any = None) -> bool:
        """Claim `key` for `trial`; False (and the trial failed as "taken") when another worker holds it already."""
        return self.claim_batch([(trial, key, arch_json)])[0] == "held"

    def claim_batch(self, claims: list[tuple[Any, str, Any]], budget: int | None = None) -> list[str]:
        """Claim each (trial, hash, architecture JSON); for each, "held", "taken" or "over_budget" (failed trials).

        The lowest claim of a hash wins, so two workers proposing the same architecture at once never both
        score it. With a `budget`, a claim also needs room: fewer than `budget` evaluations, live claims and
        pending trials numbered below it (`ClaimIndex.ahead_of`). Trial numbers are given out in the order
        trials are created, so of two racing claims the higher one always sees the lower one: workers
        sharing a study never score more than the budget together (Optuna creates a study's trials one at a
        time: on SQLite under the database lock, on other databases under a row lock of the study)."""
        for trial, key, arch_json in claims:
            self.claim(trial, key, arch_json)
        self.refresh()
        return [self._settle_claim(trial, key, budget) for trial, key, _ in claims]

    def _settle_claim(self, trial, key: str, budget: int | None) -> str:
        if self.first_claimant(key) != trial.number:
            outcome = "taken"
            self.fail(trial, outcome)
        elif budget is not None and not self._within_budget(trial.number, budget):
            outcome = "over_budget"
            self.fail(trial, outcome, "the budget was taken by other claims meanwhile")
        else:
            return "held"
        self.refresh()  # the failed claim neither holds its hash nor takes budget any more
        return outcome

    def _within_budget(self, number: int, budget: int) -> bool:
        mine = self.feed.running.get(number)
        if self.grace_period is not None and mine is not None and not recent(mine, self.grace_period):
            return False  # asked longer ago than the grace period: others may have counted it abandoned
        return self.index.ahead_of(number, self.feed.running, self.grace_period) < budget

    def still_first(self, trial, key: str, refresh: bool = True) -> bool:
        """Re-read and check that `trial` is still the lowest holder of `key`; if not, fail it as "taken".
        Called again before storing a score: a claim written late by a lower trial number is seen by then."""
        if refresh:
            self.refresh()
        if self.first_claimant(key) != trial.number:
            self.fail(trial, "taken")
            return False
        return True

    # -- finishing trials -----------------------------------------------------------------
    def complete(self, trial, key: str, arch_json: Any, scores: dict, undefined: list, seconds: float, values: list[float],
                 params: tuple[dict, dict] | None = None) -> None:
        """Store an evaluation: COMPLETE with its objective values, or FAIL (with the reason) when one is
        undefined. `params`: the architecture's readable (values, distributions), see tfnas.trial_params."""
        for name, value in (("arch", arch_json), ("metrics", scores), ("undefined", list(undefined)), ("seconds", seconds)):
            trial.set_user_attr(name, value)
        trial.set_user_attr("kind", "evaluation")
        self._tell(trial, values, params, undefined)

    def hold_duplicate(self, trial, key: str) -> None:
        """Mark a strategy's trial as a duplicate of `key` until its values are known (it is then no pending trial)."""
        trial.set_user_attr("hash", key)
        trial.set_user_attr("kind", "duplicate")

    def duplicate(self, trial, key: str, values: list[float], params: tuple[dict, dict] | None = None, undefined=()) -> None:
        """Tell a strategy's trial whose architecture was scored before the stored values (so its sampler learns)."""
        self.hold_duplicate(trial, key)
        self._tell(trial, values, params, undefined)

    def fail(self, trial, kind: str, reason: str | None = None) -> None:
        trial.set_user_attr("kind", kind)
        if reason:
            trial.set_user_attr("fail_reason", reason)
        self.study.tell(trial, state=TrialState.FAIL)

    def _tell(self, trial, values: list[float], params, undefined) -> None:
        if params is not None and params[0]:
            self._note_added(write_params(storage_of(self.study), trial, *params))
        names = self.metric_names()
        bad = [f"{names[i] if i < len(names) else i}={v}" for i, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            trial.set_user_attr("fail_reason", f"undefined score ({', '.join(bad)}; undefined metrics: {', '.join(undefined) or '-'})")
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, values)

    # -- the study's own attributes -------------------------------------------------------
    def _note_added(self, names: list[str]) -> None:
        """Keep the study's list of params tfnas added (the sampler wrapper hides them from TPE's model)."""
        if self._added is None:
            self._added = set(self.study.user_attrs.get(ADDED_PARAMS_ATTR, ()))
        if not set(names) <= self._added:
            self._added.update(names)
            self.study.set_user_attr(ADDED_PARAMS_ATTR, sorted(self._added))

    def set_study_attr(self, name: str, value: Any) -> None:
        """Keep a value with the study (a strategy's state that must survive a resume, e.g. trainings spent)."""
        self.study.set_user_attr(name, value)

    def set_metric_names(self, names: list[str]) -> None:
        """Name the study's objectives (shown by optuna-dashboard and Optuna's plots)."""
        self._metric_names = list(names)
        if list(self.study.metric_names or []) != list(names):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self.study.set_metric_names(list(names))

    def metric_names(self) -> list[str]:
        if self._metric_names is None:
            self._metric_names = list(self.study.metric_names or [self.metric_key])
        return self._metric_names
