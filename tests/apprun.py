"""Run the search app in this process, as `python search.py OVERRIDES` would (Hydra's compose API)."""
from __future__ import annotations

import sys
from pathlib import Path

from tfnas.app import run
from tfnas.config import compose

# tiny models, no progress bar, no end-of-run report (plots cost seconds; tests about the report pass search.report=true)
TINY = ["space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12", "search.progress=false",
        "search.report=false"]


def config(*overrides: str):
    """The composed config for tiny RNN models plus `overrides`."""
    return compose([*TINY, *overrides])


def search(run_dir: Path, *overrides: str) -> dict:
    """Run a search into `run_dir` and return its summary."""
    return run(config(*overrides), Path(run_dir))


def cli(monkeypatch, *argv: str) -> int:
    """Run the `tfnas` command in this process (sys.argv patched) and return its exit status; for tests of its
    error paths, which end before any search starts (a new process would add seconds of imports each)."""
    from tfnas.cli import main

    monkeypatch.setattr(sys, "argv", ["tfnas", *argv])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "")  # main() sets it; monkeypatch restores the caller's value
    monkeypatch.delenv("HYDRA_FULL_ERROR")
    try:
        main()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()
    return 0


def interruptible() -> None:
    """`preexec_fn` for a child process that a test stops with SIGINT. A test run started in the background
    (CI, nohup, `cmd &` in a script) ignores SIGINT, children inherit that, and Python then keeps ignoring
    it (as tfnas should, for a user who ran it under nohup); the child gets the default disposition back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
