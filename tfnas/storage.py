"""The persistent store of a search: an Optuna study with one trial per scored architecture.

Every evaluation is a COMPLETE trial whose user attributes hold the architecture's canonical
hash, its JSON, every metric value and the scoring time; its values are the search metric
(and any extra objectives) in their own directions. The study lives in any Optuna storage:
a SQLite file in the run directory by default, or any SQLAlchemy URL (PostgreSQL for workers
on several machines). Because the store is written before results.csv, it is the source of
truth: a search started again on the same store resumes where it stopped, and an architecture
already in the study is never scored again.

Trial kinds (user attribute "kind"): "claim" while an architecture is being scored (other
workers treat its hash as taken), "evaluation" once scored, "duplicate" for an Optuna-suggested
trial whose architecture was already scored (told the stored values so the sampler learns),
"rejected"/"taken" for failed trials. An evaluation whose objective value is undefined (NaN/inf
from the metric) is a FAIL trial of kind "evaluation" with the reason in `fail_reason`: it is
still an evaluation (counted, never scored again), but Optuna's samplers and plots skip it.
Every evaluation's params are the architecture's readable `describe()` fields (tfnas.trial_params).
"""
from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.trial import TrialState

from tfnas.errors import ConfigError
from tfnas.results import Record
from tfnas.trial_params import ADDED_PARAMS_ATTR, set_params

log = logging.getLogger(__name__)

STUDY_FILE = "study.db"
FINGERPRINT_ATTR = "tfnas_fingerprint"


def storage_url(storage: str | None, run_dir: Path | None) -> str | None:
    """`null` -> a SQLite file in the run directory; `memory` -> nothing persisted; else the URL as given."""
    if storage in (None, "", "default"):
        if run_dir is None:
            return None
        return f"sqlite:///{(Path(run_dir) / STUDY_FILE).resolve()}"
    if storage == "memory":
        return None
    return str(storage)


def make_storage(url: str | None):
    if url is None:
        return optuna.storages.InMemoryStorage()
    if "://" not in url:
        raise ConfigError("search.storage", f"{url!r} is not a SQLAlchemy URL (sqlite:///path/study.db, postgresql+psycopg://user@host/db) or memory")
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # several worker processes write one file: wait for the lock instead of failing at once
        engine_kwargs = {"connect_args": {"timeout": 120}}
    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except Exception as err:  # SQLAlchemy raises many kinds: name the field, keep the cause
            # workers starting together race to create the schema: the loser retries and finds it made
            if attempt == 5 or not isinstance(err, sqlalchemy.exc.IntegrityError | sqlalchemy.exc.OperationalError):
                raise ConfigError("search.storage", f"cannot open {redact(url)}: {type(err).__name__}: {err}".splitlines()[0]) from None
            time.sleep(0.5 * (attempt + 1))


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EvaluationStore:
    """One search's study plus the bookkeeping the search loop needs (claims, stale trials, records)."""

    def __init__(
        self,
        url: str | None,
        study_name: str,
        directions: list[str],
        metric_key: str,
        sampler=None,
        fingerprint: dict | None = None,
        stale_after_s: float | None = None,
    ):
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url = url
        self.metric_key = metric_key
        self.storage = make_storage(url)
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
        self.worker = {"host": socket.gethostname(), "pid": os.getpid()}
        self.stale_after_s = stale_after_s
        self.fail_stale()

    @classmethod
    def wrap(cls, study, metric_key: str) -> "EvaluationStore":
        """A store around an existing study (a strategy's private in-memory one)."""
        self = cls.__new__(cls)
        self.url, self.metric_key, self.study, self.stale_after_s = None, metric_key, study, None
        self.storage = study._storage
        self.worker = {"host": socket.gethostname(), "pid": os.getpid()}
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

    # -- trials ---------------------------------------------------------------------------
    def trials(self) -> list:
        return self.study.get_trials(deepcopy=False)

    def fail_stale(self) -> int:
        """Fail claims left RUNNING by dead workers: those of this host whose process is gone
        (a kill -9), and, with `stale_after_s`, any claim older than that (workers elsewhere)."""
        failed = 0
        now = datetime.now()
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = trial.user_attrs.get("worker") or {}
            dead_here = worker.get("host") == self.worker["host"] and worker.get("pid") != self.worker["pid"] and not _alive(int(worker.get("pid", -1)))
            too_old = (
                self.stale_after_s is not None
                and trial.datetime_start is not None
                and now - trial.datetime_start > timedelta(seconds=float(self.stale_after_s))
            )
            if dead_here or too_old:
                try:
                    self.study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
                    failed += 1
                except Exception as err:  # another worker failed it first
                    log.debug("could not fail stale trial %d: %s", trial.number, err)
        if failed:
            log.warning("marked %d unfinished evaluation(s) of dead workers as failed; they will be scored again", failed)
        return failed

    def new_trial(self):
        return self.study.ask()

    def claim(self, trial, key: str) -> None:
        trial.set_user_attr("hash", key)
        trial.set_user_attr("kind", "claim")
        trial.set_user_attr("worker", self.worker)

    def try_claim(self, trial, key: str) -> bool:
        """Claim `key` for `trial`; False (and the trial failed as "taken") when another worker holds it already.
        The lowest claim wins, so two workers proposing the same architecture at once never both score it."""
        self.claim(trial, key)
        if self.first_claimant(key, self.trials()) != trial.number:
            self.fail(trial, "taken")
            return False
        return True

    def first_claimant(self, key: str, trials: list) -> int | None:
        """The lowest trial number that holds `key` (an evaluation or a live claim)."""
        numbers = [
            t.number
            for t in trials
            if t.user_attrs.get("hash") == key
            and (
                self.is_evaluation(t)
                or (t.state == TrialState.RUNNING and t.user_attrs.get("kind") == "claim")
            )
        ]
        return min(numbers) if numbers else None

    def complete(self, trial, key: str, arch_json: Any, scores: dict, undefined: list, seconds: float, values: list[float],
                 params: tuple[dict, dict] | None = None) -> None:
        """Store an evaluation: COMPLETE with its objective values, or FAIL (with the reason) when one is
        undefined. `params`: the architecture's readable (values, distributions), see tfnas.trial_params."""
        for name, value in (("arch", arch_json), ("metrics", scores), ("undefined", list(undefined)), ("seconds", seconds)):
            trial.set_user_attr(name, value)
        trial.set_user_attr("kind", "evaluation")
        self._tell(trial, values, params, undefined)

    def duplicate(self, trial, key: str, values: list[float], params: tuple[dict, dict] | None = None, undefined=()) -> None:
        trial.set_user_attr("hash", key)
        trial.set_user_attr("kind", "duplicate")
        self._tell(trial, values, params, undefined)

    def fail(self, trial, kind: str, reason: str | None = None) -> None:
        trial.set_user_attr("kind", kind)
        if reason:
            trial.set_user_attr("fail_reason", reason)
        self.study.tell(trial, state=TrialState.FAIL)

    def _tell(self, trial, values: list[float], params, undefined) -> None:
        if params is not None and params[0]:
            self._note_added(set_params(self.study._storage, trial, *params))
        names = self.metric_names()
        bad = [f"{names[i] if i < len(names) else i}={v}" for i, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            trial.set_user_attr("fail_reason", f"undefined score ({', '.join(bad)}; undefined metrics: {', '.join(undefined) or '-'})")
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, values)

    def _note_added(self, names: list[str]) -> None:
        """Keep the study's list of params tfnas added (the sampler wrapper hides them from TPE's model)."""
        known = getattr(self, "_added", None)
        if known is None:
            known = self._added = set(self.study.user_attrs.get(ADDED_PARAMS_ATTR, ()))
        if not set(names) <= known:
            known.update(names)
            self.study.set_user_attr(ADDED_PARAMS_ATTR, sorted(known))

    def set_metric_names(self, names: list[str]) -> None:
        """Name the study's objectives (shown by optuna-dashboard and Optuna's plots)."""
        self._metric_names = list(names)
        if list(self.study.metric_names or []) != list(names):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self.study.set_metric_names(list(names))

    def metric_names(self) -> list[str]:
        names = getattr(self, "_metric_names", None)
        if names is None:
            names = self._metric_names = list(self.study.metric_names or [self.metric_key])
        return names

    # -- reading back ---------------------------------------------------------------------
    @staticmethod
    def is_evaluation(trial) -> bool:
        """A scored architecture: COMPLETE, or FAIL because its score is undefined (still counted, never re-scored)."""
        if trial.user_attrs.get("kind") != "evaluation":
            return False
        return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and "fail_reason" in trial.user_attrs)

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
        done = [t for t in self.trials() if self.is_evaluation(t)]
        done.sort(key=lambda t: (t.datetime_complete or datetime.max, t.number))
        return [self.record(t) for t in done]
