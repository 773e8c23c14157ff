"""Turn a Hydra config into a search run: a short sequence of named steps.

settings -> parts -> workers + search -> shortlist (+ training stage) -> summary -> report.
Every evaluation is stored first in the search's Optuna study (search.storage; a SQLite file
in the run directory by default), so running again on the same study resumes the search.
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from tfnas.build import build, build_parts, heartbeat_settings, resolve_device
from tfnas.executors import make_executor
from tfnas.report import write_report
from tfnas.run_lock import RunDirLock
from tfnas.results import BEST_FILE, SUMMARY_FILE, ResultsWriter, protect_results, rewrite_results, write_json
from tfnas.redacted_output import learn_config_secrets
from tfnas.redaction import redact as redact_config
from tfnas.store import redact
from tfnas.threads import resolve_threads
from tfnas import validate
from tfnas.candidates import ranked_entries
from tfnas.store.trained import TrainedResults
from tfnas.summary import pareto_front, summarize
from tfnas.tracking import NoTracker, Trackers
from tfnas.training import NoTraining, StageContext
from tfnas.search_loop import INTERRUPTED
from tfnas.workers import worker_index

log = logging.getLogger("tfnas")

PARETO_FILE = "pareto.json"


@dataclass
class Settings:
    """The run-wide values, validated before anything is written."""

    budget: int
    n_workers: int
    device: torch.device
    threads: int = 1
    executor: Any = None  # where the workers run (search.executor), connected and checked


def read_settings(cfg: DictConfig) -> Settings:
    budget = validate.positive_int(cfg.search.budget, "search.budget", "a positive integer (number of architectures to score)")
    n_workers = validate.positive_int(cfg.search.get("n_workers", 1), "search.n_workers",
                                      "a positive integer (processes sharing the study)")
    validate.run_values(cfg)
    validate.seed(cfg.seed + worker_index(cfg, n_workers - 1), "seed")  # each worker seeds its sampler with seed + its index
    local = n_workers if cfg.search.get("executor", "local") == "local" else 1  # ray: the actors may run elsewhere
    threads = resolve_threads(cfg.search.get("threads"), n_workers, local)
    device = resolve_device(cfg.device)
    heartbeat_settings(cfg)
    return Settings(budget, n_workers, device, threads, make_executor(cfg, n_workers, threads))


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Run the search described by `cfg`, writing results.csv, best.json, summary.json and report.md into `run_dir`."""
    learn_config_secrets(cfg)  # masked in every later message, whatever form a library prints them in
    lock = RunDirLock(run_dir)
    lock.refuse_if_live()  # a search still running there: refused before anything is checked further or written
    settings = read_settings(cfg)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _run(cfg, run_dir, settings, lock)
    finally:
        lock.release()
        torch.set_num_threads(previous_threads)


def _run(cfg: DictConfig, run_dir: Path, settings: Settings, lock: RunDirLock) -> dict:
    stage = build(cfg.train, "train") if cfg.get("train") else NoTraining()
    tracker = build(cfg.tracking, "tracking") if cfg.get("tracking") else NoTracker()  # refused before the store opens
    parts = build_parts(cfg, run_dir, settings.device, worker_index(cfg, 0), stage=stage)
    lock.acquire()  # the run directory exists now (build_parts made it after every check)
    protect_results(run_dir, {r.hash for r in parts.store.records()}, cfg.search.get("overwrite", False),
                    f"study {parts.store.study.study_name!r} in {redact(parts.store.url or 'memory')}")
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

    best, guard = train_shortlist(cfg, parts, result.records, stage, run_dir, settings.device, tracker)
    write_json(run_dir / BEST_FILE, best)
    summary = summarize(cfg, parts, result, best, settings.device, settings.n_workers, failed_workers, elapsed)
    summary["threads"] = settings.threads
    summary["predictor"] = parts.predictor.name
    summary["guard"] = guard
    if len(parts.objectives) > 1:
        front = pareto_front(parts.store, result.records, parts.objectives)
        write_json(run_dir / PARETO_FILE, front)
        summary["objectives"] = [{"metric": k, "higher_is_better": hib} for k, hib in parts.objectives]
        summary["pareto_front_size"] = len(front)
    write_json(run_dir / SUMMARY_FILE, summary)
    report = None
    if cfg.search.get("report", True):
        report = write_report(run_dir, space=parts.space, progress=cfg.search.get("progress"))
    tracker.finish(summary, best, run_dir)
    if best:
        print(
            f"tfnas: best {best[0]['hash']} {parts.metric.key}={best[0]['score']:.6g} "
            f"({len(result.records)} scored, {summary['undefined']} undefined) "
            + (f"report: {report}" if report else f"report: skipped (python -m tfnas.report {run_dir} writes it)"),
            flush=True,
        )
    return summary


def train_shortlist(cfg: DictConfig, parts, records, stage, run_dir: Path, device, tracker) -> tuple[list[dict], dict]:
    """The candidates in the predictor's order (the guard's set-aside ones last), through the training stage.
    Returns best.json's entries and the guard's account (how many it set aside, and why)."""
    ranked, guard = ranked_entries(parts.space, records, parts.predictor)
    if guard["set_aside"]:
        print(f"tfnas: guard: {guard['set_aside']} of {len(records)} candidates set aside (ranked after every other): "
              + "; ".join(f"{n} {why}" for why, n in guard["reasons"].items()), flush=True)
    trackers = Trackers(tracker, trained := TrainedResults(parts.store, parts.space))
    context = StageContext(records, parts.predictor, trained, cfg.search.top_k)
    return stage.run(parts.space, ranked, run_dir, device, cfg.seed, trackers, context), guard


def announce(cfg: DictConfig, parts, settings: Settings, run_dir: Path, tracker) -> None:
    """Start the tracker and print the one line that says what runs where."""
    info = {"space": parts.space.name, "strategy": parts.strategy.name, "metric": parts.metric.key,
            "higher_is_better": parts.metric.higher_is_better, "budget": settings.budget, "device": str(settings.device)}
    tracker.start(redact_config(OmegaConf.to_container(cfg, resolve=True)), run_dir, info)
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
    executor = settings.executor
    workers = executor.start(cfg, parts, run_dir)  # local: processes; ray: actors
    result = None
    try:
        with ResultsWriter(run_dir, parts.scorer.keys) as writer:
            result = executor.search(parts, cfg, on_record, cfg.search.get("progress"))
    finally:  # an interrupted main process (Ctrl-C, SIGINT to its pid) stops its workers too
        failed_workers = executor.join(workers, interrupted=result is None or result.stopped_early == INTERRUPTED)
    if failed_workers:
        log.warning("worker(s) %s stopped with an error; their finished evaluations are kept", ", ".join(failed_workers))
    result.records = parts.store.records()
    rewrite_results(run_dir, parts.scorer.keys, result.records)
    if result.stopped_early == INTERRUPTED:
        print(f"tfnas: interrupted: {result.scored_here} architecture(s) scored by this process, "
              f"{len(result.records)} in the study, all saved", file=sys.stderr, flush=True)
    return result, failed_workers
