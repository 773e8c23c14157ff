"""Turn a Hydra config into a search run: a short sequence of named steps.

settings -> parts -> workers + search -> shortlist (+ training stage) -> summary -> report.
Every evaluation is stored first in the search's Optuna study (search.storage; a SQLite file
in the run directory by default), so running again on the same study resumes the search.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from tfnas.build import build, build_parts, resolve_device
from tfnas.errors import ConfigError
from tfnas.report import write_report
from tfnas.results import BEST_FILE, SUMMARY_FILE, ResultsWriter, rewrite_results, write_json
from tfnas.storage import redact
from tfnas.summary import pareto_front, shortlist, summarize
from tfnas.tracking import NoTracker, Trackers
from tfnas.trained_study import TrainedResults
from tfnas.training import NoTraining
from tfnas.workers import join_workers, search, start_workers, worker_index

log = logging.getLogger("tfnas")

PARETO_FILE = "pareto.json"


@dataclass
class Settings:
    """The run-wide values, validated before anything is written."""

    budget: int
    n_workers: int
    device: torch.device


def read_settings(cfg: DictConfig) -> Settings:
    budget = cfg.search.budget
    if not isinstance(budget, int) or isinstance(budget, bool) or budget <= 0:
        raise ConfigError("search.budget", f"must be a positive integer (number of architectures to score), got {budget!r}")
    n_workers = cfg.search.get("n_workers", 1)
    if not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 1:
        raise ConfigError("search.n_workers", f"must be a positive integer (processes sharing the study), got {n_workers!r}")
    return Settings(budget, n_workers, resolve_device(cfg.device))


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Run the search described by `cfg`, writing results.csv, best.json, summary.json and report.md into `run_dir`."""
    settings = read_settings(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    parts = build_parts(cfg, run_dir, settings.device, worker_index(cfg, 0))
    tracker = build(cfg.tracking, "tracking") if cfg.get("tracking") else NoTracker()
    stage = build(cfg.train, "train") if cfg.get("train") else NoTraining()
    announce(cfg, parts, settings, run_dir, tracker)
    try:
        return finish_run(cfg, parts, settings, run_dir, tracker, stage)
    except BaseException as err:  # the tracker ends its run as failed (W&B: exit code 1), then the error goes on
        tracker.fail(err)
        raise


def finish_run(cfg: DictConfig, parts, settings: Settings, run_dir: Path, tracker, stage) -> dict:
    """Search, shortlist (+ training stage), summary, report; the tracker hears about each step."""
    start = time.perf_counter()
    result, failed_workers = search_with_workers(cfg, parts, settings, run_dir, tracker)
    elapsed = time.perf_counter() - start

    best = shortlist(parts.space, result.records, cfg.search.top_k, parts.metric.higher_is_better)
    best = stage.run(parts.space, best, run_dir, settings.device, cfg.seed, Trackers(tracker, TrainedResults(parts.store, parts.space)))
    write_json(run_dir / BEST_FILE, best)
    summary = summarize(cfg, parts, result, best, settings.device, settings.n_workers, failed_workers, elapsed)
    if len(parts.objectives) > 1:
        front = pareto_front(result.records, parts.objectives)
        write_json(run_dir / PARETO_FILE, front)
        summary["objectives"] = [{"metric": k, "higher_is_better": hib} for k, hib in parts.objectives]
        summary["pareto_front_size"] = len(front)
    write_json(run_dir / SUMMARY_FILE, summary)
    report = write_report(run_dir, space=parts.space, progress=cfg.search.get("progress"))
    tracker.finish(summary, best, run_dir)
    if best:
        print(
            f"tfnas: best {best[0]['hash']} {parts.metric.key}={best[0]['score']:.6g} "
            f"({len(result.records)} scored, {summary['undefined']} undefined) report: {report}",
            flush=True,
        )
    return summary


def announce(cfg: DictConfig, parts, settings: Settings, run_dir: Path, tracker) -> None:
    """Start the tracker and print the one line that says what runs where."""
    info = {"space": parts.space.name, "strategy": parts.strategy.name, "metric": parts.metric.key,
            "higher_is_better": parts.metric.higher_is_better, "budget": settings.budget, "device": str(settings.device)}
    tracker.start(OmegaConf.to_container(cfg, resolve=True), run_dir, info)
    print(
        f"tfnas: space={parts.space.name} strategy={parts.strategy.name} metric={parts.metric.key} budget={settings.budget} "
        f"device={settings.device} run_dir={run_dir} storage={redact(parts.store.url or 'memory')}",
        flush=True,
    )


def search_with_workers(cfg: DictConfig, parts, settings: Settings, run_dir: Path, tracker):
    """Stream results.csv from the study (the source of truth, so a resumed run starts from what it holds),
    run this process's search beside the other workers, and re-read everything they stored."""
    metric = parts.metric
    best_so_far = [metric.worst]
    better = max if metric.higher_is_better else min

    def on_record(record) -> None:
        writer.write(record)
        best_so_far[0] = better(best_so_far[0], record.score)
        tracker.log_record(record, best_so_far[0])

    rewrite_results(run_dir, parts.scorer.keys, parts.store.records())
    workers = start_workers(cfg, run_dir, settings.n_workers)
    try:
        with ResultsWriter(run_dir, parts.scorer.keys) as writer:
            result = search(parts, cfg, on_record, cfg.search.get("progress"))
    finally:
        failed_workers = join_workers(workers)
    if failed_workers:
        log.warning("worker(s) %s stopped with an error; their finished evaluations are kept", ", ".join(failed_workers))
    result.records = parts.store.records()
    rewrite_results(run_dir, parts.scorer.keys, result.records)
    return result, failed_workers
