"""Time and memory bounds for the hostile-input tests (tests/e2e/test_hostile_input.py).

`within(seconds, memory)` checks a case run in this process: its wall time, and that the process's
peak resident memory (ru_maxrss) did not rise more than `memory` above what it held at the start.
A case that could exhaust the machine if it regressed (`/dev/zero` as a corpus, a model of 10^16
parameters) runs in `forked(...)`: a child of this process with an address-space limit
(RLIMIT_AS) of its size at the fork plus `memory`, killed after `seconds`; its own peak RSS
comes back from `os.wait4`.
"""
from __future__ import annotations

import io
import json
import os
import resource
import select
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

SECONDS = 10.0
MEMORY = 1 << 30  # 1 GiB
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def vms_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * PAGE


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


@contextmanager
def within(seconds: float = SECONDS, memory: int = MEMORY):
    """Assert that the block ends within `seconds` and raises this process's peak RSS by less than `memory`
    above its RSS at the start (a peak below the earlier high-water mark leaves ru_maxrss unchanged, which passes)."""
    start_rss, start_peak = rss_bytes(), peak_rss_bytes()
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    peak = peak_rss_bytes()
    assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    assert peak <= max(start_peak, start_rss + memory), f"peak RSS {peak / 1e6:.0f} MB, start {start_rss / 1e6:.0f} MB"


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    seconds: float
    rss_growth: int  # the child's peak RSS above its RSS at the fork


def forked(fn, *args, seconds: float = SECONDS, memory: int = MEMORY) -> Outcome:
    """Run `fn(*args)` (returning an exit status) in a forked child limited to `memory` more address space than
    it starts with; its stdout and stderr are captured. Asserts it ends within `seconds`."""
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code, out, err = 1, io.StringIO(), io.StringIO()
        try:
            os.close(read_end)
            rss0 = rss_bytes()
            resource.setrlimit(resource.RLIMIT_AS, (vms_bytes() + memory, resource.getrlimit(resource.RLIMIT_AS)[1]))
            sys.stdout, sys.stderr = out, err
            try:
                code = fn(*args)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
                err.write(f"uncaught {type(exc).__name__}: {exc}")
                code = 99
            os.write(write_end, json.dumps({"code": code, "out": out.getvalue()[-20000:], "err": err.getvalue()[-20000:],
                                            "rss0": rss0}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], start + seconds
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"{getattr(fn, '__name__', fn)} did not end within {seconds} s")
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                data = os.read(read_end, 1 << 16)
                if not data:
                    break
                chunks.append(data)
    finally:
        os.close(read_end)
        _, _, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    report = json.loads(b"".join(chunks) or b'{"code": null, "out": "", "err": "the child died without a word", "rss0": 0}')
    growth = usage.ru_maxrss * 1024 - report["rss0"]
    assert growth < memory, f"peak RSS {growth / 1e6:.0f} MB above the start (bound {memory / 1e6:.0f} MB)"
    return Outcome(report["code"], report["out"], report["err"], elapsed, growth)


def run_cli(*argv: str) -> int:
    """The `tfnas` command in this (forked) process, as `tests/apprun.cli` runs it without monkeypatch."""
    from tfnas.cli import main

    sys.argv = ["tfnas", *argv]
    os.environ.pop("HYDRA_FULL_ERROR", None)
    main()
    return 0
