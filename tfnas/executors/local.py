"""search.executor=local: this process is worker 0, n_workers - 1 more processes on this machine."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from tfnas.workers import join_workers, search, start_workers


class LocalExecutor:
    name = "local"

    def __init__(self, cfg: DictConfig, n_workers: int):
        self.n_workers = n_workers

    def start(self, cfg: DictConfig, parts, run_dir: Path) -> list:
        return start_workers(cfg, run_dir, self.n_workers)

    def search(self, parts, cfg: DictConfig, on_record, progress):
        return search(parts, cfg, on_record, progress)

    def join(self, workers: list) -> list[str]:
        return join_workers(workers)
