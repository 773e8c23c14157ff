"""Measured search quality at equal cost: strategies in benchmark mode, built with the app's own builder.

Each search is composed from the Hydra configs exactly as `search.py` would build it
(`tfnas.build.build_parts`, search.pool=benchmark, in-memory study), except that the Scorer looks
up cached metric values of the pool (tfnas/experiments/compare_setup.py). A search's cost is
counted twice: proxy evaluations (search.budget) and trainings (benchmark queries, k). For each k,
a search's result is the true target of the best of the first k architectures it trains:

* single-metric searches (strategy=random or evolution with one metric) train their k best by the
  metric, as the app ranks them (predictor=score, the space's guard);
* the ensemble (strategy=ensemble: predictor=ensemble, train=benchmark train.budget=k) trains one
  at a time, each chosen by the refitted ensemble; its first k trainings do not depend on the
  budget, so one run with the largest k gives every smaller k;
* `-> halving`: the metric's ranking through train=halving (Optuna's SuccessiveHalvingPruner)
  replayed on recorded short-training curves, the benchmark then training them in its final order;
* random trainings: k architectures drawn from the pool and trained, no proxy.

The comparison on a compute axis (every pipeline charged in training steps) is compare_compute.py.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from tfnas.app import train_shortlist
from tfnas.build import build, build_parts
from tfnas.candidates import rank_candidates
from tfnas.errors import ConfigError
from tfnas.experiments.compare_setup import SpaceSetup, compose_config, fresh_pool, quartiles, read_curves, setup_space
from tfnas.experiments.compare_report import markdown, plot, whole_pool_picks
from tfnas.tracking import NoTracker
from tfnas.training.curves import RecordedCurves
from tfnas.workers import search as run_search


@dataclass
class Pipeline:
    """One row of the comparison: a strategy and its search metric, plus Hydra overrides."""

    strategy: str
    metric: str
    overrides: list[str] = field(default_factory=list)
    halving: bool = False  # the metric's ranking goes through train=halving on recorded short-training curves

    @property
    def label(self) -> str:
        if self.strategy == "ensemble":
            return "ensemble" if self.metric == "ensemble" else f"ensemble, evolution on {self.metric}"
        return f"{self.strategy} / {self.metric}" + (" -> halving" if self.halving else "")

    @property
    def train(self) -> str:
        return "halving" if self.halving else "benchmark"

    @property
    def trains_itself(self) -> bool:
        return self.strategy == "ensemble"


@dataclass
class HalvingReplay:
    """train=halving (its config, with the comparison's top_k / rungs) replayed on recorded curves."""

    stage: Any
    curves: RecordedCurves

    @property
    def missing(self) -> set[str]:
        """Every architecture the stage reached without a recorded curve (the curves keep the list)."""
        return self.curves.missing

    def order(self, ranked: Sequence[str]) -> list[str]:
        """A ranking with its entrants reordered as train=halving ranks them (the rest keep their order)."""
        schedule = self.stage.schedule(list(ranked), self.curves)
        done = sorted(schedule.outcomes.values(), key=lambda o: o.rank_key())
        head = [o.key for o in done]
        return head + [h for h in ranked if h not in schedule.outcomes]


def halving_replay(setup: SpaceSetup, paths: Sequence[Path], top_k: int | None, steps: tuple[int, int] | None) -> HalvingReplay:
    """The halving row's stage (conf/train/halving.yaml, overridden by --halving-top-k / --halving-steps) and curves;
    refuses curves that lack its rungs, naming the command that records them."""
    overrides = [*setup.base, "train=halving"] + ([f"train.top_k={top_k}"] if top_k else [])
    if steps is not None:
        overrides += [f"train.pruner.min_resource={steps[0]}", f"train.max_steps={steps[1]}"]
    try:
        stage = build(compose_config(overrides).train, "train")
    except ConfigError as err:
        raise ConfigError("--halving-steps" if "steps" in err.field or "resource" in err.field else "--halving-top-k",
                          err.message) from None
    losses, note = read_curves(paths, setup)
    curves = RecordedCurves(losses, note)
    rungs = list(stage.plan().rungs)
    if not set(rungs) <= set(curves.steps):
        raise ConfigError("--training-curves", f"the curves record steps {curves.steps}, which lack the rungs {rungs} of "
                          f"train=halving; record them with tfnas validate-training --space {setup.name} --min-steps {rungs[0]} "
                          f"--max-steps {rungs[-1]} --eta {stage.eta}, or replay the recorded ones with --halving-steps "
                          f"{curves.steps[0]},{curves.steps[-1]}")
    return HalvingReplay(stage, curves)


def run_pipeline(setup: SpaceSetup, pipe: Pipeline, seed: int, budget: int, trainings: int) -> dict[str, Any]:
    """One search; returns the hashes it trained (in order), its records, its predictor and the pool."""
    overrides = [*setup.base, f"strategy={pipe.strategy}", f"seed={seed}", f"search.budget={budget}", *pipe.overrides]
    if pipe.trains_itself:
        overrides += ["train=benchmark", f"train.budget={trainings}"]
    if pipe.metric != "ensemble":
        overrides += [f"metric={pipe.metric}"]
    cfg = compose_config(overrides)
    pool = fresh_pool(setup.pool)
    with tempfile.TemporaryDirectory() as tmp:
        parts = build_parts(cfg, Path(tmp), torch.device("cpu"), space=pool, scorer_cls=setup.cache.scorer_cls())
        setup.cache.ensure(pool.archs, parts.scorer.metrics)
        records = run_search(parts, cfg, None, False).records
        if pipe.trains_itself:
            stage = build(cfg.train, "train")
            best, _ = train_shortlist(cfg, parts, records, stage, Path(tmp), "cpu", NoTracker())
            trained = [e["hash"] for e in sorted((e for e in best if "train_order" in e), key=lambda e: e["train_order"])]
        else:
            trained = trained_order(setup, pipe, pool, records, parts.predictor)[:trainings]
    return {"trained": trained, "records": records, "predictor": parts.predictor,
            "pool": pool}


def trained_order(setup: SpaceSetup, pipe: Pipeline, pool, records, predictor) -> list[str]:
    """A single-metric search's trainings: the app's ranking (predictor, guard), through halving for `-> halving`."""
    order, _ = rank_candidates(pool, records, predictor)
    ranked = [records[i].hash for i in order]
    return setup.curves.order(ranked) if pipe.halving else ranked


def best_of(hashes: Sequence[str], truth: dict, hib: bool) -> float:
    values = [truth[h] for h in hashes]
    return max(values) if hib else min(values)


def random_trainings(truth: dict, hib: bool, ks: Sequence[int], draws: int = 4000, seed: int = 12345) -> dict[int, dict]:
    rng = np.random.default_rng(seed)
    t = np.array(list(truth.values()))
    out = {}
    for k in ks:
        picks = np.array([rng.choice(len(t), size=k, replace=False) for _ in range(draws)])
        best = t[picks].max(axis=1) if hib else t[picks].min(axis=1)
        out[k] = quartiles(best)
    return out


def compare_space(setup: SpaceSetup, pipes: list[Pipeline], seeds: int, budget: int, ks: Sequence[int],
                  checkpoints: Sequence[int], log=print, first_seed: int = 0) -> dict[str, Any]:
    """Every pipeline over `seeds` seeds: best-of-k at the full budget, and the pick vs proxy evaluations."""
    from tqdm.auto import tqdm

    hib, truth, kmax = setup.higher_is_better, setup.truth, max(ks)
    rows = []
    bar = tqdm(total=len(pipes) * seeds, desc=f"compare {setup.name}", unit="run", disable=None)
    for pipe in pipes:
        start = time.perf_counter()
        by_k = {k: [] for k in ks}
        curve = {n: {1: [], kmax: []} for n in checkpoints}
        bar.set_postfix_str(pipe.label, refresh=False)
        for seed in range(first_seed, first_seed + seeds):
            out = run_pipeline(setup, pipe, seed, budget, kmax)
            for k in ks:
                by_k[k].append(best_of(out["trained"][:k], truth, hib))
            for n in checkpoints:  # the pick with fewer proxy evaluations: the same seed's search, stopped earlier
                if n == budget:
                    trained = out["trained"]
                elif pipe.trains_itself:
                    trained = run_pipeline(setup, pipe, seed, n, kmax)["trained"]
                else:
                    trained = trained_order(setup, pipe, out["pool"], out["records"][:n], out["predictor"])
                for k in (1, kmax):
                    curve[n][k].append(best_of(trained[:k], truth, hib))
            bar.update()
        row = {"strategy": pipe.strategy, "metric": pipe.metric, "train": pipe.train, "label": pipe.label,
               "top_k": {str(k): quartiles(v) for k, v in by_k.items()},
               "by_evals": {str(n): {str(k): quartiles(v) for k, v in c.items()} for n, c in curve.items()},
               "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        log(f"  {setup.name} {pipe.label}: " + ", ".join(f"k={k} {row['top_k'][str(k)]['median']:.4f}" for k in ks)
            + f" ({row['seconds']} s)")
    bar.close()
    return {"rows": rows, "random_trainings": {str(k): v for k, v in random_trainings(truth, hib, ks).items()},
            "whole_pool": whole_pool_picks(setup, ks)}


def default_pipelines(setup: SpaceSetup, halving: bool = False, halving_metrics: Sequence[str] = ()) -> list[Pipeline]:
    """Random trainings are added separately; here: every single metric of the ensemble's suite (strategy=random, so
    the proposals are the same draws), evolution with the space's default metric, the ensemble (random and
    evolution proposals) and, with recorded curves, train=halving over each of `halving_metrics`' rankings."""
    from tfnas.experiments.compare_compute import default_metric

    metrics = list(compose_config([*setup.base, "predictor=ensemble"]).predictor.metrics[setup.name])
    default_name = default_metric(setup, metrics)
    return ([Pipeline("random", m) for m in metrics] + [Pipeline("evolution", default_name)] + [Pipeline("ensemble", "ensemble")]
            + [Pipeline("ensemble", default_name, ["strategy.proposals=evolution"])]
            + ([Pipeline("random", m, halving=True) for m in (halving_metrics or [default_name])] if halving else []))


def refuse_missing_curves(setup: SpaceSetup, replay: HalvingReplay, out: Path) -> None:
    """After the searches: list every architecture the stage reached without a curve, and say how to record them."""
    ids = dict(zip(setup.pool.hashes, setup.pool.ids))
    missing = sorted((str(ids[h]) for h in replay.missing), key=lambda i: (len(i), i))
    listing = out / f"{setup.name}_missing_curves.txt"
    listing.write_text(",".join(missing) + "\n")
    rungs = list(replay.stage.plan().rungs)
    raise ConfigError("--training-curves", f"{len(missing)} architectures that train=halving reaches have no recorded curve "
                      f"(ids in {listing}); record them with tfnas validate-training --space {setup.name} "
                      f"--ids $(cat {listing}) --min-steps {rungs[0]} --max-steps {rungs[-1]} --eta {replay.stage.eta} --out DIR "
                      "with the same seed and training flags as the other curves, then add DIR/validate_training.csv to "
                      "--training-curves; no report was written")


def compare(spaces: Sequence[str], seeds: int, budget: int, ks: Sequence[int], out: Path, labels: str | None = None,
            higher_is_better: bool = False, cache_dir: Path | None = None, pipelines: str | None = None,
            extra: Sequence[str] = (), training_curves: Sequence[Path] = (), halving_top_k: int | None = None,
            halving_steps: tuple[int, int] | None = None, halving_metrics: Sequence[str] = ()) -> dict[str, Any]:
    """Run the equal-cost comparison for every space; write <out>/<space>.md, _detail.json and .png; return the results."""
    from tfnas.config import group_options
    from tfnas.experiments.compare_compute import curves_for

    unknown = [m for m in halving_metrics if m not in group_options("metric")]
    if unknown:
        raise ConfigError("--halving-metric", f"{', '.join(unknown)}: not a metric config (conf/metric/*.yaml; "
                          "`tfnas search --help` lists them)")
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    checkpoints = sorted({n for n in (10, 25, 50, 100, budget) if n <= budget})
    results = {}
    for name in spaces:
        setup = setup_space(name, labels, higher_is_better, cache_dir, extra)
        files = curves_for(setup, training_curves)
        if files:
            setup.curves = halving_replay(setup, files, halving_top_k, halving_steps)
        pipes = default_pipelines(setup, halving=setup.curves is not None, halving_metrics=halving_metrics)
        if pipelines:
            wanted = set(pipelines.split(","))
            pipes = [p for p in pipes if wanted & {p.label, p.strategy, p.metric, p.train}]
        n = min(budget, len(setup.pool))
        marks = [c for c in checkpoints if c <= n]
        result = compare_space(setup, pipes, seeds, n, ks, marks)
        if setup.curves is not None and setup.curves.missing:
            refuse_missing_curves(setup, setup.curves, out)
        (out / f"{name}.md").write_text(markdown(setup, result, seeds, n, ks, marks))
        (out / f"{name}_detail.json").write_text(json.dumps(result, indent=1))
        plot(setup, result, ks, marks, out / f"{name}.png")
        print((out / f"{name}.md").read_text(), flush=True)
        results[name] = result
    return results

