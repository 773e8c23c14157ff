"""Journal storages: Optuna's journal file (`journal:PATH`, for a shared filesystem) or Redis (`redis://`).

A journal file is a log of JSON records, one a line. A process killed in the middle of an append
leaves a partial last line; Optuna skips it when reading, but the next append would land on the
same line and turn it into a record no reader can parse, so every later start would fail. At open,
under Optuna's own journal lock (so no live writer is mid-append), a torn tail is cut back to the
last complete record, with a one-line warning saying how many bytes were dropped.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

from tfnas.errors import ConfigError
from tfnas.store._optuna_adapter import HeartbeatJournalStorage
from tfnas.store._urls import JOURNAL_PREFIX, is_redis, redact

log = logging.getLogger(__name__)

_TAIL = 1 << 16  # bytes read per step from the end while looking for the last complete record


def journal_storage(url: str, interval: float | None, grace: float | None, on_stale: Callable | None):
    """Optuna's JournalStorage over a file or Redis, with heartbeats (tfnas's: Optuna's journal has none)."""
    backend = _redis_backend(url) if is_redis(url) else _file_backend(Path(url[len(JOURNAL_PREFIX):]))
    return HeartbeatJournalStorage(backend, interval, grace, on_stale)


def _redis_backend(url: str):
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigError("search.storage", f"{redact(url)} needs the Redis client: pip install 'tfnas[redis]' (or use journal:PATH / a SQLAlchemy URL)") from None
    from optuna.storages.journal import JournalRedisBackend

    try:
        return JournalRedisBackend(url)
    except Exception as err:
        raise ConfigError("search.storage", f"cannot open {redact(url)}: {type(err).__name__}: {err}".splitlines()[0]) from None


def _file_backend(path: Path) -> JournalFileBackend:
    if not path.parent.is_dir():
        raise ConfigError("search.storage", f"journal directory {path.parent} does not exist; create it or choose another journal:PATH")
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise ConfigError("search.storage", f"cannot write the journal {path}: {err.strerror or err}; choose a writable journal:PATH") from None
    lock = JournalFileSymlinkLock(str(path))  # the lock Optuna's writers hold while they append
    lock.acquire()
    try:
        dropped = cut_torn_tail(path)
    finally:
        lock.release()
    if dropped:
        log.warning("journal %s ended in a partial record (a writer was killed mid-write): dropped its last %d byte(s), "
                    "every complete record is kept", path, dropped)
    return JournalFileBackend(str(path), lock_obj=JournalFileSymlinkLock(str(path)))


def cut_torn_tail(path: Path) -> int:
    """Truncate `path` after its last complete JSON record; the number of bytes dropped (0: nothing torn)."""
    size = path.stat().st_size
    keep = _complete_length(path, size)
    if keep < size:
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            os.fsync(handle.fileno())
    return size - keep


def _complete_length(path: Path, size: int) -> int:
    """The length of the longest prefix of the file whose last line is a complete (newline-ended), parseable record."""
    end = size
    with open(path, "rb") as handle:
        while end > 0:
            start = _line_start(handle, end)
            handle.seek(start)
            line = handle.read(end - start)
            if line.endswith(b"\n") and _parses(line):
                return end
            end = start  # a partial or garbled last line: drop it and look at the one before
    return 0


def _line_start(handle, end: int) -> int:
    """Where the line ending at byte `end` starts (just after the newline before it, or 0)."""
    position = end - 1  # the line's own newline (if any) is its last byte
    while position > 0:
        start = max(0, position - _TAIL)
        handle.seek(start)
        cut = handle.read(position - start).rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        position = start
    return 0


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
