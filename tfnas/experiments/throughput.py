"""The machine's large-GEMM throughput, measured in the same run as the work it puts in scale: on a
shared machine absolute times drift, so speed claims are ratios to this or side-by-side timings."""
from __future__ import annotations

import time


def gemm_throughput(size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of the fastest of `repeats` float32 `size`^3 matrix products (after one warm-up)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def machine_load() -> str:
    """The 1/5/15-minute load averages and the CPU count, for the record of a timing."""
    import os

    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"
