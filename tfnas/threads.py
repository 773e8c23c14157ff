"""How many torch threads each search process uses (search.threads).

The models scored here are small: their matrix products finish in microseconds, so torch's
threads meet at a barrier after almost every op. When another busy process takes one of the
threads' cores, every barrier waits for a scheduler time slice, and a search ran 25x slower
(9.9 s against 0.40 s per architecture on two cores with one other busy process). The default
therefore gives each process only the cores that are free when the search starts: the cores this
process may run on (its CPU affinity), less the other runnable processes, shared among the
search's workers, so that threads x workers never exceeds the cores.
"""
from __future__ import annotations

import os

from tfnas.validate import positive_int


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask; a container's cpuset), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def busy_elsewhere() -> int:
    """Runnable processes besides this one right now (Linux /proc/loadavg; 0 where unknown)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            running = int(handle.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)  # this process is one of the runnable ones


def default_threads(n_workers: int = 1, cores: int | None = None, busy: int | None = None) -> int:
    """Threads per process: the free usable cores shared among `n_workers`, at least one each."""
    cores = usable_cores() if cores is None else cores
    busy = busy_elsewhere() if busy is None else busy
    free = max(1, cores - min(busy, cores))
    return max(1, free // max(1, n_workers))


def resolve_threads(value, n_workers: int) -> int:
    """search.threads: null for the default above, or a positive integer (the user's choice, used as given)."""
    if value is None:
        return default_threads(n_workers)
    return positive_int(value, "search.threads", "a positive integer (torch threads per search process) or null")
