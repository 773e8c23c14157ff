"""How far can short training be trusted? Rank correlation of each budget's loss with the benchmark's.

Trains labelled architectures of a space with a tabular benchmark (NAS-Bench-NLP cells with the
`train=short` RNN trainer, NAS-Bench-BERT architectures with the ELECTRA pretrainer) through a list
of cumulative step budgets (the rungs of `train=halving`), evaluating at each, and reports per
budget Kendall's tau and Spearman's rho between the short-training evaluation loss and the
benchmark's target (PTB test loss; GLUE, negated so that a positive tau always means "ranks like
the benchmark"), with percentile bootstrap confidence intervals over cells (Efron & Tibshirani,
1993). It also replays train=halving (Optuna's SuccessiveHalvingPruner, cells in the file's order) on the
recorded losses and reports the benchmark target of the cells it keeps to the last budget. A cell whose training diverges counts as the worst at that budget and
after, as train=short and train=halving rank it.
"""
from __future__ import annotations

import csv
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from tfnas.errors import ConfigError
from tfnas.training.checkpoint import read_info
from tfnas.training.loop import CHECKPOINT_DIR, CURVE_FILE, Budget, train_candidate
from tfnas.experiments.stability import cells_by_id, labelled_cells

WORST = 1e9  # a diverged cell's loss in the rank statistics


def bootstrap_ci(x, y, statistic, draws: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of statistic(x, y) over resampled (x, y) pairs; draws with a constant side are skipped."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        idx = rng.integers(0, len(x), len(x))
        with warnings.catch_warnings():  # a resample with a constant side has no correlation: skipped below
            warnings.simplefilter("ignore")
            value = statistic(x[idx], y[idx])[0]
        if np.isfinite(value):
            values.append(value)
    if not values:
        return math.nan, math.nan
    tail = 100 * (1 - level) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def replay_halving(losses: dict[str, list[float]], budgets: list[int], eta: int) -> list[str]:
    """train=halving replayed over recorded losses (cell -> loss at each budget, in the order given): the cells
    Optuna's SuccessiveHalvingPruner lets reach the last budget, best first (tfnas/training/rungs.py)."""
    import optuna

    from tfnas.training.curves import RecordedCurves
    from tfnas.training.rungs import ranked, run_rungs

    source = RecordedCurves({c: dict(zip(budgets, v)) for c, v in losses.items()})
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=budgets[0], reduction_factor=eta)
    outcomes = run_rungs(list(losses), budgets, pruner, source)
    return [o.key for o in ranked(outcomes) if o.status == "ok"]


def validate_budgets(space, *, cells: int | list[str] | None, budgets: list[int], seed: int, options: dict, out: Path,
                     minutes: float | None = None, device: str = "cpu", eta: int = 2, draws: int = 1000,
                     shard: tuple[int, int] = (0, 1), report_every_s: float = 60.0, log=print,
                     metric_scores: dict[str, dict[str, float]] | None = None) -> dict:
    """Train `cells` labelled cells (None: every distinct one; a list: those benchmark ids) through `budgets`; write validate_training.{json,csv,md} under `out`.

    The report (bootstrap intervals over every cell done) is rewritten at most every `report_every_s`
    seconds and at the end: the trainings themselves are checkpointed per cell, so a killed check loses
    no training, and a resumed one that reuses hundreds of cells does not redo the bootstrap per cell.

    `shard=(k, n)` trains only every n-th cell from the k-th, so n processes can share the work in one
    `out`, and writes its report as validate_training.shard-k-of-n.*; a run without a shard over
    the same `out` then reuses every recorded budget and writes the whole report.

    `metric_scores` ({id: {metric: value}}, e.g. from scripts/reproduce_*.py's CSV): the report also gives
    each training-free metric's tau with the benchmark on the same cells, the bar short training has to clear.
    """
    out = Path(out)
    bench = space.benchmark()
    chosen = cells_by_id(space, cells) if isinstance(cells, list) else labelled_cells(space, cells, seed)
    index, shards = shard
    chosen = chosen[index::shards]
    stem = "validate_training" if shards == 1 else f"validate_training.shard-{index}-of-{shards}"
    # the trainer resolves and checks the options (and the data), and the scores must cover the cells, before anything is written
    if not chosen:
        raise ConfigError("--shard", f"shard {index}/{shards} has no cells to check; use fewer shards than cells")
    missing = [cid for cid, _ in chosen if metric_scores and cid not in metric_scores]
    if missing:
        raise ConfigError("--metrics-csv", f"has no scores for {len(missing)} of the {len(chosen)} cells to check (e.g. {missing[0]}); "
                          "give the CSV that scores the whole benchmark pool (scripts/reproduce_rnn.py / reproduce_bert.py)")
    data_note = space.trainer_class()(space, chosen[0][1], seed=seed, device=torch.device(device), options=options).data_note
    out.mkdir(parents=True, exist_ok=True)
    column = target_column(bench)
    context = {"seed": seed, "options": options, "space": space, "eta": eta, "draws": draws, "stem": stem,
               "benchmark": bench, "data_note": data_note, "metric_scores": metric_scores}
    rows = []
    last_report = time.perf_counter()
    for n, (cell_id, recipe) in enumerate(chosen, 1):
        row = {"id": cell_id, **_describe(recipe), column: bench.query_id(cell_id)[bench.target]}
        failed = False
        recorded = _recorded_evals(out / cell_id)
        for budget in budgets:
            if failed:
                row[f"loss_{budget}"], row[f"status_{budget}"] = math.inf, "failed"
                continue
            if budget in recorded:  # a resumed check: this budget was trained and evaluated before
                row[f"loss_{budget}"], row[f"status_{budget}"] = recorded[budget], "ok"
                continue
            trainer = space.trainer_class()(space, recipe, seed=seed, device=torch.device(device), options=options)
            fingerprint = {"id": cell_id, "seed": seed, "options": json.loads(json.dumps(trainer.options, default=str))}
            result = train_candidate(trainer, Budget(budget, minutes), out / cell_id, fingerprint=fingerprint,
                                     checkpoint_every=50, log_every=50, progress=False, desc=cell_id)
            failed = result.status != "ok"
            row[f"loss_{budget}"] = result.values.get("eval_loss", math.inf) if not failed else math.inf
            row[f"status_{budget}"] = result.status
            if failed:
                row["diverged"] = f"step {result.diverged_at}: {result.offending}"
        # the training's own clock, kept in its checkpoint across resumes: a merging run that reuses every
        # rung reports what the cell took to train, not the ~0 s it spent reading it
        row["seconds"] = round(float((read_info(out / cell_id / CHECKPOINT_DIR) or {}).get("seconds", 0.0)), 3)
        rows.append(row)
        if time.perf_counter() - last_report >= report_every_s:
            _write(out, rows, budgets, len(chosen), **context)
            last_report = time.perf_counter()
        log(f"  [{n}/{len(chosen)}] cell {cell_id}: " + ", ".join(f"{b}: {row[f'loss_{b}']:.4f}" for b in budgets)
            + f"  benchmark {row[column]:.4f} ({row['seconds']} s)")
    return _write(out, rows, budgets, len(chosen), **context)


def _metric_taus(rows: list[dict], scores: dict | None, target: list[float]) -> dict[str, float]:
    """Each metric's Kendall tau with the benchmark target over `rows`' cells (those every metric scored)."""
    if not scores or not rows:
        return {}
    names = sorted(set.intersection(*(set(scores[r["id"]]) for r in rows)))
    taus = {}
    for name in names:
        values = [scores[r["id"]][name] for r in rows]
        if all(math.isfinite(v) for v in values):
            taus[name] = float(kendalltau(values, target)[0])
    return taus


def read_metric_scores(path: Path) -> dict[str, dict[str, float]]:
    """A metrics CSV keyed by `id` or `model_id` (scripts/reproduce_rnn.py / reproduce_bert.py) as {id: {metric: value}}.

    Bookkeeping columns (undefined, seconds) are left out; unreadable values are NaN."""
    from tfnas.experiments.pool_scoring import EXTRA_COLUMNS

    path = Path(path)
    if not path.exists():
        raise ConfigError("--metrics-csv", f"{path} does not exist; write it with scripts/reproduce_rnn.py or reproduce_bert.py")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    key = next((k for k in ("id", "model_id") if rows and k in rows[0]), None)
    if key is None:
        raise ConfigError("--metrics-csv", f"{path} needs an id (or model_id) column and one column per metric")

    def number(text: str) -> float:
        try:
            return float(text)
        except (TypeError, ValueError):
            return math.nan

    return {str(r[key]): {k: number(v) for k, v in r.items() if k != key and k not in EXTRA_COLUMNS} for r in rows}


def target_column(bench) -> str:
    """The CSV column of the benchmark's target (benchmark_test_loss for NAS-Bench-NLP, benchmark_glue for NAS-Bench-BERT)."""
    return f"benchmark_{bench.target}"


def _describe(arch) -> dict:
    """A cell's size at a glance in the CSV (NAS-Bench-NLP recipes: hidden tuple size and nodes); nothing for other spaces."""
    if hasattr(arch, "hidden_tuple_size"):
        return {"hidden_tuple_size": arch.hidden_tuple_size, "nodes": len(arch)}
    return {}


def _recorded_evals(directory: Path) -> dict[int, float]:
    """{step: evaluation loss} written to `directory`'s curve by an earlier run, up to the step its checkpoint got to.

    A training that diverged after a budget keeps its evaluation there: the resumed check reports the
    same rungs as the run that trained them (the later rungs fail again from the failed checkpoint).
    One read of the curve per cell, whatever the number of budgets."""
    info = read_info(Path(directory) / CHECKPOINT_DIR)
    if not info or not (Path(directory) / CURVE_FILE).exists():
        return {}
    reached = info.get("step", 0)
    with open(Path(directory) / CURVE_FILE, newline="", encoding="utf-8") as handle:
        return {int(r["step"]): float(r["value"]) for r in csv.DictReader(handle)
                if r["name"] == "eval_loss" and int(r["step"]) <= reached}  # the last of repeated steps wins


def _write(out: Path, rows: list[dict], budgets: list[int], planned: int, *, seed: int, options: dict, space, eta: int,
           draws: int, stem: str, benchmark, data_note: str, metric_scores: dict | None = None) -> dict:
    """Write the report over the cells done so far (a partial one names how many of the planned cells it covers)."""
    column, sign = target_column(benchmark), (-1.0 if benchmark.higher_is_better else 1.0)
    value = [r[column] for r in rows]
    target = [sign * v for v in value]  # loss-like: a positive tau means short training ranks like the benchmark
    per_budget = []
    for budget in budgets:
        short = [r[f"loss_{budget}"] if math.isfinite(r[f"loss_{budget}"]) else WORST for r in rows]
        with warnings.catch_warnings():  # fewer than two distinct values: no correlation (nan)
            warnings.simplefilter("ignore")
            tau, tau_p = kendalltau(short, target)
            rho, _ = spearmanr(short, target)
        low, high = bootstrap_ci(short, target, kendalltau, draws=draws, seed=seed)
        rho_low, rho_high = bootstrap_ci(short, target, spearmanr, draws=draws, seed=seed)
        per_budget.append({"steps": budget, "kendall_tau": float(tau), "tau_ci95": [low, high], "kendall_p": float(tau_p),
                           "spearman_rho": float(rho), "rho_ci95": [rho_low, rho_high],
                           "failed": sum(r[f"status_{budget}"] != "ok" for r in rows)})
    losses = {r["id"]: [r[f"loss_{b}"] if math.isfinite(r[f"loss_{b}"]) else WORST for b in budgets] for r in rows}
    finite = {c: [v if v < WORST else math.inf for v in curve] for c, curve in losses.items()}
    kept = replay_halving(finite, budgets, eta) if len(budgets) > 1 else [min(losses, key=lambda c: losses[c][-1])]
    by_id = {r["id"]: r[column] for r in rows}
    best = max if benchmark.higher_is_better else min
    halving = {"eta": eta, "kept": kept, "kept_benchmark": [by_id[c] for c in kept],
               "pool_best": best(value), "pool_median": float(np.median(value))}
    report = {"benchmark": benchmark.name, "target": benchmark.target, "higher_is_better": benchmark.higher_is_better,
              "cells": len(rows), "planned_cells": planned, "budgets": per_budget, "halving_replay": halving, "seed": seed,
              "options": options, "model": getattr(space, "model_kwargs", {}), "bootstrap_draws": draws,
              "split_note": data_note, "metrics_on_these_cells": _metric_taus(rows, metric_scores, value), "rows": rows}
    with open(out / f"{stem}.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, default=str)
    with open(out / f"{stem}.csv", "w", newline="", encoding="utf-8") as handle:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    with open(out / f"{stem}.md", "w", encoding="utf-8") as handle:
        partial = "" if len(rows) == planned else f" (partial: {len(rows)} of {planned} planned cells done)"
        direction = (f" Tau and rho are with -{benchmark.target} ({benchmark.target} is better when higher), so a positive "
                     "value means that short training ranks like the benchmark." if benchmark.higher_is_better else "")
        handle.write(f"Short-training loss vs {benchmark.name}'s {benchmark.target}, {len(rows)} labelled architectures{partial} "
                     f"(seed {seed}), model {report['model']}, options {options}; 95% percentile bootstrap intervals over cells "
                     f"({draws} draws); {data_note}.{direction}\n\n")
        handle.write("| steps | Kendall tau [95% CI] | Spearman rho [95% CI] | failed |\n|---|---|---|---|\n")
        for b in per_budget:
            handle.write(f"| {b['steps']} | {b['kendall_tau']:.3f} [{b['tau_ci95'][0]:.3f}, {b['tau_ci95'][1]:.3f}] | "
                         f"{b['spearman_rho']:.3f} [{b['rho_ci95'][0]:.3f}, {b['rho_ci95'][1]:.3f}] | {b['failed']} |\n")
        handle.write(f"\nSuccessive halving (eta {eta}) replayed on these losses keeps {', '.join(kept)} "
                     f"(benchmark {benchmark.target} {', '.join(f'{v:.3f}' for v in halving['kept_benchmark'])}); "
                     f"pool best {halving['pool_best']:.3f}, median {halving['pool_median']:.3f}.\n")
        if report["metrics_on_these_cells"]:
            handle.write(f"\nTraining-free metrics on the same cells: Kendall tau with {benchmark.target} itself (not negated: "
                         "each metric's sign is its own direction; compare the size with the short-training taus above; a metric "
                         "undefined on any of these cells is left out).\n\n"
                         "| metric | Kendall tau |\n|---|---|\n")
            for name, tau in sorted(report["metrics_on_these_cells"].items(), key=lambda kv: -abs(kv[1])):
                handle.write(f"| {name} | {tau:.3f} |\n")
    return report


def read_curves_csv(path: Path, field: str = "--runs", benchmark: bool = True) -> dict[str, dict]:
    """validate_training.csv as {cell id: {budget: short-training loss (WORST if it failed), "benchmark": target}}.

    `field` names the option that gave the file in errors; `benchmark=False` reads files without the
    benchmark_<target> column (the curves alone are what halving replays). A higher-is-better target
    (benchmark_glue; the report's JSON beside the CSV says which) is read negated, so that "benchmark"
    is always lower-is-better like the losses."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(field, f"{path} does not exist; write it with scripts/validate_training.py --cells all --out DIR")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    budgets = sorted(int(c[len("loss_"):]) for c in (rows[0] if rows else {}) if c.startswith("loss_"))
    if not budgets:
        raise ConfigError(field, f"{path} has no loss_<steps> columns; it must be scripts/validate_training.py's CSV")
    columns = [c for c in (rows[0] if rows else {}) if c.startswith("benchmark_")]
    if benchmark and len(columns) != 1:
        raise ConfigError(field, f"{path} needs one benchmark_<target> column (benchmark_test_loss, benchmark_glue), has {columns}")
    sign = -1.0 if benchmark and recorded_settings(path).get("higher_is_better") else 1.0  # halving needs no target
    curves = {}
    for line, row in enumerate(rows, 2):
        try:
            entry = {"benchmark": sign * float(row[columns[0]])} if benchmark else {}
            for b in budgets:
                value = float(row[f"loss_{b}"])
                entry[b] = value if row.get(f"status_{b}") == "ok" and math.isfinite(value) else WORST
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(field, f"{path} line {line}: unreadable row ({err}); rewrite it with scripts/validate_training.py") from None
        curves[str(row["id"])] = entry
    return curves


def recorded_settings(csv_path: Path) -> dict:
    """The report JSON written beside a validate_training CSV (seed, options, corpus, target direction); {} if absent."""
    try:
        return json.loads(Path(csv_path).with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def seed_agreement(paths: list[Path], draws: int = 1000, seed: int = 0) -> dict:
    """How reproducible short training is: two validate_training runs of the same cells with different
    training seeds, per shared budget, Kendall's tau between the runs' losses (with a bootstrap interval
    over cells) and each run's tau with the benchmark. Failed trainings count as the worst loss, as halving ranks them."""
    if len(paths) != 2:
        raise ConfigError("--runs", f"needs exactly two CSVs (two training seeds of the same cells), got {len(paths)}")
    a, b = (read_curves_csv(p) for p in paths)
    cells = sorted(set(a) & set(b))
    budgets = sorted({k for v in a.values() for k in v if k != "benchmark"} & {k for v in b.values() for k in v if k != "benchmark"})
    if len(cells) < 3 or not budgets:
        raise ConfigError("--runs", f"the two runs share {len(cells)} cells and budgets {budgets}: need at least 3 cells and one budget")
    target = [a[c]["benchmark"] for c in cells]
    rows = []
    for budget in budgets:
        x, y = [a[c][budget] for c in cells], [b[c][budget] for c in cells]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            between = float(kendalltau(x, y)[0])
            tau_a, tau_b = float(kendalltau(x, target)[0]), float(kendalltau(y, target)[0])
        rows.append({"steps": budget, "tau_between_seeds": between, "tau_ci95": list(bootstrap_ci(x, y, kendalltau, draws, seed)),
                     "tau_benchmark": [tau_a, tau_b],
                     "failed": [sum(v == WORST for v in x), sum(v == WORST for v in y)]})
    negated = any(recorded_settings(p).get("higher_is_better") for p in paths)
    return {"runs": [str(p) for p in paths], "cells": len(cells), "budgets": rows, "bootstrap_draws": draws,
            "benchmark_negated": negated}


def seed_agreement_markdown(report: dict) -> str:
    lines = [f"Short training under two training seeds: {report['cells']} cells shared by {report['runs'][0]} and "
             f"{report['runs'][1]}; 95% percentile bootstrap intervals over cells ({report['bootstrap_draws']} draws)."
             + (" The benchmark's target is better when higher, so its tau is with the negated target: positive means "
                "short training ranks like the benchmark." if report.get("benchmark_negated") else ""), "",
             "| steps | Kendall tau between the seeds [95% CI] | tau with the benchmark (seed A / seed B) | failed (A / B) |",
             "|---|---|---|---|"]
    for r in report["budgets"]:
        lines.append(f"| {r['steps']} | {r['tau_between_seeds']:.3f} [{r['tau_ci95'][0]:.3f}, {r['tau_ci95'][1]:.3f}] | "
                     f"{r['tau_benchmark'][0]:.3f} / {r['tau_benchmark'][1]:.3f} | {r['failed'][0]} / {r['failed'][1]} |")
    return "\n".join(lines) + "\n"
