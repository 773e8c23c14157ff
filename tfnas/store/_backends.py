"""The Optuna storage behind a `search.storage` URL (after tfnas.store.storage_url)."""
from __future__ import annotations

from typing import Callable

import optuna

from tfnas.errors import ConfigError
from tfnas.store._journal import journal_storage
from tfnas.store._rdb import rdb_storage
from tfnas.store._urls import is_journal


def open_storage(url: str | None, heartbeat_interval: float | None = None, grace_period: float | None = None,
                 on_stale: Callable | None = None):
    """The storage behind `url` (None: in memory), recording heartbeats every `heartbeat_interval` seconds
    (None: none); `on_stale(study, trial)` runs for each trial failed because its heartbeats stopped."""
    if url is None:
        return optuna.storages.InMemoryStorage()
    if is_journal(url):
        return journal_storage(url, heartbeat_interval, grace_period, on_stale)
    if "://" not in url:
        raise ConfigError(
            "search.storage",
            f"{url!r} is not a storage: use a SQLAlchemy URL (sqlite:///path/study.db, postgresql+psycopg://user@host/db), "
            "a path ending in .db, journal:PATH, redis://HOST or memory",
        )
    return rdb_storage(url, heartbeat_interval, grace_period, on_stale)
