"""Speed under load: per-architecture scoring time idle and beside N busy processes, in one run.

`scripts/bench_metrics.py --load N` calls `compare_under_load`. The busy processes are plain
Python spin loops (one core each, no memory traffic), started as subprocesses and stopped at the
end; each also stops by itself when its parent is gone. Threads are chosen by
`tfnas.threads.default_threads` at the start of each phase, as a search chooses them
(search.threads=null), unless a fixed count is given.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator


def spin() -> None:
    """Keep one core busy until the parent process is gone."""
    parent = os.getppid()
    while os.getppid() == parent:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            pass


@contextmanager
def busy_processes(n: int) -> Iterator[list[subprocess.Popen]]:
    """`n` spinning processes for the duration of the block."""
    procs = [
        subprocess.Popen([sys.executable, "-c", "from tfnas.experiments.load import spin; spin()"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]
    try:
        time.sleep(0.5)  # let them start spinning before anything is measured
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def time_per_arch(score: Callable[[object], None], archs: list, threads: int | None) -> dict:
    """Median seconds per architecture of `score` over `archs`, with `threads` torch threads (None: the default)."""
    import torch

    from tfnas.threads import default_threads

    chosen = default_threads(1) if threads is None else threads
    previous = torch.get_num_threads()
    torch.set_num_threads(chosen)
    try:
        seconds = []
        for arch in archs:
            start = time.perf_counter()
            score(arch)
            seconds.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    return {"threads": chosen, "median_s": statistics.median(seconds), "max_s": max(seconds), "n": len(seconds)}


def compare_under_load(score: Callable[[object], None], archs: list, load: int, threads: int | None = None,
                       fixed_threads: tuple[int, ...] = ()) -> list[dict]:
    """Rows (phase, threads, median s/arch, ...) for: idle and beside `load` busy processes, with the
    default threads (or `threads`), then with each count of `fixed_threads` under the same load."""
    score(archs[0])  # warm up (data, first-call allocations) outside the timings
    rows = [{"phase": "no busy process added", **time_per_arch(score, archs, threads)}]
    with busy_processes(load):
        rows.append({"phase": f"{load} busy process(es)", **time_per_arch(score, archs, threads)})
        for fixed in fixed_threads:
            rows.append({"phase": f"{load} busy process(es), threads fixed", **time_per_arch(score, archs, fixed)})
    idle = rows[0]["median_s"]
    for row in rows:
        row["ratio_to_idle"] = row["median_s"] / idle
    return rows


def format_rows(rows: list[dict], header: str) -> str:
    from tfnas.report.markdown import table

    columns = ["phase", "torch threads", "median s/arch", "max s/arch", "archs", "ratio to idle"]
    cells = [[r["phase"], r["threads"], f"{r['median_s']:.3f}", f"{r['max_s']:.3f}", r["n"], f"{r['ratio_to_idle']:.2f}"] for r in rows]
    return f"{header}\n\n{table(columns, cells)}"


def bench_load(archs: int, metric_spec: str, load: int, fixed_threads: tuple[int, ...] = ()) -> str:
    """The report of `scripts/bench_metrics.py --load N`: the metrics of `metric_spec` in one probe, per
    architecture, idle and beside `load` busy processes, on the first `archs` labelled cells at full size."""
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.experiments.rnn_table import metric_names
    from tfnas.metrics import Scorer
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.threads import usable_cores

    space = NasBenchNLPSpace()
    pool = [recipe for _, recipe in space.benchmark().pool()[:archs]]
    scorer = Scorer(space, [build_metric(n) for n in metric_names(metric_spec)])
    load_before = os.getloadavg()[0]
    rows = compare_under_load(scorer, pool, load, fixed_threads=fixed_threads)
    header = (f"# bench_metrics --load {load}: {', '.join(scorer.keys)} on {len(pool)} labelled architectures, full size; "
              f"{usable_cores()} usable cores (affinity); 1-minute load average {load_before:.1f} at the start, "
              f"{os.getloadavg()[0]:.1f} at the end (other work on the machine included)")
    return format_rows(rows, header)
