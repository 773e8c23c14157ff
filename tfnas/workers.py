"""Further local worker processes (search.n_workers > 1): the same config, their own seeds, one shared study."""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from tfnas.build import build_parts, resolve_device
from tfnas.results import ResultsWriter
from tfnas.search_loop import run_search


def worker_index(cfg: DictConfig, local: int) -> int:
    """Distinct per process sharing a study: search.worker (one per machine) times n_workers, plus the local index."""
    return int(cfg.search.get("worker", 0)) * int(cfg.search.get("n_workers", 1)) + local


def search(parts, cfg: DictConfig, on_record, progress) -> object:
    """Run the search loop of one process over its parts."""
    return run_search(
        parts.space,
        parts.strategy,
        parts.scorer,
        parts.metric.key,
        parts.metric.higher_is_better,
        cfg.search.budget,
        on_record=on_record,
        progress=progress,
        store=parts.store,
        objectives=parts.objectives,
    )


def _worker_main(config: dict, run_dir: str, worker: int, threads: int, ready) -> None:
    torch.set_num_threads(threads)
    cfg = OmegaConf.create(config)
    try:
        parts = build_parts(cfg, Path(run_dir), resolve_device(cfg.device), worker)
    finally:
        ready.set()
    with ResultsWriter(Path(run_dir), parts.scorer.keys) as writer:
        search(parts, cfg, writer.write, progress=False)


def start_workers(cfg: DictConfig, run_dir: Path, n_workers: int) -> list:
    """Start n_workers - 1 processes (this one is worker 0) and wait until each has built its parts."""
    if n_workers <= 1:
        return []
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    torch.set_num_threads(threads)
    context = multiprocessing.get_context("spawn")
    config = OmegaConf.to_container(cfg, resolve=True)
    ready = [context.Event() for _ in range(1, n_workers)]
    workers = [
        context.Process(
            target=_worker_main, args=(config, str(run_dir), worker_index(cfg, i), threads, ready[i - 1]), name=f"tfnas-worker-{i}"
        )
        for i in range(1, n_workers)
    ]
    for process in workers:
        process.start()
    for event, process in zip(ready, workers):  # start together, so the work is shared from the first architecture
        while not event.wait(0.5) and process.is_alive():
            pass
    return workers


def join_workers(workers: list) -> list[str]:
    """Wait for the workers; the names of those that stopped with an error."""
    for process in workers:
        process.join()
    return [p.name for p in workers if p.exitcode != 0]
