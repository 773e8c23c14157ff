"""Turn a Hydra config into a search run: build the parts, check them, run, write the outputs."""
from __future__ import annotations

import logging
import math
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from search_spaces.pool import benchmark_pool
from tfnas.errors import ConfigError
from tfnas.labels import with_benchmark_options
from tfnas.metrics.base import METRICS
from tfnas.metrics.scoring import Scorer
from tfnas.report import write_report
from tfnas.results import BEST_FILE, SUMMARY_FILE, ResultsWriter, rewrite_results, write_json
from tfnas.search_loop import run_search
from tfnas.storage import EvaluationStore, redact, storage_url
from tfnas.tracking import NoTracker
from tfnas.training import NoTraining

log = logging.getLogger("tfnas")

PARETO_FILE = "pareto.json"


def resolve_device(name: str) -> torch.device:
    """cpu, cuda, cuda:N, or auto (cuda when available)."""
    name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError("device", f"unknown device {name!r}; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was requested but is not available on this machine; use device=cpu or device=auto")
    return device


def build(node: DictConfig, field: str) -> Any:
    """Instantiate a `_target_` config group, turning Hydra's errors into one that names the group.

    A space's `benchmark` section (user labels) is not a constructor argument: it is applied to
    the built space (tfnas/labels.py)."""
    if node is None or "_target_" not in node:
        raise ConfigError(field, f"missing config group {field!r} with a _target_ (choose one with {field}=NAME)")
    options = None
    if field == "space" and "benchmark" in node:
        options = OmegaConf.to_container(node.benchmark, resolve=True)
        node = OmegaConf.create({k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k != "benchmark"})
    if options is not None:
        return with_benchmark_options(build(node, field), options)
    try:
        return instantiate(node, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, ConfigError):
            raise cause from None
        raise ConfigError(field, f"could not build {node._target_}: {cause or err}") from None


@dataclass
class SearchParts:
    """What one search process needs: built from the config the same way in every worker."""

    space: Any
    metric: Any
    strategy: Any
    scorer: Scorer
    store: EvaluationStore
    objectives: list[tuple[str, bool]]


def build_parts(cfg: DictConfig, run_dir: Path, device: torch.device, worker: int = 0, space=None, scorer_cls=Scorer) -> SearchParts:
    """Space (pool-restricted in benchmark mode), metric(s), strategy bound to the search's study, scorer.

    `space` reuses a space already built from `cfg.space` (and pool-restricted as `cfg.search.pool`
    says), `scorer_cls` replaces the Scorer (scripts/compare_strategies.py: cached metric values)."""
    pool = cfg.search.get("pool", "all")
    if pool not in ("all", "benchmark"):
        raise ConfigError("search.pool", f"must be all or benchmark, got {pool!r}")
    if space is None:
        space = build(cfg.space, "space")
        if pool == "benchmark":
            space = benchmark_pool(space)
    metric = build(cfg.metric, "metric")
    metric.check_space(space.name)
    strategy = build(cfg.strategy, "strategy")
    metrics, objectives = [metric], [(metric.key, metric.higher_is_better)]
    for extra in getattr(strategy, "scoring_metrics", lambda _: ())(space.name):
        extra.check_space(space.name)  # scored in the same probe, not an objective (strategy=ensemble)
        if extra.key not in {m.key for m in metrics}:
            metrics.append(extra)
    for name, direction in strategy.extra_objectives:
        extra = METRICS.get(name)()
        extra.check_space(space.name)
        if extra.key != metric.key:
            metrics.append(extra)
        objectives.append((extra.key, direction == "maximize"))
    fingerprint = {
        "space": OmegaConf.to_container(cfg.space, resolve=True),
        "metric": OmegaConf.to_container(cfg.metric, resolve=True),
        "seed": cfg.seed,
        "pool": pool,
    }
    store = EvaluationStore(
        storage_url(cfg.search.get("storage"), run_dir),
        cfg.search.get("study_name", "tfnas"),
        ["maximize" if hib else "minimize" for _, hib in objectives],
        metric.key,
        sampler=strategy.sampler(int(cfg.seed) + worker),
        fingerprint=fingerprint,
        stale_after_s=cfg.search.get("stale_after_s"),
    )
    rng = np.random.default_rng(cfg.seed if worker == 0 else [cfg.seed, worker])
    strategy.bind(space, rng, store.study)
    scorer = scorer_cls(space, metrics, device=device, seed=cfg.seed)
    return SearchParts(space, metric, strategy, scorer, store, objectives)


def _search(parts: SearchParts, cfg: DictConfig, on_record, progress) -> Any:
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
    """A further worker process (search.n_workers > 1): same config, own seed, shared study and results.csv."""
    torch.set_num_threads(threads)
    cfg = OmegaConf.create(config)
    try:
        parts = build_parts(cfg, Path(run_dir), resolve_device(cfg.device), worker)
    finally:
        ready.set()
    with ResultsWriter(Path(run_dir), parts.scorer.keys) as writer:
        _search(parts, cfg, writer.write, progress=False)


def _worker_index(cfg: DictConfig, local: int) -> int:
    """Distinct per process sharing a study: search.worker (one per machine) times n_workers, plus the local index."""
    return int(cfg.search.get("worker", 0)) * int(cfg.search.get("n_workers", 1)) + local


def _start_workers(cfg: DictConfig, run_dir: Path, n_workers: int) -> list:
    if n_workers <= 1:
        return []
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    torch.set_num_threads(threads)
    context = multiprocessing.get_context("spawn")
    config = OmegaConf.to_container(cfg, resolve=True)
    ready = [context.Event() for _ in range(1, n_workers)]
    workers = [
        context.Process(
            target=_worker_main, args=(config, str(run_dir), _worker_index(cfg, i), threads, ready[i - 1]), name=f"tfnas-worker-{i}"
        )
        for i in range(1, n_workers)
    ]
    for process in workers:
        process.start()
    for event, process in zip(ready, workers):  # start together, so the work is shared from the first architecture
        while not event.wait(0.5) and process.is_alive():
            pass
    return workers


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Run the search described by `cfg`, writing results.csv, best.json and summary.json into `run_dir`.

    Every evaluation is stored first in the search's Optuna study (search.storage; a SQLite file
    in `run_dir` by default), so running again on the same study resumes the search.
    """
    budget = cfg.search.budget
    if not isinstance(budget, int) or budget <= 0:
        raise ConfigError("search.budget", f"must be a positive integer (number of architectures to score), got {budget!r}")
    n_workers = cfg.search.get("n_workers", 1)
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError("search.n_workers", f"must be a positive integer (processes sharing the study), got {n_workers!r}")
    device = resolve_device(cfg.device)
    stage = build(cfg.train, "train") if cfg.get("train") else NoTraining()
    if cfg.get("strategy") is not None and "_target_" in cfg.strategy:
        check_stage = getattr(get_class(cfg.strategy._target_), "check_stage", None)
        if check_stage is not None:  # a strategy that spends trainings: refuse a stage that cannot, before writing
            check_stage(stage)
    run_dir.mkdir(parents=True, exist_ok=True)
    parts = build_parts(cfg, run_dir, device, _worker_index(cfg, 0))
    space, metric, strategy, scorer, store = parts.space, parts.metric, parts.strategy, parts.scorer, parts.store
    tracker = build(cfg.tracking, "tracking") if cfg.get("tracking") else NoTracker()

    info = {"space": space.name, "strategy": strategy.name, "metric": metric.key, "budget": budget, "device": str(device)}
    tracker.start(OmegaConf.to_container(cfg, resolve=True), run_dir, info)
    print(
        f"tfnas: space={space.name} strategy={strategy.name} metric={metric.key} budget={budget} "
        f"device={device} run_dir={run_dir} storage={redact(store.url or 'memory')}",
        flush=True,
    )
    start = time.perf_counter()
    best_so_far = [metric.worst]
    better = max if metric.higher_is_better else min

    def on_record(record) -> None:
        writer.write(record)
        best_so_far[0] = better(best_so_far[0], record.score)
        tracker.log_record(record, best_so_far[0])

    # the store is the source of truth: results.csv restarts from what it holds (resume)
    rewrite_results(run_dir, scorer.keys, store.records())
    workers = _start_workers(cfg, run_dir, n_workers)
    try:
        with ResultsWriter(run_dir, scorer.keys) as writer:
            result = _search(parts, cfg, on_record, cfg.search.get("progress"))
    finally:
        for process in workers:
            process.join()
    failed_workers = [p.name for p in workers if p.exitcode != 0]
    if failed_workers:
        log.warning("worker(s) %s stopped with an error; their finished evaluations are kept", ", ".join(failed_workers))
    result.records = store.records()
    rewrite_results(run_dir, scorer.keys, result.records)
    elapsed = time.perf_counter() - start

    if hasattr(strategy, "spend_trainings"):  # the strategy chooses what to train (strategy=ensemble)
        best = strategy.spend_trainings(space, result.records, stage, run_dir, device, cfg.seed, tracker, store, cfg.search.top_k)
    else:
        best = shortlist(space, result.best(cfg.search.top_k, metric.higher_is_better))
        best = stage.run(space, best, run_dir, device, cfg.seed, tracker)
    write_json(run_dir / BEST_FILE, best)
    seconds = [r.seconds for r in result.records]
    finite = [r.score for r in result.records if math.isfinite(r.score)]
    summary = {
        "space": space.name,
        "strategy": strategy.name,
        "metric": metric.key,
        "higher_is_better": metric.higher_is_better,
        "seed": cfg.seed,
        "device": str(device),
        "budget": budget,
        "evaluated": len(result.records),
        "evaluated_this_run": result.scored_here,
        "resumed_from": result.resumed,
        "undefined": sum(r.undefined for r in result.records),
        "duplicates_proposed": result.duplicates,
        "stopped_early": result.stopped_early,
        "storage": redact(store.url or "memory"),
        "study_name": store.study.study_name,
        "pool": cfg.search.get("pool", "all"),
        "n_workers": n_workers,
        "failed_workers": failed_workers,
        "best": best[0] if best else None,
        "score_stats": _stats(finite),
        "seconds_total": elapsed,
        "seconds_per_arch_median": statistics.median(seconds) if seconds else None,
        "config": OmegaConf.to_container(cfg, resolve=True),
    }
    if len(parts.objectives) > 1:
        front = pareto_front(result.records, parts.objectives)
        write_json(run_dir / PARETO_FILE, front)
        summary["objectives"] = [{"metric": k, "higher_is_better": hib} for k, hib in parts.objectives]
        summary["pareto_front_size"] = len(front)
    write_json(run_dir / SUMMARY_FILE, summary)
    report = write_report(run_dir, space=space, progress=cfg.search.get("progress"))
    tracker.finish(summary, best, run_dir)
    if best:
        print(
            f"tfnas: best {best[0]['hash']} {metric.key}={best[0]['score']:.6g} "
            f"({len(result.records)} scored, {summary['undefined']} undefined) report: {report}",
            flush=True,
        )
    return summary


def shortlist(space, top) -> list[dict]:
    """best.json entries of the top records, with the benchmark's trained result where it has one."""
    bench = space.benchmark()
    best = []
    for i, r in enumerate(top):
        arch = space.from_json(r.arch)
        entry = {"rank": i + 1, "hash": r.hash, "score": r.score, "undefined": r.undefined, "arch": r.arch, **space.describe(arch)}
        trained = bench.query(arch) if bench is not None else None
        if trained is not None:
            entry["benchmark"] = trained
        best.append(entry)
    return best


def pareto_front(records, objectives: list[tuple[str, bool]]) -> list[dict]:
    """The evaluations no other evaluation beats on every objective (ties kept), sorted by the first."""
    points = [[(1.0 if hib else -1.0) * r.metrics[k] for k, hib in objectives] for r in records]
    front = []
    for i, p in enumerate(points):
        dominated = any(
            all(q[j] >= p[j] for j in range(len(p))) and any(q[j] > p[j] for j in range(len(p)))
            for q in points
        )
        if not dominated and all(math.isfinite(v) for v in p):
            r = records[i]
            front.append({"hash": r.hash, **{k: r.metrics[k] for k, _ in objectives}, "arch": r.arch})
    key, hib = objectives[0]
    return sorted(front, key=lambda e: e[key], reverse=hib)


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
    }
