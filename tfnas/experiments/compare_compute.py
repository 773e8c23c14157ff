"""Search quality against compute: every pipeline charged in training steps, at budgets of full trainings.

A short-training rung costs its steps; a full training costs `full_steps` (F); a candidate continued
to a full training from its last rung costs F minus the steps it already had; one trained from
scratch costs F. Each pipeline sizes itself to each budget without reading any label (the stages'
own rules, tfnas/training/plan.py) and never spends more. Its pick is a fully trained architecture
(the best target among those it trained in full); reported over seeds: the median target [IQR], the
probability that the pick is in the pool's best 5 %, and the mean cost in full trainings.

Every row is the app's own code: searches built by `tfnas.build.build_parts` (benchmark mode, cached
metric values), candidates ordered by `tfnas.candidates.rank_candidates` (predictor, guard), pruned
stages built from `conf/train/*.yaml` and run through `PrunedTraining.schedule` on recorded learning
curves (`RecordedCurves`: the same decisions a real `train=halving|hyperband|multifidelity` takes),
sequential trainings through `tfnas.training.sequential.spend`. Proxy evaluations are not charged.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from tfnas.build import build, build_parts
from tfnas.candidates import rank_candidates
from tfnas.errors import ConfigError
from tfnas.experiments.compare_setup import SpaceSetup, compose_config, fresh_pool, quartiles
from tfnas.results import Record
from tfnas.training.base import StageContext
from tfnas.training.curves import RecordedCurves
from tfnas.training.sequential import spend
from tfnas.workers import search as run_search

KINDS = ("random", "multi_fidelity", "single_metric", "ensemble", "proxy_multi_fidelity")


@dataclass
class Row:
    """One pipeline: how candidates are ordered (Hydra overrides of predictor/metric), and what trains them
    (`train`: a pruned stage's config name; None: full trainings one at a time, each chosen by the predictor)."""

    name: str
    label: str
    kind: str
    order: list[str] = field(default_factory=list)
    train: str | None = None
    pool: bool = False  # candidates: the whole pool in random order (proxy-free rows) instead of the scored ones


def rows_for(setup: SpaceSetup) -> list[Row]:
    """Random trainings; halving and Hyperband over random candidates; each metric of the ensemble's suite followed
    by halving; the ensemble; the multi-fidelity pipeline with the ensemble and with the space's default metric."""
    suite = list(compose_config([*setup.base, "predictor=ensemble"]).predictor.metrics[setup.name])
    default = default_metric(setup, suite)
    rows = [Row("random", "random trainings", "random", ["predictor=random"], None, pool=True),
            Row("halving", "successive halving over random candidates", "multi_fidelity", ["predictor=random"], "halving", pool=True),
            Row("hyperband", "Hyperband over random candidates", "multi_fidelity", ["predictor=random"], "hyperband", pool=True)]
    rows += [Row(f"{m}->halving", f"{m} -> halving", "single_metric", ["predictor=score", f"metric={m}"], "halving") for m in suite]
    rows += [Row("ensemble", "ensemble (full trainings chosen one at a time)", "ensemble", ["predictor=ensemble"], None),
             Row("multifidelity", "multifidelity: ensemble -> screening rungs -> full trainings", "proxy_multi_fidelity",
                 ["predictor=ensemble"], "multifidelity"),
             Row(f"multifidelity/{default}", f"multifidelity with {default} instead of the ensemble", "proxy_multi_fidelity",
                 ["predictor=score", f"metric={default}"], "multifidelity")]
    return rows


def default_metric(setup: SpaceSetup, suite: Sequence[str]) -> str:
    """The suite's name of the space's default metric (the one `search.py space=S` scores)."""
    key = build(compose_config(setup.base).metric, "metric").key
    return next((m for m in suite if build(compose_config([*setup.base, f"metric={m}"]).metric, "metric").key == key), suite[0])


def scored_records(setup: SpaceSetup, seed: int, budget: int) -> list[Record]:
    """One random search of `budget` proxy evaluations (the ensemble's suite scored in its probe), as the app runs it."""
    cfg = compose_config([*setup.base, "strategy=random", "predictor=ensemble", f"seed={seed}", f"search.budget={budget}"])
    pool = fresh_pool(setup.pool)
    with tempfile.TemporaryDirectory() as tmp:
        parts = build_parts(cfg, Path(tmp), torch.device("cpu"), space=pool, scorer_cls=setup.cache.scorer_cls())
        setup.cache.ensure(pool.archs, parts.scorer.metrics)
        return run_search(parts, cfg, None, False).records


def pool_records(setup: SpaceSetup) -> list[Record]:
    """Every pool member as a record with no metric value: the proxy-free rows' candidates."""
    return [Record(i, h, math.nan, False, 0.0, {}, setup.space.to_json(a))
            for i, (h, a) in enumerate(zip(setup.pool.hashes, setup.pool.archs))]


@dataclass
class Prepared:
    """A row's parts, composed and built once: its predictor and metric (rebound per seed), its stage per budget."""

    row: Row
    predictor: Any
    metric: Any
    stages: dict[float, Any]


def prepare(setup: SpaceSetup, row: Row, budgets: Sequence[float], full_steps: int) -> Prepared:
    cfg = compose_config([*setup.base, *row.order])
    stages = {}
    if row.train is not None:
        for budget in budgets:
            node = compose_config([*setup.base, f"train={row.train}", f"train.budget={budget}",
                                   f"train.full_steps={full_steps}"]).train
            stages[budget] = build(node, "train")
    return Prepared(row, build(cfg.predictor, "predictor"), build(cfg.metric, "metric"), stages)


def order_of(setup: SpaceSetup, prepared: Prepared, records: list[Record], seed: int) -> list[str]:
    """The candidates' hashes in the row's predictor order (guarded ones last), the predictor bound as the app binds it."""
    prepared.predictor.bind(setup.pool, prepared.metric, seed)
    order, _ = rank_candidates(setup.pool, records, prepared.predictor)
    return [records[i].hash for i in order]


def run_row(setup: SpaceSetup, prepared: Prepared, records: list[Record], seed: int, budgets: Sequence[float],
            full_steps: int, curves: RecordedCurves) -> dict[float, tuple[float, float]]:
    """budget -> (the pick's target, cost in full trainings) for one seed."""
    order = order_of(setup, prepared, records, seed)
    out = {}
    for budget in budgets:
        if prepared.row.train is None:
            entries = [{"hash": h} for h in order]
            context = StageContext(records, prepared.predictor, None, None)
            trained = spend(setup.pool, entries, context, math.floor(budget + 1e-9), lambda e: setup.truth[e["hash"]],
                            "replay", "target", setup.higher_is_better)
            picks, cost = [e["hash"] for e in trained], float(len(trained))
        else:
            schedule = prepared.stages[budget].schedule(order, curves, available=curves.steps)
            picks, cost = [o.key for o in schedule.finals], schedule.cost / full_steps
        values = [setup.truth[h] for h in picks]
        out[budget] = (max(values) if setup.higher_is_better else min(values), cost)
    return out


def compare_compute(setup: SpaceSetup, curves: RecordedCurves, full_steps: int, budgets: Sequence[float], seeds: int,
                    scored: int, rows: Sequence[Row], log=print) -> dict[str, Any]:
    """Every row over seeds 0..seeds-1 at every budget; raises ConfigError if a stage reached a cell without a curve."""
    from tqdm.auto import tqdm

    too_small = [b for b in budgets if b < 1]
    if too_small:
        raise ConfigError("--compute-budgets", f"budgets are in full trainings and a pick needs one: got {too_small}")
    results = {row.name: {b: [] for b in budgets} for row in rows}
    bar = tqdm(total=seeds * len(rows), desc=f"compare {setup.name} (compute)", unit="run", disable=None)
    started = time.perf_counter()
    everyone = pool_records(setup)
    prepared = [prepare(setup, row, budgets, full_steps) for row in rows]
    for seed in range(seeds):
        records = scored_records(setup, seed, min(scored, len(setup.pool)))
        for part in prepared:
            found = run_row(setup, part, everyone if part.row.pool else records, seed, budgets, full_steps, curves)
            for budget, outcome in found.items():
                results[part.row.name][budget].append(outcome)
            bar.update()
    bar.close()
    log(f"  {setup.name}: {len(rows)} pipelines x {seeds} seeds x {len(budgets)} budgets in {time.perf_counter() - started:.0f} s")
    return summarise(setup, rows, results, budgets)


def summarise(setup: SpaceSetup, rows: Sequence[Row], results: dict, budgets: Sequence[float]) -> dict[str, Any]:
    out = []
    for row in rows:
        by_budget = {}
        for budget in budgets:
            picks = [v for v, _ in results[row.name][budget]]
            costs = [c for _, c in results[row.name][budget]]
            by_budget[budget_key(budget)] = {**quartiles(picks), "p_top5": sum(map(setup.in_top5, picks)) / len(picks),
                                             "mean_cost": sum(costs) / len(costs), "max_cost": max(costs)}
        out.append({"pipeline": row.name, "label": row.label, "kind": row.kind, "by_budget": by_budget})
    return {"rows": out}


def budget_key(budget: float) -> str:
    """1 -> "1", 1.5 -> "1.5": the JSON's keys read like the budgets asked for."""
    return f"{budget:g}"


def json_report(setup: SpaceSetup, result: dict, budgets: Sequence[float], full_steps: int, recommended: str,
                strict: bool = True) -> dict[str, Any]:
    """The compute-axis report in its fixed schema, with exactly one recommended row (named by the space's config)."""
    rows = [{"pipeline": r["pipeline"], "kind": r["kind"], "recommended": r["pipeline"] == recommended,
             "by_budget": {k: {"median": v["median"], "p_top5": v["p_top5"], "mean_cost": v["mean_cost"]}
                           for k, v in r["by_budget"].items()}} for r in result["rows"]]
    if strict and sum(r["recommended"] for r in rows) != 1:
        raise ValueError(f"exactly one row must be the recommended pipeline {recommended!r} of space {setup.name}")
    return {"lower_is_better": not setup.higher_is_better, "full_steps": full_steps, "pool_size": len(setup.pool),
            "top5_threshold": setup.top5_threshold(), "budgets": [int(b) if float(b).is_integer() else b for b in budgets],
            "rows": rows}


def curves_for(setup: SpaceSetup, paths: Sequence[Path]) -> list[Path]:
    """The curve files that belong to the setup's space: those whose CSV has the column of its benchmark's target
    (benchmark_test_loss, benchmark_glue) and those without any benchmark column (another tool's, or a user's)."""
    bench = setup.cache.space.benchmark()
    wanted = f"benchmark_{bench.target}" if bench is not None else None
    chosen = []
    for path in map(Path, paths):
        header = path.open(encoding="utf-8").readline().strip().split(",") if path.exists() else []
        columns = [c for c in header if c.startswith("benchmark_")]
        if not columns or wanted in columns:  # a missing file is refused when it is read, naming it
            chosen.append(path)
    return chosen


def refuse_missing(setup: SpaceSetup, curves: RecordedCurves, out: Path) -> None:
    ids = dict(zip(setup.pool.hashes, setup.pool.ids))
    missing = sorted((str(ids[h]) for h in curves.missing), key=lambda i: (len(i), i))
    listing = out / f"{setup.name}_missing_curves.txt"
    listing.write_text(",".join(missing) + "\n")
    raise ConfigError("--training-curves", f"{len(missing)} architectures that the stages reach have no recorded curve at "
                      f"every rung (ids in {listing}); record them with tfnas validate-training --space {setup.name} "
                      f"--ids $(cat {listing}) --budgets {','.join(map(str, curves.steps))} with the same seed and training flags, "
                      "and add that CSV to --training-curves; no report was written")


def plot_title(setup: SpaceSetup, files: Sequence[Path]) -> str:
    """The space, its benchmark and the curve files, so a figure says which curves it replays."""
    return f"{setup.name} ({setup.space.benchmark().name}), curves {', '.join(Path(f).parent.name + '/' + Path(f).stem for f in files)}"


def run_compute(name: str, out: Path, training_curves: Sequence[Path], budgets: Sequence[float], seeds: int, scored: int,
                full_steps: int | None = None, labels: str | None = None, higher_is_better: bool = False,
                cache_dir: Path | None = None, pipelines: str | None = None, json_path: Path | None = None,
                extra: Sequence[str] = (), command: str = "tfnas compare") -> dict[str, Any]:
    """The compute-axis comparison of one space: <out>/<space>_compute.{md,json,png} and _detail.json; returns the JSON."""
    from tfnas.experiments.compare_report import compute_markdown, compute_plot
    from tfnas.experiments.compare_setup import read_curves, setup_space, shipped_curves

    setup = setup_space(name, labels, higher_is_better, cache_dir, extra)
    files = curves_for(setup, training_curves) if training_curves else shipped_curves(setup.space, setup.choices)
    if not files:
        raise ConfigError("--training-curves", f"no curve file for space {name!r} (it ships none): give validate_training.csv-"
                          "shaped files (id, loss_<steps>, status_<steps>; tfnas validate-training records them)")
    full_steps = full_steps or setup.choices.get("full_steps")
    if not full_steps or full_steps < 1:
        raise ConfigError("--full-steps", f"the steps of one full training; space {name!r} gives none in its config (compare.full_steps)")
    losses, note = read_curves(files, setup)
    curves = RecordedCurves(losses, note)
    rows = rows_for(setup)
    if pipelines:
        wanted = set(pipelines.split(","))
        rows = [r for r in rows if wanted & {r.name, r.kind}]
    out.mkdir(parents=True, exist_ok=True)
    result = compare_compute(setup, curves, int(full_steps), budgets, seeds, scored, rows)
    if curves.missing:
        refuse_missing(setup, curves, out)
    recommended = setup.choices.get("recommended", "multifidelity")
    present = recommended in {r.name for r in rows}
    if json_path is not None and not present:
        raise ConfigError("--pipelines", f"--json needs the recommended pipeline {recommended!r} among the rows")
    report = json_report(setup, result, budgets, int(full_steps), recommended, strict=present)
    stem = out / f"{name}_compute"
    (out / f"{name}_compute_detail.json").write_text(json.dumps({**result, "note": note, "command": command}, indent=1))
    if present:
        stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    text = compute_markdown(setup, report, result, seeds, min(scored, len(setup.pool)), note, command)
    stem.with_suffix(".md").write_text(text)
    compute_plot(setup, report, result, stem.with_suffix(".png"), plot_title(setup, files))
    print(text, flush=True)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report, indent=1))
    return report


def coverage(space: str, labels: str | None, higher_is_better: bool, order: Sequence[str], n: int, seeds: int = 300,
             scored: int = 100) -> float:
    """How often a predictor's `n` best of a search's `scored` random candidates hold one of the pool's best 5 %
    (the app's ranking, guard included; `order`: Hydra overrides such as ["predictor=ensemble"]): what bounds any
    pipeline that trains only those n. Read from the labels: a diagnostic, not a setting."""
    from tfnas.experiments.compare_setup import setup_space

    setup = setup_space(space, labels, higher_is_better, None)
    part = prepare(setup, Row("coverage", "coverage", "single_metric", list(order)), [], 0)
    hits = 0
    for seed in range(seeds):
        records = scored_records(setup, seed, min(scored, len(setup.pool)))
        hits += any(setup.in_top5(setup.truth[h]) for h in order_of(setup, part, records, seed)[:n])
    return hits / seeds
