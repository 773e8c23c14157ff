"""Turn a Hydra config into a search run: build the parts, check them, run, write the outputs."""
from __future__ import annotations

import logging
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from tfnas.errors import ConfigError
from tfnas.metrics.scoring import Scorer
from tfnas.report import write_report
from tfnas.results import BEST_FILE, SUMMARY_FILE, ResultsWriter, write_json
from tfnas.search_loop import run_search
from tfnas.tracking import NoTracker
from tfnas.training import NoTraining

log = logging.getLogger("tfnas")


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
    """Instantiate a `_target_` config group, turning Hydra's errors into one that names the group."""
    if node is None or "_target_" not in node:
        raise ConfigError(field, f"missing config group {field!r} with a _target_ (choose one with {field}=NAME)")
    try:
        return instantiate(node, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, ConfigError):
            raise cause from None
        raise ConfigError(field, f"could not build {node._target_}: {cause or err}") from None


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Run the search described by `cfg`, writing results.csv, best.json and summary.json into `run_dir`."""
    budget = cfg.search.budget
    if not isinstance(budget, int) or budget <= 0:
        raise ConfigError("search.budget", f"must be a positive integer (number of architectures to score), got {budget!r}")
    device = resolve_device(cfg.device)
    space = build(cfg.space, "space")
    metric = build(cfg.metric, "metric")
    metric.check_space(space.name)
    strategy = build(cfg.strategy, "strategy")
    strategy.bind(space, np.random.default_rng(cfg.seed))
    scorer = Scorer(space, [metric], device=device, seed=cfg.seed)
    tracker = build(cfg.tracking, "tracking") if cfg.get("tracking") else NoTracker()
    stage = build(cfg.train, "train") if cfg.get("train") else NoTraining()

    run_dir.mkdir(parents=True, exist_ok=True)
    info = {"space": space.name, "strategy": strategy.name, "metric": metric.key, "budget": budget, "device": str(device)}
    tracker.start(OmegaConf.to_container(cfg, resolve=True), run_dir, info)
    print(
        f"tfnas: space={space.name} strategy={strategy.name} metric={metric.key} budget={budget} "
        f"device={device} run_dir={run_dir}",
        flush=True,
    )
    start = time.perf_counter()
    best_so_far = [metric.worst]
    better = max if metric.higher_is_better else min

    def on_record(record) -> None:
        writer.write(record)
        best_so_far[0] = better(best_so_far[0], record.score)
        tracker.log_record(record, best_so_far[0])

    with ResultsWriter(run_dir, scorer.keys) as writer:
        result = run_search(
            space,
            strategy,
            scorer,
            metric.key,
            metric.higher_is_better,
            budget,
            on_record=on_record,
            progress=cfg.search.get("progress"),
        )
    elapsed = time.perf_counter() - start

    top = result.best(cfg.search.top_k, metric.higher_is_better)
    best = [
        {"rank": i + 1, "hash": r.hash, "score": r.score, "undefined": r.undefined, "arch": r.arch, **space.describe(space.from_json(r.arch))}
        for i, r in enumerate(top)
    ]
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
        "undefined": sum(r.undefined for r in result.records),
        "duplicates_proposed": result.duplicates,
        "stopped_early": result.stopped_early,
        "best": best[0] if best else None,
        "score_stats": _stats(finite),
        "seconds_total": elapsed,
        "seconds_per_arch_median": statistics.median(seconds) if seconds else None,
        "config": OmegaConf.to_container(cfg, resolve=True),
    }
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


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
    }
