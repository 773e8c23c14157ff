"""One live search per run directory.

The search that runs in a directory holds an exclusive `flock` on its `.tfnas.lock` for as long
as it runs; the kernel releases it when the process ends, however it ends (kill -9 included), so
a lock is never stale. A second search started into a live run directory would rewrite the
first one's results.csv from a study the first is still writing: it is refused, naming the live
search, before it writes anything. (Workers of one search share its study, not its run directory:
`search.n_workers`, or `search.worker=N` with its own run directory on a shared `search.storage`.)
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from tfnas.errors import ConfigError

LOCK_FILE = ".tfnas.lock"


class RunDirLock:
    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._handle = None

    def refuse_if_live(self) -> None:
        """ConfigError when a live search holds the directory; reads only (nothing is written)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            if not _try_lock(handle):
                raise self._live_error(handle)
            fcntl.flock(handle, fcntl.LOCK_UN)

    def acquire(self) -> "RunDirLock":
        """Hold the directory for this process (ConfigError if another search got there first)."""
        handle = open(self.path, "a+b")
        if not _try_lock(handle):
            error = self._live_error(handle)
            handle.close()
            raise error
        handle.truncate(0)
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def _live_error(self, handle) -> ConfigError:
        handle.seek(0)
        try:
            holder = json.loads(handle.read() or b"{}")
        except ValueError:
            holder = {}
        who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
        return ConfigError(
            "hydra.run.dir",
            f"{self.run_dir} belongs to a search that is still running ({who}); a second search there would rewrite "
            "its results.csv. Wait for it to end or stop it, or choose another run directory (hydra.run.dir=...); "
            "to add workers to it, use search.n_workers, or search.worker=N in another run directory on a shared search.storage",
        )


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
