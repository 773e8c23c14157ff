"""Measured search quality at equal cost: strategies in benchmark mode, built with the app's own builder.

Each search is composed from the Hydra configs exactly as `search.py` would build it
(`tfnas.app.build_parts`, search.pool=benchmark, in-memory study), except that the Scorer looks
up cached metric values of the pool (computed at the space's default settings by
scripts/reproduce_rnn.py / reproduce_bert.py, or computed here once and cached for
architectures those tables lack). A search's cost is counted twice: proxy evaluations
(search.budget) and trainings (benchmark queries, k). For each k, a search's result is the true
target of the best of the first k architectures it trains:

* single-metric searches (strategy=random or evolution with one metric) train their k best by the metric;
* strategy=ensemble spends train.budget=k trainings (tfnas/ensemble.py); its first k trainings do
  not depend on the budget, so one run with the largest k gives every smaller k;
* random trainings: k architectures drawn from the pool and trained, no proxy.

Reported: medians and interquartile ranges over seeds, the pick (k = 1 and 10) against the
number of proxy evaluations, a markdown table, PNG curves and the JSON of issue 13.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from tfnas.pool import benchmark_pool
from tfnas.experiments.pool_scoring import EXTRA_COLUMNS
from tfnas.build import build, build_parts
from tfnas.workers import search as _search
from tfnas.labels import known_architectures
from tfnas.metrics.scoring import Evaluation, Scorer
from tfnas.tracking import NoTracker
from tfnas.experiments.training_validation import halving_order, read_curves_csv, recorded_settings

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
# metric tables of the labelled pools at the spaces' default settings (id column, one column per metric
# key): the paper's metrics, then the zero-cost proxy zoo; an earlier table wins a column both hold
METRIC_TABLES = {"rnn": [(ROOT / "results" / "rnn" / "all_metrics.csv", "model_id"),
                         (ROOT / "results" / "rnn" / "zoo_metrics.csv", "model_id"),
                         (ROOT / "results" / "rnn" / "guard_metrics.csv", "model_id")],  # strategy=ensemble's guard
                 "bert": [(ROOT / "results" / "bert" / "bert_metrics_fast.csv", "id"),
                          (ROOT / "results" / "bert" / "zoo_metrics_fast.csv", "id")]}
# What the README recommends per space, as (strategy, metric) of a row: `python search.py space=S`
# with the README's flags runs exactly this pipeline.
RECOMMENDED = {"rnn": ("ensemble", "ensemble"), "bert": ("evolution", "head_confidence")}


def compose_config(overrides: Sequence[str]) -> DictConfig:
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides))


class MetricCache:
    """hash -> {metric key: value} for a space's architectures: the shipped tables, then computed once and cached."""

    def __init__(self, space, cache_dir: Path):
        self.space = space
        self.values: dict[str, dict[str, float]] = {}
        tables = [(path, id_column) for path, id_column in METRIC_TABLES.get(space.name, []) if path.exists()]
        known = known_architectures(space) if tables else {}
        for path, id_column in tables:
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    arch = known.get(str(row[id_column]))
                    if arch is None:
                        continue
                    stored = self.values.setdefault(space.hash(arch), {})
                    for k, v in row.items():
                        if k != id_column and k not in EXTRA_COLUMNS and k not in stored and _is_number(v):
                            stored[k] = float(v)
        self.path = cache_dir / f"{space.name}_computed.json"
        if self.path.exists():
            for key, vals in json.loads(self.path.read_text()).items():
                known_values = self.values.setdefault(key, {})
                known_values.update({k: v for k, v in vals.items() if k not in known_values})  # the tables win

    def ensure(self, archs: list, metrics: list) -> None:
        """Compute (once, on the CPU, at the space's settings) whatever the tables lack for these architectures."""
        lacking = lambda a, m: m.key not in self.values.get(self.space.hash(a), {})  # noqa: E731
        metrics = [m for m in metrics if any(lacking(a, m) for a in archs)]
        missing = [a for a in archs if any(lacking(a, m) for m in metrics)]
        if not missing:
            return
        print(f"  computing {[m.key for m in metrics]} for {len(missing)} architecture(s) missing from the tables", flush=True)
        scorer = Scorer(self.space, metrics, seed=0)
        for arch in missing:
            self.values.setdefault(self.space.hash(arch), {}).update(scorer(arch).scores)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.values))

    def scorer_cls(self):
        cache = self

        class CachedScorer:
            """The Scorer's interface over cached values (undefined values flagged as the real Scorer does)."""

            def __init__(self, space, metrics, device="cpu", seed=0):
                self.space, self.metrics = space, list(metrics)

            @property
            def keys(self):
                return [m.key for m in self.metrics]

            def __call__(self, arch) -> Evaluation:
                stored = cache.values[self.space.hash(arch)]
                scores, undefined = {}, []
                for m in self.metrics:
                    value = stored.get(m.key, math.nan)
                    if not math.isfinite(value):
                        undefined.append(m.key)
                        value = m.worst
                    scores[m.key] = value
                return Evaluation(scores, undefined, 0.0)

        return CachedScorer


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


@dataclass
class Pipeline:
    """One row of the comparison: a strategy and its search metric, plus Hydra overrides."""

    strategy: str
    metric: str
    overrides: list[str] = field(default_factory=list)
    halving: bool = False  # the metric's shortlist goes through successive halving on recorded short-training curves

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
class SpaceSetup:
    name: str
    base: list[str]  # Hydra overrides shared by every search of this space
    space: Any
    pool: Any
    truth: dict[str, float]
    higher_is_better: bool
    cache: MetricCache
    curves: RecordedCurves | None = None
    labels: str | None = None  # the user's labels file (--labels), None for the benchmark's own targets


@dataclass
class RecordedCurves:
    """Short-training evaluation losses by architecture hash at cumulative step budgets, read from
    scripts/validate_training.py's CSVs: what train=halving would see at each rung, recorded once per
    cell, so that halving can be replayed in every search of the comparison without training again.

    Only the architectures that enter a shortlist need a curve. One that lacks it is collected in
    `missing` (the shortlist then keeps the metric's order), so that the comparison can list every
    architecture to record after one pass instead of failing at the first."""

    paths: list[Path]
    budgets: list[int]
    losses: dict[str, list[float]]
    top_k: int
    eta: int
    note: str
    missing: set[str] = field(default_factory=set)

    def order(self, ranked: Sequence[str]) -> list[str]:
        """A metric's ranking with its first top_k reordered as successive halving ranks them (the rest keep their order)."""
        shortlist = list(ranked[:self.top_k])
        lacking = [h for h in shortlist if h not in self.losses]
        if lacking:
            self.missing.update(lacking)
            return list(ranked)
        return halving_order({h: self.losses[h] for h in shortlist}, self.budgets, self.eta) + list(ranked[self.top_k:])


def load_curves(paths: Path | Sequence[Path], space, top_k: int, eta: int,
                steps: tuple[int, int] | None = None) -> RecordedCurves:
    """Read validate_training.csv files of one space (their cells pooled; a cell in two files: the first
    file's curve); refuse, naming the file, one that lacks the halving's rungs, or files recorded with
    different training seeds or options (their losses would not be comparable).

    `steps`: (min_steps, max_steps) of the replayed halving, train=halving's own by default; None
    (tests, old callers): the first file's first and last budgets."""
    from tfnas.errors import ConfigError
    from tfnas.training.halving import plan_rungs

    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if top_k < 1:
        raise ConfigError("--halving-top-k", f"must be at least 1, got {top_k}")
    recorded = [read_curves_csv(path, field="--training-curves", benchmark=False) for path in paths]  # refuses a missing or unreadable file
    settings = [{k: recorded_settings(path).get(k) for k in ("seed", "options", "model")} for path in paths]
    for path, setting in zip(paths[1:], settings[1:]):
        if setting != settings[0]:
            raise ConfigError("--training-curves", f"{path} was recorded with {setting}, {paths[0]} with {settings[0]}; "
                              "pool only curves trained with the same seed and training flags")
    first = sorted(next(iter(recorded[0].values())))
    low, high = steps if steps is not None else (first[0], first[-1])
    if not 1 <= low <= high:
        raise ConfigError("--halving-steps", f"needs 1 <= MIN <= MAX, got {low},{high}")
    plan = [b for b, _ in plan_rungs(top_k, low, high, eta)]
    for path, curves in zip(paths, recorded):
        budgets = sorted(next(iter(curves.values())))
        if any(b not in budgets for b in plan):
            raise ConfigError("--training-curves", f"{path} records budgets {budgets}, which lack the rungs {plan} of halving "
                              f"from {low} to {high} steps with eta {eta}; record them with scripts/validate_training.py "
                              f"--space {space.name} --min-steps {low} --max-steps {high} --eta {eta}, or replay the recorded ones with "
                              f"--halving-steps {budgets[0]},{budgets[-1]}")
    known = known_architectures(space)
    losses: dict[str, list[float]] = {}
    for curves in recorded:
        for cell, curve in curves.items():
            if cell in known:
                losses.setdefault(space.hash(known[cell]), [curve[b] for b in plan])
    notes = "; ".join(f"{path.parent.name}/{path.name}{_curves_provenance(path)}" for path in paths)
    return RecordedCurves(paths, plan, losses, top_k, eta, f"{len(losses)} cells, rungs {plan} steps: {notes}")


def curves_for(space, paths: Sequence[Path]) -> list[Path]:
    """The curve files that belong to `space` (the space itself, not its --labels): those whose CSV has the
    column of its benchmark's target (benchmark_test_loss, benchmark_glue), and those without any benchmark column."""
    from tfnas.experiments.training_validation import target_column

    bench = space.benchmark()
    wanted = target_column(bench) if bench is not None else None
    chosen = []
    for path in map(Path, paths):
        header = path.open(encoding="utf-8").readline().strip().split(",") if path.exists() else []
        columns = [c for c in header if c.startswith("benchmark_")]
        if not columns or wanted in columns:  # a missing file is refused by load_curves, naming it
            chosen.append(path)
    return chosen


def refuse_missing_curves(setup: "SpaceSetup", out: Path) -> None:
    """After the searches: list every shortlisted architecture without a curve in a file, and say how to record them."""
    from tfnas.errors import ConfigError

    curves = setup.curves
    ids = dict(zip(setup.pool.hashes, setup.pool.ids))
    missing = sorted((str(ids[h]) for h in curves.missing), key=lambda i: (len(i), i))
    listing = out / f"{setup.name}_missing_curves.txt"
    listing.write_text(",".join(missing) + "\n")
    low, high = curves.budgets[0], curves.budgets[-1]
    raise ConfigError("--training-curves", f"{len(missing)} architectures that the halving shortlists reach have no recorded curve "
                      f"(ids in {listing}); record them with scripts/validate_training.py --space {setup.name} "
                      f"--ids $(cat {listing}) --min-steps {low} --max-steps {high} --eta {curves.eta} --out DIR and the same seed and "
                      f"training flags as {curves.paths[0]}, then pass --training-curves {','.join(map(str, curves.paths))},DIR/validate_training.csv; "
                      "no report was written")


def _curves_provenance(path: Path) -> str:
    """The training seed and corpus of recorded curves, from the report validate_training.py writes beside its CSV."""
    meta = recorded_settings(path)
    if not meta:
        return "; no report beside it, so its training seed and corpus are unknown"
    return f", training seed {meta.get('seed', '?')}, {meta.get('split_note', 'corpus not recorded')}"


def setup_space(name: str, labels: str | None, higher_is_better: bool, cache_dir: Path, extra: Sequence[str] = (),
                subset: tuple[int, int] | None = None) -> SpaceSetup:
    """The space and its labelled pool; `subset=(i, n)`: only the i-th of n random parts of the pool (cross-validation)."""
    base = [f"space={name}", "search.pool=benchmark", "search.storage=memory", "search.progress=false"]
    if labels:
        base += [f"space.benchmark.labels={Path(labels).resolve()}", f"space.benchmark.higher_is_better={str(higher_is_better).lower()}"]
    cfg = compose_config(base)
    base += list(extra)  # strategy or metric settings: applied to every search, not to the space
    space = build(cfg.space, "space")
    pool = benchmark_pool(space)
    if subset is not None:
        part = np.random.default_rng(2024).permutation(len(pool)) % subset[1] == subset[0]
        keep = {pool.hashes[i] for i in np.flatnonzero(part)}
        pool = pool.restrict(lambda arch: space.hash(arch) in keep)
    bench = space.benchmark()
    truth = {pool.hashes[i]: float(bench.query_id(pool.ids[i])[bench.target]) for i in range(len(pool))}
    return SpaceSetup(name, base, space, pool, truth, bench.higher_is_better,
                      MetricCache(space.inner if hasattr(space, "inner") else space, cache_dir), labels=labels)


def fresh_pool(pool):
    """A copy of the pool wrapper with no member handed out yet (each search starts clean)."""
    clone = copy.copy(pool)
    clone._used = set()
    clone._tie_rng = np.random.default_rng(0)
    return clone


def run_pipeline(setup: SpaceSetup, pipe: Pipeline, seed: int, budget: int, trainings: int) -> dict[str, Any]:
    """One search; returns the hashes it evaluated (in order) and the hashes it trained (in order)."""
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
        result = _search(parts, cfg, None, False)
        order = [r.hash for r in result.records]
        if pipe.trains_itself:
            stage = build(cfg.train, "train")
            final = parts.strategy.spend_trainings(pool, result.records, stage, Path(tmp), "cpu", seed, NoTracker(), parts.store, 10)
            trained = [e["hash"] for e in sorted((e for e in final if "train_order" in e), key=lambda e: e["train_order"])]
        else:
            sign = 1.0 if parts.metric.higher_is_better else -1.0
            ranked = [r.hash for r in sorted(result.records, key=lambda r: -sign * r.score)]
            trained = (setup.curves.order(ranked) if pipe.halving else ranked)[:trainings]
    return {"evaluated": order, "trained": trained}


def best_of(hashes: Sequence[str], truth: dict, hib: bool) -> float:
    values = [truth[h] for h in hashes]
    return max(values) if hib else min(values)


def prefix_trained(evaluated: Sequence[str], values: dict[str, float], hib_metric: bool, n: int, k: int) -> list[str]:
    seen = list(evaluated[:n])
    return sorted(seen, key=lambda h: -values[h] if hib_metric else values[h])[:k]


def quartiles(values) -> dict[str, float]:
    q1, med, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3)}


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
    # a bar with a time estimate over every (pipeline, seed) on a terminal; the per-pipeline lines stay for logs
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
            if pipe.trains_itself:
                for n in checkpoints:  # an empty list: no curve (sensitivity runs)
                    if n == budget:
                        sub = out
                    else:
                        sub = run_pipeline(setup, pipe, seed, n, kmax)
                    for k in (1, kmax):
                        curve[n][k].append(best_of(sub["trained"][:k], truth, hib))
            else:
                metric = build(compose_config([*setup.base, f"metric={pipe.metric}"]).metric, "metric")
                values = {h: setup.cache.values[h][metric.key] for h in out["evaluated"]}
                values = {h: (v if math.isfinite(v) else metric.worst) for h, v in values.items()}
                for n in checkpoints:
                    ranked = prefix_trained(out["evaluated"], values, metric.higher_is_better, n, n)
                    if pipe.halving:
                        ranked = setup.curves.order(ranked)
                    for k in (1, kmax):
                        curve[n][k].append(best_of(ranked[:k], truth, hib))
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


def whole_pool_picks(setup: SpaceSetup, ks: Sequence[int]) -> list[dict[str, Any]]:
    """What each metric of the ensemble's suite, and their equal-weight rank average (the ensemble's
    first pick), would train if it had scored the *whole* pool: the best true target among its k best.

    A diagnostic read from the labels, never used to choose a setting. A search on one metric that
    trains its k best returns exactly this once it has scored everything; it can return better
    only by missing some of the metric's favourites. So where no row reaches a target, no amount of
    searching on these proxies will, at that k.

    Two more readings of the same labels: each row's `best_rank`, where the pool's best
    architecture falls in that row's order (1 = first trained), and a last row that fits the
    suite's ranks to *all* the labels by least squares: an oracle no search has, and what
    strategy=ensemble's linear model tends to as its trainings grow. It is a reference, not a
    bound: a least-squares fit serves the whole pool, and some other weights (one metric alone,
    say) can put a better architecture first.
    """
    from tfnas.ensemble import BayesianRanker, predicted_order, prior_weights, signed_ranks

    hib, hashes = setup.higher_is_better, list(setup.pool.hashes)
    # composed with strategy=ensemble, so that --override strategy.<its option> applies as in the searches
    strategy = compose_config([*setup.base, "strategy=ensemble"]).strategy
    names = list(strategy.metrics[setup.name])
    guard_names = list(strategy.guard.get(setup.name, []) or [])
    metrics = [build(compose_config([*setup.base, "strategy=ensemble", f"metric={n}"]).metric, "metric") for n in names]
    guards = [build(compose_config([*setup.base, "strategy=ensemble", f"metric={n}"]).metric, "metric") for n in guard_names]
    setup.cache.ensure(setup.pool.archs, metrics + guards)
    values = np.array([[setup.cache.values[h].get(m.key, math.nan) for m in metrics] for h in hashes], dtype=float)
    guard_values = np.array([[setup.cache.values[h].get(m.key, math.nan) for m in guards] for h in hashes],
                            dtype=float).reshape(len(hashes), len(guards))

    truth = np.array([setup.truth[h] for h in hashes], dtype=float)
    pool_best = int(np.argmax(truth) if hib else np.argmin(truth))

    def row(label: str, order: Sequence[int]) -> dict[str, Any]:
        order = [int(i) for i in order]
        return {"label": label, "top_k": {str(k): best_of([hashes[i] for i in order[:k]], setup.truth, hib) for k in ks},
                "best_rank": order.index(pool_best) + 1}

    rows = []
    for j, metric in enumerate(metrics):
        column = np.where(np.isfinite(values[:, j]), values[:, j], metric.worst)  # undefined: the metric's worst
        rows.append(row(metric.key, np.argsort(-column if metric.higher_is_better else column, kind="stable")))
    # the ensemble's own ranking under its prior (undefined metrics: ranked worst, the candidate last)
    features = signed_ranks(values, [m.higher_is_better for m in metrics])
    healthy = np.isfinite(values).all(axis=1) & np.isfinite(guard_values).all(axis=1)  # as the strategy's guard
    rows.append(row("equal-weight rank average of these (the ensemble's first pick)",
                    predicted_order(features, BayesianRanker(prior_weights(len(metrics))), healthy)))
    rows.append(row("least-squares fit of these ranks to all the labels (an oracle: the ensemble's model told every label)",
                    oracle_order(features, truth if hib else -truth, healthy)))
    return rows


def oracle_order(features: np.ndarray, target: np.ndarray, healthy: np.ndarray) -> list[int]:
    """Candidates by a least-squares fit (with intercept) of `target` (higher is better) on the
    features over the healthy candidates, healthy ones first: what strategy=ensemble's linear
    model would rank if it had been told every label."""
    design = np.c_[features, np.ones(len(features))]
    fit = healthy if healthy.sum() > features.shape[1] else np.ones(len(features), dtype=bool)
    weights = np.linalg.lstsq(design[fit], target[fit], rcond=None)[0]
    predicted = design @ weights
    return sorted(range(len(predicted)), key=lambda i: (not healthy[i], -predicted[i]))


def default_pipelines(space_name: str, halving: bool = False, halving_metrics: Sequence[str] = ()) -> list[Pipeline]:
    """Random trainings are added separately; here: every single metric of the ensemble's suite
    (strategy=random, so the proposals are the same draws), evolution with the space's default
    metric (the pipeline issue 13 found drifting), the ensemble and, with recorded short-training
    curves, successive halving (`search.py train=halving`) over the shortlist of each of
    `halving_metrics` (default: the space's default metric)."""
    cfg = compose_config([f"space={space_name}", "strategy=ensemble"])
    metrics = list(cfg.strategy.metrics[space_name])
    default_metric = compose_config([f"space={space_name}"]).metric
    default_name = next(m for m in metrics if build(compose_config([f"space={space_name}", f"metric={m}"]).metric, "metric").key
                        == build(default_metric, "metric").key)
    return ([Pipeline("random", m) for m in metrics] + [Pipeline("evolution", default_name)] + [Pipeline("ensemble", "ensemble")]
            + [Pipeline("ensemble", default_name, ["strategy.proposals=evolution"])]
            + ([Pipeline("random", m, halving=True) for m in (halving_metrics or [default_name])] if halving else []))


def json_report(space_result: dict, higher_is_better: bool, space_name: str) -> dict[str, Any]:
    """The issue's format: medians only, exactly one recommended row."""
    recommended = RECOMMENDED.get(space_name)
    rows = [{"strategy": r["strategy"], "metric": r["metric"], "train": r.get("train", "benchmark"),
             "recommended": (r["strategy"], r["metric"], r.get("train", "benchmark")) == (*recommended, "benchmark"),
             "top_k": {k: v["median"] for k, v in r["top_k"].items()}} for r in space_result["rows"]]
    if sum(r["recommended"] for r in rows) != 1:
        raise ValueError(f"exactly one row must be the recommended pipeline {recommended} of space {space_name}")
    return {"lower_is_better": not higher_is_better,
            "random_trainings": {k: v["median"] for k, v in space_result["random_trainings"].items()},
            "rows": rows}


def markdown(setup: SpaceSetup, result: dict, seeds: int, budget: int, ks: Sequence[int], checkpoints: Sequence[int]) -> str:
    hib = setup.higher_is_better
    best = max(setup.truth.values()) if hib else min(setup.truth.values())
    bench = setup.space.benchmark()
    kmax = max(ks)
    lines = [f"### space {setup.name}: {bench.name}, pool of {len(setup.pool)}, target {bench.target} "
             f"({'higher' if hib else 'lower'} is better; pool best {best:.4f}); {seeds} seeds, {budget} proxy evaluations",
             "", "Best true target among the first k trained, median [IQR] over seeds:", ""]
    head = ["pipeline", "recommended"] + [f"k={k}" for k in ks]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fmt = lambda q: f"{q['median']:.3f} [{q['q1']:.3f}, {q['q3']:.3f}]"  # noqa: E731
    lines.append("| random trainings (no proxy) | | " + " | ".join(fmt(result["random_trainings"][str(k)]) for k in ks) + " |")
    rec = RECOMMENDED.get(setup.name)
    for r in result["rows"]:
        mark = "**yes**" if (r["strategy"], r["metric"]) == rec and r.get("train", "benchmark") == "benchmark" else ""
        lines.append(f"| {r['label']} | {mark} | " + " | ".join(fmt(r["top_k"][str(k)]) for k in ks) + " |")
    lines += ["", f"The pick vs proxy evaluations (median over seeds; k = 1 / k = {kmax} trainings):", ""]
    head = ["pipeline"] + [f"{n} evals" for n in checkpoints]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["rows"]:
        lines.append(f"| {r['label']} | " + " | ".join(
            f"{r['by_evals'][str(n)]['1']['median']:.3f} / {r['by_evals'][str(n)][str(kmax)]['median']:.3f}" for n in checkpoints) + " |")
    if setup.curves is not None and any(r.get("train") == "halving" for r in result["rows"]):
        c = setup.curves
        lines += ["", f"-> halving: the metric's {c.top_k} best go through successive halving (eta {c.eta}, rungs "
                  f"{c.budgets[0]}..{c.budgets[-1]} steps) replayed on short-training losses recorded once per cell ({c.note}); "
                  f"the benchmark then trains them in halving's order, and beyond {c.top_k} the metric's next. "
                  "Its short trainings come on top of the k benchmark trainings."]
        if setup.labels:
            lines[-1] += (" The labels come from --labels, but the short trainings were recorded on the curves' own corpus, "
                          "so here they are a proxy like the metrics, not a cheap version of the labels' training.")
    if result.get("whole_pool"):
        lines += ["", f"Each metric's pick had it scored the whole pool of {len(setup.pool)} (best true target among its k best; "
                  "read from the labels, for diagnosis only: no setting is chosen from it):", ""]
        head = ["metric"] + [f"k={k}" for k in ks] + [f"rank of the pool's best ({best:.3f}) of {len(setup.pool)}"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in result["whole_pool"]:
            lines.append(f"| {r['label']} | " + " | ".join(f"{r['top_k'][str(k)]:.3f}" for k in ks)
                         + f" | {r.get('best_rank', '')} |")
    return "\n".join(lines) + "\n"


def plot(setup: SpaceSetup, result: dict, ks: Sequence[int], checkpoints: Sequence[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kmax = max(ks)
    bench = setup.space.benchmark()
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    rec = RECOMMENDED.get(setup.name)
    palette = plt.get_cmap("tab20").colors  # one colour per pipeline (the default cycle repeats after 10)
    for index, r in enumerate(result["rows"]):
        bold = (r["strategy"], r["metric"]) == rec and r.get("train", "benchmark") == "benchmark"
        colour = "k" if bold else palette[(2 * index + index // 10) % 20]  # the dark shades, then the light ones
        style = dict(lw=3 if bold else 1.2, color=colour, label=r["label"] + (" (recommended)" if bold else ""))
        for ax, k in ((axes[0], 1), (axes[1], kmax)):
            med = [r["by_evals"][str(n)][str(k)]["median"] for n in checkpoints]
            ax.plot(checkpoints, med, marker="o", **style)
        med = [r["top_k"][str(k)]["median"] for k in ks]
        lo = [r["top_k"][str(k)]["q1"] for k in ks]
        hi = [r["top_k"][str(k)]["q3"] for k in ks]
        line = axes[2].plot(ks, med, marker="o", **style)[0]
        if bold:
            axes[2].fill_between(ks, lo, hi, color=line.get_color(), alpha=0.15)
    rt = result["random_trainings"]
    axes[2].plot(ks, [rt[str(k)]["median"] for k in ks], "r--", lw=2, label="random trainings")
    for ax, k in ((axes[0], 1), (axes[1], kmax)):
        ax.axhline(rt[str(k)]["median"], color="r", ls="--", lw=1.5, label=f"{k} random training(s)")
        ax.set(xlabel="proxy evaluations (search.budget)", ylabel=f"true {bench.target}, best of {k} trained",
               title=f"{setup.name}: the pick with {k} training(s) vs proxy evaluations")
    axes[2].set(xlabel="trainings k", ylabel=f"true {bench.target}, best of k trained",
                title=f"{setup.name}: best of k trainings (median, IQR for the recommended)", xscale="log")
    axes[2].set_xticks(list(ks), [str(k) for k in ks])
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(spaces: Sequence[str], seeds: int, budget: int, ks: Sequence[int], out: Path, labels: str | None = None,
            higher_is_better: bool = False, cache_dir: Path | None = None, pipelines: str | None = None,
            json_path: Path | None = None, extra: Sequence[str] = (), training_curves: Sequence[Path] = (),
            halving_top_k: int | None = None, halving_steps: tuple[int, int] | None = None,
            halving_metrics: Sequence[str] = ()) -> dict[str, Any]:
    """Run the comparison for every space; write <out>/<space>.md/.json/.png and return the JSON reports.

    `training_curves`: scripts/validate_training.py's CSVs (each applies to the space whose benchmark
    target it records; one without a benchmark column to every space), which add the halving row
    (train=halving's top_k, min_steps, max_steps and eta from conf/train/halving.yaml, or
    `halving_top_k` and `halving_steps` = (min, max)) for the shortlist of each of `halving_metrics`
    (metric configs; default: the space's default metric)."""
    from tfnas.config import group_options
    from tfnas.errors import ConfigError

    unknown = [m for m in halving_metrics if m not in group_options("metric")]
    if unknown:
        raise ConfigError("--halving-metric", f"{', '.join(unknown)}: not a metric config (conf/metric/*.yaml; "
                          "`python search.py --help` lists them)")
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    cache_dir = cache_dir or ROOT / ".cache" / "compare"
    checkpoints = sorted({n for n in (10, 25, 50, 100, budget) if n <= budget})
    reports = {}
    for name in spaces:
        setup = setup_space(name, labels, higher_is_better, cache_dir, extra)
        files = curves_for(setup.cache.space, training_curves)
        if files:
            halving = compose_config([*setup.base, "train=halving"]).train
            steps = halving_steps or (int(halving.min_steps), int(halving.max_steps))
            setup.curves = load_curves(files, setup.cache.space, int(halving_top_k or halving.top_k), int(halving.eta), steps)
        pipes = default_pipelines(name, halving=setup.curves is not None, halving_metrics=halving_metrics)
        if pipelines:
            wanted = set(pipelines.split(","))
            pipes = [p for p in pipes if wanted & {p.label, p.strategy, p.metric, p.train}]
        n = min(budget, len(setup.pool))
        result = compare_space(setup, pipes, seeds, n, ks, [c for c in checkpoints if c <= n])
        if setup.curves is not None and setup.curves.missing:
            refuse_missing_curves(setup, out)
        report = json_report(result, setup.higher_is_better, name) if RECOMMENDED.get(name) in {(p.strategy, p.metric) for p in pipes} else None
        (out / f"{name}.md").write_text(markdown(setup, result, seeds, n, ks, [c for c in checkpoints if c <= n]))
        (out / f"{name}_detail.json").write_text(json.dumps(result, indent=1))
        if report is not None:
            (out / f"{name}.json").write_text(json.dumps(report, indent=1))
            reports[name] = report
        plot(setup, result, ks, [c for c in checkpoints if c <= n], out / f"{name}.png")
        print((out / f"{name}.md").read_text(), flush=True)
    if json_path is not None:
        if len(reports) != 1:
            raise ValueError("--json writes one space's report: pass exactly one space with --spaces")
        Path(json_path).write_text(json.dumps(next(iter(reports.values())), indent=1))
    return reports


SENSITIVITY = {
    "rnn": {
        "default": [],
        "thompson sampling (exploration)": ["strategy.exploration=thompson"],
        "label-free factor prior": ["strategy.prior=factor"],
        "no guard": ["strategy.guard.rnn=[]"],
        "forward-only metrics (hidden_cov l1-l3, activation_distance, params; ~0.3 s/cell)":
            ["strategy.metrics.rnn=[hidden_cov,hidden_cov_l2,hidden_cov_l3,activation_distance,params]"],
        "without the saliencies": ["strategy.metrics.rnn=[hidden_cov,hidden_cov_l2,hidden_cov_l3,activation_distance,jacobian_cosine,jacobian_cov,params]"],
    },
    "bert": {
        "default": [],
        "thompson sampling (exploration)": ["strategy.exploration=thompson"],
        "label-free factor prior": ["strategy.prior=factor"],
        "head metrics and params only": ["strategy.metrics.bert=[head_confidence,head_softmax_confidence,head_importance,params]"],
        "without params": ["strategy.metrics.bert=[head_confidence,head_softmax_confidence,head_importance,activation_distance,synaptic_diversity,synaptic_saliency,jacobian_cosine]"],
    },
}


def sensitivity(spaces: Sequence[str], seeds: int, budget: int, ks: Sequence[int], out: Path, cache_dir: Path | None = None,
                labels: str | None = None, higher_is_better: bool = False) -> str:
    """The ensemble's result under other settings, on held-out seeds and on halves of the pool (cross-validation).

    Rows: each setting of SENSITIVITY on seeds [seeds, 2*seeds) (not the main table's seeds), then the default
    setting on each half of the pool, against the best single-metric search and random trainings on the same data."""
    torch.set_num_threads(1)
    cache_dir = cache_dir or ROOT / ".cache" / "compare"
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    fmt = lambda q: f"{q['median']:.3f} [{q['q1']:.3f}, {q['q3']:.3f}]"  # noqa: E731
    for name in spaces:
        lines += [f"### {name}: ensemble settings, seeds {seeds}..{2 * seeds - 1}, {budget} proxy evaluations; "
                  "best of the first k trained, median [IQR]", "", "| data | setting | " + " | ".join(f"k={k}" for k in ks) + " |",
                  "|" + "---|" * (len(ks) + 2)]
        for label, overrides in SENSITIVITY.get(name, {"default": []}).items():
            setup = setup_space(name, labels, higher_is_better, cache_dir, overrides)
            res = compare_space(setup, [Pipeline("ensemble", "ensemble")], seeds, min(budget, len(setup.pool)), ks, [], first_seed=seeds)
            lines.append(f"| full pool | {label} | " + " | ".join(fmt(res["rows"][0]["top_k"][str(k)]) for k in ks) + " |")
        for part in range(2):
            setup = setup_space(name, labels, higher_is_better, cache_dir, subset=(part, 2))
            pipes = default_pipelines(name)
            res = compare_space(setup, pipes, seeds, min(budget, len(setup.pool)), ks, [], first_seed=seeds)
            data = f"half {part + 1} of the pool ({len(setup.pool)})"
            lines.append(f"| {data} | random trainings | " + " | ".join(fmt(res["random_trainings"][str(k)]) for k in ks) + " |")
            sign = 1 if setup.higher_is_better else -1
            singles = [r for r in res["rows"] if r["strategy"] != "ensemble"]
            best_single = {str(k): max(singles, key=lambda r: sign * r["top_k"][str(k)]["median"]) for k in ks}
            lines.append(f"| {data} | best single-metric search at each k | " + " | ".join(
                f"{fmt(best_single[str(k)]['top_k'][str(k)])} ({best_single[str(k)]['label']})" for k in ks) + " |")
            ens = next(r for r in res["rows"] if r["strategy"] == "ensemble")
            lines.append(f"| {data} | ensemble (default) | " + " | ".join(fmt(ens["top_k"][str(k)]) for k in ks) + " |")
        lines.append("")
        (out / "sensitivity.md").write_text("\n".join(lines) + "\n")
    text = "\n".join(lines) + "\n"
    (out / "sensitivity.md").write_text(text)
    print(text, flush=True)
    return text
