"""search.executor=local: this process is worker 0, n_workers - 1 more processes on this machine."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from tfnas.workers import join_workers, search, start_workers


class LocalExecutor:
    name = "local"

    def __init__(self, cfg: DictConfig, n_workers: int, threads: int = 1):
        self.n_workers = n_workers
        self.threads = threads

    def start(self, cfg: DictConfig, parts, run_dir: Path) -> list:
        return start_workers(cfg, run_dir, self.n_workers, self.threads)

    def search(self, parts, cfg: DictConfig, on_record, progress):
        return search(parts, cfg, on_record, progress)

    def join(self, workers: list, interrupted: bool = False) -> list[str]:
        return join_workers(workers, interrupted=interrupted)
