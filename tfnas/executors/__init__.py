"""Where a search's workers run: `search.executor` names one (local processes, Ray actors).

An executor is made from the config before anything is written (so a cluster that cannot be
reached or lacks the requested resources is refused first), then runs the search in three
steps the app calls: `start` the workers, `search` (follow or take part in the search while
results.csv is written as evaluations arrive), `join` (the names of workers that failed).
"""
from __future__ import annotations

import importlib

from omegaconf import DictConfig

from tfnas.errors import ConfigError

#: executor name -> "module:class", imported on use (Ray is an optional extra)
EXECUTORS = {
    "local": "tfnas.executors.local:LocalExecutor",
    "ray": "tfnas.executors.ray_executor:RayExecutor",
}


def make_executor(cfg: DictConfig, n_workers: int, threads: int = 1):
    """The configured executor, connected and checked (raises ConfigError naming search.*)."""
    name = cfg.search.get("executor", "local")
    if name not in EXECUTORS:
        raise ConfigError("search.executor", f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    module, cls = EXECUTORS[name].split(":")
    return getattr(importlib.import_module(module), cls)(cfg, n_workers, threads)
