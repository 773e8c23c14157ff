"""Further local worker processes (search.n_workers > 1): the same config, their own seeds, one shared study."""
from __future__ import annotations

import _thread
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from tfnas.build import build_parts, resolve_device
from tfnas.redacted_output import redact_process_output
from tfnas.results import ResultsWriter
from tfnas.search_loop import SearchJob, run_search


def worker_index(cfg: DictConfig, local: int) -> int:
    """Distinct per process sharing a study: search.worker (one per machine) times n_workers, plus the local index."""
    return int(cfg.search.get("worker", 0)) * int(cfg.search.get("n_workers", 1)) + local


def search(parts, cfg: DictConfig, on_record, progress) -> object:
    """Run the search loop of one process over its parts."""
    return run_search(SearchJob(
        parts.space, parts.strategy, parts.scorer, cfg.search.budget, parts.objectives, store=parts.store,
        eval_batch=int(cfg.search.get("eval_batch", 1)), on_record=on_record, progress=progress,
    ))


def _worker_main(config: dict, run_dir: str, worker: int, threads: int, ready, parent: int) -> None:
    # SIGINT is how the parent stops its workers: obey it even where the command runs with SIGINT ignored
    # (nohup, a background job of a script), which a spawned worker would otherwise inherit
    signal.signal(signal.SIGINT, signal.default_int_handler)
    redact_process_output(config)  # its output and traceback leave this process directly: secrets masked
    watch_parent(parent)
    torch.set_num_threads(threads)
    cfg = OmegaConf.create(config)
    try:
        parts = build_parts(cfg, Path(run_dir), resolve_device(cfg.device), worker)
    finally:
        ready.set()
    with ResultsWriter(Path(run_dir), parts.scorer.keys) as writer:
        search(parts, cfg, writer.write, progress=False)


def watch_parent(parent: int, every_s: float = 0.5, grace_s: float = 3.0) -> threading.Thread:
    """Stop this worker when its parent dies (kill -9 of the main process): interrupt the search as
    Ctrl-C would, and exit outright if it has not ended `grace_s` later. The claim of the architecture
    being scored stays RUNNING with this dead pid, so the next start on the study fails it and scores it again."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        _thread.interrupt_main()
        time.sleep(grace_s)
        os._exit(3)

    thread = threading.Thread(target=watch, name="tfnas-parent-watch", daemon=True)
    thread.start()
    return thread


def start_workers(cfg: DictConfig, run_dir: Path, n_workers: int, threads: int = 1) -> list:
    """Start n_workers - 1 processes (this one is worker 0), `threads` torch threads each, and wait
    until each has built its parts."""
    if n_workers <= 1:
        return []
    context = multiprocessing.get_context("spawn")
    config = OmegaConf.to_container(cfg, resolve=True)
    ready = [context.Event() for _ in range(1, n_workers)]
    workers = [
        context.Process(
            target=_worker_main,
            args=(config, str(run_dir), worker_index(cfg, i), threads, ready[i - 1], os.getpid()),
            name=f"tfnas-worker-{i}",
        )
        for i in range(1, n_workers)
    ]
    for process in workers:
        process.start()
    try:
        for event, process in zip(ready, workers):  # start together, so the work is shared from the first architecture
            while not event.wait(0.5) and process.is_alive():
                pass
    except KeyboardInterrupt:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers: list, grace_s: float = 10.0) -> None:
    """Interrupt every live worker (SIGINT: it ends its search as on Ctrl-C), then kill those still running."""
    for process in workers:
        if process.is_alive():
            os.kill(process.pid, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def join_workers(workers: list, interrupted: bool = False) -> list[str]:
    """Wait for the workers, or stop them when this process was interrupted (also by a Ctrl-C while
    waiting); the names of those that stopped with an error."""
    try:
        if interrupted:
            stop_workers(workers)
        for process in workers:
            process.join()
    except KeyboardInterrupt:
        interrupted = True
        stop_workers(workers)
    if interrupted:
        return []
    return [p.name for p in workers if p.exitcode != 0]
