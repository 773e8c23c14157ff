"""Heartbeats for the claims being scored: one thread beats for every claim of a batch."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Beat:
    """A thread that records heartbeats for some trials while they are scored (a context manager)."""

    def __init__(self, backend, trial_ids: list[int], interval: float):
        self.backend, self.trial_ids, self.interval = backend, list(trial_ids), interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tfnas-heartbeat-{self.trial_ids[:1]}", daemon=True)

    def _run(self) -> None:
        while True:
            for trial_id in self.trial_ids:
                try:
                    self.backend.record_heartbeat(trial_id)
                except Exception as err:  # the trial was finished by another worker, or the storage hiccuped
                    log.debug("heartbeat for trial %d not recorded: %s", trial_id, err)
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
