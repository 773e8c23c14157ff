"""Ctrl-C that never lands inside a write to the study.

A SIGINT is an exception raised wherever the main thread happens to be. Inside a journal-file
write it interrupts Optuna's lock release, whose own clean-up then fails (`FileNotFoundError`
on the lock's rename file) and the process ends with a traceback instead of its summary.
`DeferredInterrupts` holds a SIGINT that arrives while the search loop talks to its storage and
raises it at the next safe point; inside `allowed()` (scoring an architecture, waiting for other
workers) it lands at once, as before. Only the main thread's default handler is replaced: a
program that installed its own SIGINT handler keeps it.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class DeferredInterrupts:
    """Use as `with DeferredInterrupts() as gate:`; call `gate.check()` at safe points and wrap
    long interruptible work in `with gate.allowed():`."""

    def __init__(self) -> None:
        self.active = False
        self.caught = False

    def _hold(self, signum, frame) -> None:
        self.caught = True

    def __enter__(self) -> "DeferredInterrupts":
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._hold)
            self.active = True
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.active = False

    def check(self) -> None:
        """Raise the KeyboardInterrupt held since the last check, if any."""
        if self.caught:
            self.caught = False
            raise KeyboardInterrupt

    @contextmanager
    def allowed(self) -> Iterator[None]:
        """A block where Ctrl-C interrupts at once (a held one is raised on entry)."""
        self.check()
        if not self.active:
            yield
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self._hold)
