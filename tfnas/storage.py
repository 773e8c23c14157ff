"""The persistent store of a search: an Optuna study with one trial per scored architecture.

Every evaluation is a COMPLETE trial whose user attributes hold the architecture's canonical
hash, its JSON, every metric value and the scoring time; its values are the search metric
(and any extra objectives) in their own directions. The study lives in any Optuna storage:
a SQLite file in the run directory by default, any SQLAlchemy URL (PostgreSQL for workers
on several machines), a plain `*.db` path (SQLite), `journal:PATH` (Optuna's journal file, for
a shared filesystem without a database server) or a `redis://` URL (journal in Redis; extra).
Because the store is written before results.csv, it is the source of truth: a search started again on the same store resumes where it stopped, and an architecture
already in the study is never scored again.

Trial kinds (user attribute "kind"): "claim" while an architecture is being scored (other
workers treat its hash as taken; it holds the architecture, so whoever fails it when its
worker dies scores it again), "evaluation" once scored, "duplicate" for an Optuna-suggested
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
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.trial import TrialState

from tfnas.errors import ConfigError
from tfnas.heartbeat import Beat, NoBeat, fail_stale_trials, supports_heartbeat
from tfnas.redaction import redact_text
from tfnas.results import Record
from tfnas.study_feed import StudyFeed
from tfnas.trial_params import ADDED_PARAMS_ATTR, set_params

log = logging.getLogger(__name__)
# Optuna warns on every ask() that heartbeats are meant for optimize(); the search loop beats itself (Beat)
warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used", category=UserWarning)

STUDY_FILE = "study.db"
JOURNAL_PREFIX = "journal:"
REDIS_PREFIXES = ("redis://", "rediss://")
FINGERPRINT_ATTR = "tfnas_fingerprint"


def storage_url(storage: str | None, run_dir: Path | None) -> str | None:
    """`null` -> a SQLite file in the run directory; `memory` -> nothing persisted; a plain `*.db` path -> SQLite;
    `journal:PATH` -> the journal file (absolute path); else the URL as given."""
    if storage in (None, "", "default"):
        if run_dir is None:
            return None
        return f"sqlite:///{(Path(run_dir) / STUDY_FILE).resolve()}"
    if storage == "memory":
        return None
    storage = str(storage)
    if storage.startswith(JOURNAL_PREFIX):
        return JOURNAL_PREFIX + str(Path(storage[len(JOURNAL_PREFIX):]).expanduser().resolve())
    if "://" not in storage and storage.endswith(".db"):
        return f"sqlite:///{Path(storage).expanduser().resolve()}"
    return storage


def _journal_storage(url: str, interval: float | None):
    """Optuna's JournalStorage over a file (`journal:PATH`) or Redis (`redis://`), with heartbeats."""
    from optuna.storages.journal import JournalFileBackend

    from tfnas.heartbeat import HeartbeatJournalStorage

    if url.startswith(REDIS_PREFIXES):
        try:
            import redis  # noqa: F401
        except ImportError:
            raise ConfigError("search.storage", f"{redact(url)} needs the Redis client: pip install 'tfnas[redis]' (or use journal:PATH / a SQLAlchemy URL)") from None
        from optuna.storages.journal import JournalRedisBackend

        try:
            return HeartbeatJournalStorage(JournalRedisBackend(url), interval)
        except Exception as err:
            raise ConfigError("search.storage", f"cannot open {redact(url)}: {type(err).__name__}: {err}".splitlines()[0]) from None
    path = Path(url[len(JOURNAL_PREFIX):])
    if not path.parent.is_dir():
        raise ConfigError("search.storage", f"journal directory {path.parent} does not exist; create it or choose another journal:PATH")
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise ConfigError("search.storage", f"cannot write the journal {path}: {err.strerror or err}; choose a writable journal:PATH") from None
    return HeartbeatJournalStorage(JournalFileBackend(str(path)), interval)


def _sqlite_wal(storage) -> None:
    """Put a SQLite study in write-ahead-log mode with NORMAL sync: a commit is an append, not an fsync of the
    database (an evaluation makes about ten), and readers do not block the writer. A killed process loses
    nothing; only a power cut can drop the last commits. The file must be on a local disk (WAL uses shared memory)."""
    from sqlalchemy import event, text

    def pragmas(connection, record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # pooled connections reconnect with the pragma
    with storage.engine.connect() as connection:
        connection.execute(text("PRAGMA journal_mode=WAL"))  # stored in the file: every process uses it


def make_storage(url: str | None, heartbeat_interval: float | None = None):
    """The Optuna storage behind `url`, recording heartbeats every `heartbeat_interval` seconds (None: none)."""
    if url is None:
        return optuna.storages.InMemoryStorage()
    if url.startswith(JOURNAL_PREFIX) or url.startswith(REDIS_PREFIXES):
        return _journal_storage(url, heartbeat_interval)
    if "://" not in url:
        raise ConfigError(
            "search.storage",
            f"{url!r} is not a storage: use a SQLAlchemy URL (sqlite:///path/study.db, postgresql+psycopg://user@host/db), "
            "a path ending in .db, journal:PATH, redis://HOST or memory",
        )
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite:///"):
        engine_kwargs = {"creator": _sqlite_connector(url[len("sqlite:///"):])}
    for attempt in range(6):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna: the warning is noise here
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval)
            if url.startswith("sqlite"):
                _sqlite_wal(storage)
            return storage
        except Exception as err:  # SQLAlchemy raises many kinds: name the field, keep the cause
            # workers starting together race to create the schema: the loser retries and finds it made
            if attempt == 5 or not isinstance(err, sqlalchemy.exc.IntegrityError | sqlalchemy.exc.OperationalError):
                raise ConfigError("search.storage", f"cannot open {redact(url)}: {type(err).__name__}: {err}".splitlines()[0]) from None
            time.sleep(0.5 * (attempt + 1))


def _sqlite_connector(path: str):
    """Connections to one SQLite file in write-ahead-log mode with synchronous=NORMAL.

    Optuna commits on every suggestion (a TPE trial of the RNN space makes ~50); in SQLite's
    default mode each commit waits for an fsync, which made a 10-trial TPE search spend 46 s of
    its 69 s in fsync. In WAL mode with synchronous=NORMAL a commit survives a killed process
    (kill -9 resume still loses nothing); only a power cut may lose the last commits. Several
    worker processes on one machine share the file; the timeout makes them wait for the lock
    instead of failing. (WAL needs a local filesystem; on a shared one use journal storage.)
    """
    import sqlite3

    def connect():
        connection = sqlite3.connect(path, timeout=120, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return connect


def redact(url: str) -> str:
    """The URL without its password, for messages (tfnas.redaction masks every copy of the config)."""
    return redact_text(url)


def _alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs. A zombie counts as dead: a killed worker whose parent
    died too stays one where PID 1 does not reap (many containers), and `kill(pid, 0)` still succeeds on it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): kill(pid, 0) is all we can ask
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # gone meanwhile
        return False
    return state not in ("Z", "X")


class EvaluationStore:
    """One search's study plus the bookkeeping the search loop needs (claims, stale trials, records).

    Reads go through a `StudyFeed` (only new and unfinished trials), so the cost of an
    evaluation does not grow with the study. A claim in flight records Optuna heartbeats;
    `fail_stale` fails claims whose heartbeats stopped (or whose process on this host is gone)
    and queues their architectures in `retries`, to be scored again by this worker.
    """

    def __init__(
        self,
        url: str | None,
        study_name: str,
        directions: list[str],
        metric_key: str,
        sampler=None,
        fingerprint: dict | None = None,
        heartbeat_interval_s: float | None = 10.0,
        grace_period_s: float | None = 60.0,
    ):
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url = url
        self.metric_key = metric_key
        self.storage = make_storage(url, heartbeat_interval_s if url is not None else None)
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
            self.heartbeat_interval = float(heartbeat_interval_s)
            self.grace_period = float(grace_period_s or 2 * heartbeat_interval_s)
            self.storage.heartbeat_stale_trial_callback = self._on_stale
        self.refresh()
        self.fail_stale()

    def _init_bookkeeping(self) -> None:
        self.worker = {"host": socket.gethostname(), "pid": os.getpid()}
        self.feed = StudyFeed(self.study)
        self.holders: dict[str, set[int]] = {}  # hash -> numbers of its evaluations and live claims
        self.retries: list[tuple[str, Any]] = []  # (hash, architecture JSON) of failed claims to score again
        self.heartbeat_interval: float | None = None
        self.grace_period: float | None = None
        self._last_stale_check = time.monotonic()
        self._stale_failed = 0
        self._backlog: list = []

    @classmethod
    def wrap(cls, study, metric_key: str) -> "EvaluationStore":
        """A store around an existing study (a strategy's private in-memory one)."""
        self = cls.__new__(cls)
        self.url, self.metric_key, self.study = None, metric_key, study
        self.storage = study._storage
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

    # -- trials ---------------------------------------------------------------------------
    def trials(self) -> list:
        """Every trial of the study (a full read: for reports, not for the per-evaluation loop)."""
        return self.study.get_trials(deepcopy=False)

    def refresh(self) -> list:
        """Read the trials that changed since the last call and update the claims index; returns them."""
        fresh = self.feed.read()
        self._backlog.extend(fresh)
        for trial in fresh:
            key = trial.user_attrs.get("hash")
            if key is None:
                continue
            holding = self.holds_hash(trial)
            numbers = self.holders.setdefault(key, set())
            (numbers.add if holding else numbers.discard)(trial.number)
        return fresh

    def changes(self) -> list:
        """Refresh, and return every trial read since the last call of `changes` (by any refresh)."""
        self.refresh()
        out, self._backlog = self._backlog, []
        return out

    def running_claims(self) -> list:
        """Claims in flight as of the last refresh."""
        return [t for t in self.feed.running.values() if self.is_live_claim(t)]

    def live_claims(self) -> list:
        """Claims in flight that will end: finished by their worker, or failed when it dies. With heartbeats,
        a claim without a declared grace period (left by a version without heartbeats) would never be failed
        on another host, so it does not count (its hash stays taken)."""
        claims = self.running_claims()
        return claims if self.grace_period is None else [t for t in claims if "grace_s" in t.user_attrs]

    def fail_stale(self) -> int:
        """Fail claims left RUNNING by dead workers: those whose heartbeats stopped for the grace period
        (`tfnas.heartbeat.fail_stale_trials`: this worker's and the claim's own, whichever is longer),
        and at once those of this host whose process is gone (a kill -9).
        Their architectures go to `retries`, so the evaluation lost with the worker is scored again."""
        self._last_stale_check = time.monotonic()
        before = self._stale_failed
        for trial in self.running_claims():
            worker = trial.user_attrs.get("worker") or {}
            if worker.get("host") == self.worker["host"] and worker.get("pid") != self.worker["pid"] and not _alive(int(worker.get("pid", -1))):
                try:
                    if self.storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                        self._on_stale(self.study, trial)
                except optuna.exceptions.UpdateFinishedTrialError:  # another worker failed it first
                    pass
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
        if trial.user_attrs.get("kind") == "claim" and "arch" in trial.user_attrs:
            self.retries.append((trial.user_attrs["hash"], trial.user_attrs["arch"]))

    def beating(self, trial):
        """A context manager recording heartbeats for `trial` while it is scored (nothing without heartbeats)."""
        if self.heartbeat_interval is None:
            return NoBeat()
        return Beat(self.storage, trial._trial_id, self.heartbeat_interval)

    def new_trial(self):
        return self.study.ask()

    def claim(self, trial, key: str, arch_json: Any = None) -> None:
        trial.set_user_attr("hash", key)
        if arch_json is not None:
            trial.set_user_attr("arch", arch_json)
        trial.set_user_attr("worker", self.worker)
        if self.grace_period is not None:
            trial.set_user_attr("grace_s", self.grace_period)  # others fail this claim only after this much silence
            self.storage.record_heartbeat(trial._trial_id)  # beating before it counts: a death from here on is seen
        trial.set_user_attr("kind", "claim")

    def try_claim(self, trial, key: str, arch_json: Any = None) -> bool:
        """Claim `key` for `trial`; False (and the trial failed as "taken") when another worker holds it already.
        The lowest claim wins, so two workers proposing the same architecture at once never both score it."""
        self.claim(trial, key, arch_json)
        return self.still_first(trial, key)

    def still_first(self, trial, key: str) -> bool:
        """Re-read and check that `trial` is still the lowest holder of `key`; if not, fail it as "taken".
        Called again before storing a score: a claim written late by a lower trial number is seen by then."""
        self.refresh()
        if self.first_claimant(key) != trial.number:
            self.fail(trial, "taken")
            return False
        return True

    def first_claimant(self, key: str, trials: list | None = None) -> int | None:
        """The lowest trial number that holds `key` (an evaluation or a live claim), from the claims index
        (or from `trials`, when given)."""
        if trials is not None:
            numbers = [t.number for t in trials if t.user_attrs.get("hash") == key and self.holds_hash(t)]
        else:
            numbers = self.holders.get(key, ())
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

    @staticmethod
    def is_live_claim(trial) -> bool:
        """An architecture being scored: a RUNNING claim."""
        return trial.state == TrialState.RUNNING and trial.user_attrs.get("kind") == "claim"

    @classmethod
    def holds_hash(cls, trial) -> bool:
        """Whether `trial` keeps its architecture from being scored by anyone else: an evaluation or a live claim."""
        return cls.is_evaluation(trial) or cls.is_live_claim(trial)

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
