"""How many torch threads each search process uses (search.threads).

The models scored here are small: their matrix products finish in microseconds, so torch's
threads meet at a barrier after almost every op. When another busy process takes one of the
threads' cores, every barrier waits for a scheduler time slice, and a search ran 25x slower
(9.9 s against 0.40 s per architecture on two cores with one other busy process). The default
therefore gives each process only the cores that are free when the search starts: the cores this
process may run on (its CPU affinity), less those other work keeps busy (measured from /proc/stat
over 0.2 s), shared among the search's workers, so that threads x workers never exceeds the cores
(while there are at least as many free cores as workers; each process has one thread at least).

A thread count the user gives (search.threads, a command's --threads) goes through `clamp_threads`:
workers x threads above the usable cores is lowered to fit, with a warning, for the same reason:
threads beyond the cores wait on each other at every barrier.
"""
from __future__ import annotations

import logging
import os
import time

from tfnas.validate import positive_int

log = logging.getLogger("tfnas")


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask; a container's cpuset), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _cpu_times(cpus: set[int]) -> dict[int, tuple[int, int]]:
    """(idle, total) jiffies of each of `cpus` from /proc/stat."""
    times = {}
    with open("/proc/stat", encoding="ascii") as handle:
        for line in handle:
            name, *values = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                numbers = [int(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
                times[int(name[3:])] = (numbers[3] + numbers[4], sum(numbers))
    return times


def busy_cores(window_s: float = 0.2) -> float:
    """How many of this process's cores other work keeps busy now: the non-idle share of each usable
    core over `window_s` (Linux /proc/stat; 0 where unknown). This process sleeps meanwhile."""
    try:
        cpus = set(os.sched_getaffinity(0))
        before = _cpu_times(cpus)
        time.sleep(window_s)
        after = _cpu_times(cpus)
    except (AttributeError, OSError, ValueError):
        return 0.0
    busy = 0.0
    for cpu, (idle1, total1) in after.items():
        idle0, total0 = before.get(cpu, (idle1, total1))
        if total1 > total0:
            busy += 1.0 - (idle1 - idle0) / (total1 - total0)
    return busy


def default_threads(n_workers: int = 1, cores: int | None = None, busy: float | None = None) -> int:
    """Threads per process: the usable cores that are free now, shared among `n_workers`, at least one each."""
    cores = usable_cores() if cores is None else cores
    busy = busy_cores() if busy is None else busy
    free = max(1, cores - min(round(busy), cores))
    return max(1, free // max(1, n_workers))


def clamp_threads(workers, threads, fields: tuple[str, str] = ("--workers", "--threads"), cores: int | None = None):
    """(workers, threads) with workers x threads within the usable cores: threads lowered to fit (one at least),
    with a warning naming both fields. `threads` of None or 0 means the command's default and is kept; workers
    are never lowered (each is a process with its own seed and share of the work), only warned about."""
    workers_field, threads_field = fields
    workers = positive_int(workers, workers_field, "a positive integer (processes)")
    if threads is None or (threads == 0 and not isinstance(threads, bool)):
        return workers, threads
    threads = positive_int(threads, threads_field, "a positive integer (torch threads per process)")
    cores = usable_cores() if cores is None else cores
    if workers * threads <= cores:
        return workers, threads
    fitted = max(1, cores // workers)
    if fitted < threads:
        log.warning("%s=%d x %s=%d is more threads than the %d core(s) this process may use; using %s=%d "
                    "(threads beyond the cores wait on each other at every op)",
                    workers_field, workers, threads_field, threads, cores, threads_field, fitted)
    if workers > cores:
        log.warning("%s=%d is more processes than the %d core(s) this process may use; they will share them "
                    "(lower %s for the fastest run)", workers_field, workers, cores, workers_field)
    return workers, fitted


def resolve_threads(value, n_workers: int, local_workers: int | None = None) -> int:
    """search.threads: null for the default above, or a positive integer, clamped so that the `local_workers`
    processes on this machine (default: all n_workers) times the threads fit its cores."""
    if value is None:
        return default_threads(n_workers)
    positive_int(value, "search.threads", "a positive integer (torch threads per search process) or null")
    local = n_workers if local_workers is None else local_workers
    return clamp_threads(local, value, ("search.n_workers", "search.threads"))[1]
