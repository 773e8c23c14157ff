"""SQLAlchemy storages (SQLite files, PostgreSQL, ...): Optuna's RDBStorage with heartbeats, SQLite in WAL mode."""
from __future__ import annotations

import inspect
import sqlite3
import warnings
from typing import Any, Callable

import optuna
import sqlalchemy.exc
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_incrementing

from tfnas.errors import ConfigError
from tfnas.store._urls import redact

#: Optuna 5 renamed RDBStorage's `failed_trial_callback` (still accepted, deprecated) to this
_STALE_CALLBACK = ("heartbeat_stale_trial_callback"
                   if "heartbeat_stale_trial_callback" in inspect.signature(optuna.storages.RDBStorage).parameters
                   else "failed_trial_callback")


def rdb_storage(url: str, heartbeat_interval: float | None, grace_period: float | None, on_stale: Callable | None):
    """Optuna's RDBStorage for `url`, its heartbeat settings and stale-trial callback given at construction.

    Workers starting together race to create the schema: the loser's IntegrityError or
    OperationalError is retried (tenacity: up to 6 attempts, waiting 0.5 s, 1 s, ... between them;
    Optuna has no retry of its own around table creation), then reported as a search.storage error.
    A server that cannot be reached is no such race: it is reported at once.
    """
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite") and ":///" in url:  # sqlite:///PATH, sqlite+pysqlite:///PATH
        engine_kwargs = {"creator": _sqlite_connector(url.split(":///", 1)[1])}
    kwargs = {"heartbeat_interval": heartbeat_interval, _STALE_CALLBACK: on_stale}
    if heartbeat_interval is not None:
        kwargs["grace_period"] = grace_period
    retrying = Retrying(
        stop=stop_after_attempt(6), wait=wait_incrementing(start=0.5, increment=0.5),
        retry=retry_if_exception(_schema_race), reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt, warnings.catch_warnings():  # heartbeats are "experimental" in Optuna: the warning is noise here
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
    except Exception as err:  # SQLAlchemy raises many kinds: name the field, keep the cause
        raise ConfigError("search.storage", f"cannot open {redact(url)}: {type(err).__name__}: {err}".splitlines()[0]) from None
    return storage


#: what a server that is down or unknown says (psycopg, SQLAlchemy): not a race to wait out
_UNREACHABLE = ("could not connect", "connection refused", "connection to server", "name or service not known",
                "could not translate host name", "timeout expired", "no route to host")


def _schema_race(err: BaseException) -> bool:
    """An error of two workers creating the schema at once (worth a retry), not an unreachable server."""
    if isinstance(err, sqlalchemy.exc.IntegrityError):
        return True
    return isinstance(err, sqlalchemy.exc.OperationalError) and not any(t in str(err).lower() for t in _UNREACHABLE)


def _sqlite_connector(path: str):
    """Connections to one SQLite file in write-ahead-log mode with synchronous=NORMAL.

    Optuna commits on every suggestion (a TPE trial of the RNN space makes ~50); in SQLite's
    default mode each commit waits for an fsync, which made a 10-trial TPE search spend 46 s of
    its 69 s in fsync. In WAL mode with synchronous=NORMAL a commit survives a killed process
    (kill -9 resume still loses nothing); only a power cut may lose the last commits. Several
    worker processes on one machine share the file; the timeout makes them wait for the lock
    instead of failing. (WAL needs a local filesystem; on a shared one use journal storage.)
    """

    def connect():
        connection = sqlite3.connect(path, timeout=120, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return connect
