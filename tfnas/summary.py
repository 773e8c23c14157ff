"""What a finished search writes about itself: the shortlist, summary.json and the Pareto front."""
from __future__ import annotations

import math
import statistics

from omegaconf import DictConfig, OmegaConf

from tfnas.redaction import redact


def summarize(cfg: DictConfig, parts, result, best: list[dict], device, n_workers: int, failed_workers: list[str], elapsed: float) -> dict:
    """summary.json: counts, the best architecture, score statistics, timings and the resolved config."""
    records = result.records
    seconds = [r.seconds for r in records]
    finite = [r.score for r in records if math.isfinite(r.score)]
    summary = {
        "space": parts.space.name,
        "strategy": parts.strategy.name,
        "metric": parts.metric.key,
        "higher_is_better": parts.metric.higher_is_better,
        "seed": cfg.seed,
        "device": str(device),
        "budget": cfg.search.budget,
        "evaluated": len(records),
        "evaluated_this_run": result.scored_here,
        "resumed_from": result.resumed,
        "undefined": sum(r.undefined for r in records),
        "duplicates_proposed": result.duplicates,
        "stopped_early": result.stopped_early,
        "storage": redact(parts.store.url or "memory"),
        "study_name": parts.store.study.study_name,
        "pool": cfg.search.get("pool", "all"),
        "n_workers": n_workers,
        "failed_workers": failed_workers,
        "best": best[0] if best else None,
        "score_stats": _stats(finite),
        "seconds_total": elapsed,
        "seconds_per_arch_median": statistics.median(seconds) if seconds else None,
        "config": redact(OmegaConf.to_container(cfg, resolve=True)),
    }
    return summary


def pareto_front(store, records, objectives: list[tuple[str, bool]]) -> list[dict]:
    """The evaluations no other evaluation beats on every objective (ties kept), sorted by the first: the
    study's own Pareto front (Optuna's `study.best_trials`, through the store), in pareto.json's form."""
    front_numbers = store.pareto_numbers()
    front = [
        {"hash": r.hash, **{k: r.metrics[k] for k, _ in objectives}, "arch": r.arch}
        for r in records
        if r.index in front_numbers and all(math.isfinite(r.metrics[k]) for k, _ in objectives)
    ]
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
