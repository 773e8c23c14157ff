"""search.executor=ray: n_workers Ray actors, each with its own scorer on its own resources, sharing the study.

The driver (this process) does not score: it follows the study (incremental reads) and writes
results.csv and the tracker as evaluations arrive, so the Optuna study stays the single record.
An actor that dies loses only the evaluation it had in flight: another actor fails that claim
(at once when its process is gone from this host, else when its heartbeats stop for the grace
period) and scores the architecture again; the others finish the budget.

Ray (Moritz et al., OSDI 2018) is an optional extra: pip install 'tfnas[ray]'.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import psutil
from omegaconf import DictConfig, OmegaConf

from tfnas.errors import ConfigError
from tfnas.executors.ray_reaper import start_reaper, stop_reaper

log = logging.getLogger(__name__)

#: search.worker_resources keys -> Ray's resource names
RESOURCE_NAMES = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}
LOCAL_OBJECT_STORE_BYTES = 100 * 2**20  # a local cluster moves only configs and small results


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("search.executor", "ray needs Ray installed: pip install 'tfnas[ray]' (or use search.executor=local)") from None
    return ray


def actor_options(resources: Any) -> dict[str, Any]:
    """search.worker_resources -> Ray actor options ({num_cpus, num_gpus, memory, resources: {NAME: n}})."""
    resources = OmegaConf.to_container(resources, resolve=True) if isinstance(resources, DictConfig) else dict(resources or {})
    options: dict[str, Any] = {}
    for key, value in resources.items():
        if key == "resources":
            if not isinstance(value, dict) or not all(isinstance(v, int | float) and v >= 0 for v in value.values()):
                raise ConfigError("search.worker_resources", f"resources must map custom resource names to amounts, got {value!r}")
            options["resources"] = dict(value)
        elif key in RESOURCE_NAMES:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError("search.worker_resources", f"{key} must be a non-negative number, got {value!r}")
            options[key] = value
        else:
            raise ConfigError("search.worker_resources", f"unknown key {key!r}; use num_cpus, num_gpus, memory or resources")
    options.setdefault("num_cpus", 1)
    return options


def needs(options: dict[str, Any]) -> dict[str, float]:
    """What one actor reserves, in Ray's resource names."""
    need = {RESOURCE_NAMES[k]: float(v) for k, v in options.items() if k in RESOURCE_NAMES and v}
    need.update({k: float(v) for k, v in options.get("resources", {}).items() if v})
    return need


def room(nodes: list[dict], need: dict[str, float]) -> int | None:
    """How many actors needing `need` the alive nodes can hold at once (None: unlimited)."""
    if not need:
        return None
    return sum(
        min(math.floor(node.get("Resources", {}).get(name, 0.0) / amount + 1e-9) for name, amount in need.items())
        for node in nodes
        if node.get("Alive")
    )


def check_reachable(address: str) -> None:
    """Refuse an address nothing listens on, quickly (ray.init would retry for a long time)."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("search.ray_address", f"{address!r} is not auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as err:
        raise ConfigError(
            "search.ray_address",
            f"cannot reach a Ray cluster at {address} ({err.strerror or err}); start one there with `ray start --head`, "
            "or use search.ray_address=auto for one on this machine",
        ) from None


class SearchWorker:
    """One Ray actor: its own parts (space, strategy seeded by its worker index, scorer, store) on its own device."""

    def __init__(self, config: dict, storage: str, worker: int, threads: int, retries: list):
        import torch

        from tfnas.build import build_parts, resolve_device

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        torch.set_num_threads(threads)
        self.cfg = OmegaConf.create(config)
        self.parts = build_parts(self.cfg, None, resolve_device(self.cfg.device), worker, storage=storage)
        self.parts.store.retries.extend(tuple(r) for r in retries)

    def pid(self) -> int:
        return os.getpid()

    def run(self) -> dict:
        from tfnas.workers import search

        result = search(self.parts, self.cfg, None, progress=False)
        return {"scored_here": result.scored_here, "duplicates": result.duplicates, "dropped": result.dropped,
                "stopped_early": result.stopped_early}


class RayExecutor:
    name = "ray"

    def __init__(self, cfg: DictConfig, n_workers: int, threads: int = 1):
        ray = import_ray()
        if cfg.search.get("storage") == "memory":
            raise ConfigError("search.storage", "memory cannot be shared by Ray actors; use the default SQLite file, journal:PATH or a database URL")
        self.n_workers = n_workers
        self.options = actor_options(cfg.search.get("worker_resources"))
        self.address = str(cfg.search.get("ray_address") or "auto")
        self.started_here = False
        self.connected_here = False
        self.reaper = None  # ends the local Ray instance's processes with this one (tfnas/executors/ray_reaper.py)
        self.failed: list[str] = []
        self.connect(ray)
        try:
            fit = room(ray.nodes(), needs(self.options))
            if fit is not None and fit < n_workers:
                have = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
                raise ConfigError(
                    "search.worker_resources",
                    f"the Ray cluster at {self.address} has room for {fit} of the {n_workers} workers asked "
                    f"(each needs {needs(self.options)}; its nodes have {have}); lower search.n_workers or the resources, or add nodes",
                )
        except BaseException:
            self.close()
            raise

    def connect(self, ray) -> None:
        if ray.is_initialized():
            return  # the caller's Ray session (a notebook, a test): use it and leave it running
        quiet = {"logging_level": logging.WARNING, "include_dashboard": False}
        if self.address != "auto":
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except Exception as err:
                raise ConfigError("search.ray_address", f"cannot connect to Ray at {self.address}: {type(err).__name__}: {err}".splitlines()[0]) from None
            self.connected_here = True
            return
        try:
            ray.init(address="auto", **quiet)  # a cluster started on this machine with `ray start --head`
            self.connected_here = True
        except ConnectionError:
            cpus = max(1, math.ceil(float(self.options.get("num_cpus", 1)) * self.n_workers))
            before = {p.pid for p in psutil.Process().children()}
            ray.init(num_cpus=cpus, object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
            self.started_here = self.connected_here = True
            self.reaper = start_reaper([p.pid for p in psutil.Process().children() if p.pid not in before])
            log.info("started a local Ray instance with %d CPU(s)", cpus)

    def start(self, cfg: DictConfig, parts, run_dir: Path) -> list:
        import ray

        from tfnas.workers import worker_index

        config = OmegaConf.to_container(cfg, resolve=True)
        retries = [list(parts.store.retries[i :: self.n_workers]) for i in range(self.n_workers)]
        threads = max(1, int(self.options.get("num_cpus", 1)))
        actor = ray.remote(SearchWorker)
        tag = uuid.uuid4().hex[:8]
        self.actors = [
            actor.options(name=f"tfnas-worker-{i}-{tag}", max_restarts=0, **self.options).remote(
                config, parts.store.url, worker_index(cfg, i), threads, retries[i]
            )
            for i in range(self.n_workers)
        ]
        self.runs = {a.run.remote(): f"tfnas-worker-{i}-{tag}" for i, a in enumerate(self.actors)}
        return self.actors

    def search(self, parts, cfg: DictConfig, on_record, progress):
        """Follow the study while the actors work: each new evaluation goes to on_record (results.csv) once."""
        import ray

        from tfnas.search_loop import SearchResult

        store = parts.store
        seen = {record.index for record in store.records()}  # already in results.csv
        store.changes()
        result = SearchResult(resumed=len(seen))
        pending = dict(self.runs)

        def follow() -> None:
            for trial in store.changes():
                if store.is_evaluation(trial) and trial.number not in seen:
                    seen.add(trial.number)
                    if on_record is not None:
                        on_record(store.record(trial))

        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.5)
                follow()
                for ref in done:
                    name = pending.pop(ref)
                    try:
                        out = ray.get(ref)
                    except Exception as err:  # the actor died (killed, node lost) or its search raised
                        self.failed.append(name)
                        log.warning("Ray worker %s stopped: %s", name, str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__)
                        continue
                    result.scored_here += out["scored_here"]
                    result.duplicates += out["duplicates"]
                    result.dropped += out["dropped"]
                    result.stopped_early = result.stopped_early or out["stopped_early"]
        except KeyboardInterrupt:
            result.stopped_early = "interrupted by the user"
            log.warning("interrupted: stopping the Ray workers; everything scored is in the study")
        follow()
        result.records = store.records()
        return result

    def join(self, workers: list, interrupted: bool = False) -> list[str]:
        """Stop the actors (they are done, or interrupted) and disconnect; the names of those that failed."""
        import ray

        for actor in workers:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass
        self.close()
        return list(self.failed)

    def close(self) -> None:
        import ray

        if self.connected_here and ray.is_initialized():
            ray.shutdown()
        stop_reaper(self.reaper)
        self.reaper = None
