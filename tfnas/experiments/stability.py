"""Does short training stay finite where NAS-Bench-NLP trained? Train labelled cells and report every divergence.

Draws `cells` NAS-Bench-NLP architectures that the benchmark trained to a finite PTB loss,
trains each with the `train=short` RNN trainer for `steps` steps, and reports, per cell, whether
training stayed finite and, if not, the step and the tensor that went non-finite first
(`TrainingResult.diverged_at` / `.offending`). Each cell keeps a checkpoint under `out/<id>/`,
so an interrupted check resumes where it stopped.
"""
from __future__ import annotations

import csv
import json
import math
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tfnas.report.markdown import table

FIELDS = ["id", "status", "steps", "diverged_at", "offending", "eval_loss", "benchmark_test_loss",
          "hidden_tuple_size", "nodes", "seconds"]


def _labelled_pool(space) -> list[tuple[str, Any]]:
    """The benchmark's (id, architecture) pairs with a finite target (NAS-Bench-NLP: PTB test loss), in the benchmark's order."""
    bench = space.benchmark()
    return [(cid, rec) for cid, rec in bench.pool() if math.isfinite(bench.query_id(cid)[bench.target])]


def labelled_cells(space, count: int | None, seed: int) -> list[tuple[str, Any]]:
    """`count` pool cells with a finite benchmark loss, drawn without replacement with `seed`.

    `count=None`: every distinct network (the first id of each canonical hash), in the benchmark's order.
    """
    pool = _labelled_pool(space)
    if count is None:
        seen: set[str] = set()
        return [(cid, rec) for cid, rec in pool if not (space.hash(rec) in seen or seen.add(space.hash(rec)))]
    picks = np.random.default_rng(seed).choice(len(pool), size=min(count, len(pool)), replace=False)
    return [pool[int(i)] for i in picks]


def cells_by_id(space, ids: list[str]) -> list[tuple[str, Any]]:
    """The labelled pool cells with these benchmark ids, in the given order; an id that is not a
    labelled cell (no finite benchmark loss) is refused, naming it."""
    from tfnas.errors import ConfigError

    pool = dict(_labelled_pool(space))
    unknown = [i for i in ids if i not in pool]
    if unknown:
        bench = space.benchmark()
        raise ConfigError("--ids", f"{', '.join(unknown)}: not labelled {bench.name} architectures (ids of the benchmark's pool "
                          f"with a finite {bench.target}, e.g. from validate_training.csv's id column)")
    return [(i, pool[i]) for i in ids]


def _train_one(job: dict) -> dict:
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
    from tfnas.training.loop import Budget, train_candidate
    from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer

    torch.set_num_threads(1)
    space = NasBenchNLPSpace(model=job["model"])
    recipe = space.from_json(job["arch"])
    started = time.perf_counter()
    trainer = RNNLanguageModelTrainer(space, recipe, seed=job["seed"], device=torch.device("cpu"), options=job["options"])
    result = train_candidate(trainer, Budget(job["steps"]), Path(job["out"]) / job["id"],
                             fingerprint={"id": job["id"], "seed": job["seed"], "options": json.loads(json.dumps(trainer.options))},
                             checkpoint_every=job["checkpoint_every"], log_every=50, progress=False, desc=job["id"])
    return {"id": job["id"], "status": result.status, "steps": result.steps, "diverged_at": result.diverged_at,
            "offending": result.offending, "eval_loss": result.values.get("eval_loss"),
            "seconds": round(time.perf_counter() - started, 1)}


def check_stability(space, *, cells: int = 20, steps: int = 1000, seed: int = 0, options: dict | None = None,
                    out: Path, workers: int = 1, checkpoint_every: int = 100, log=print) -> dict:
    """Train `cells` labelled cells for `steps` steps each; write stability.{json,csv,md} under `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bench = space.benchmark()
    chosen = labelled_cells(space, cells, seed)
    options = dict(options or {})
    jobs = [{"id": cid, "arch": space.to_json(rec), "model": space.model_kwargs, "seed": seed, "options": options,
             "steps": steps, "out": str(out), "checkpoint_every": checkpoint_every} for cid, rec in chosen]
    rows = []
    extra = {cid: (rec.hidden_tuple_size, len(rec)) for cid, rec in chosen}

    def collect(row):
        row["benchmark_test_loss"] = bench.query_id(row["id"])["test_loss"]
        row["hidden_tuple_size"], row["nodes"] = extra[row["id"]]
        rows.append(row)
        where = "" if row["status"] == "ok" else f" diverged at step {row['diverged_at']}: {row['offending']}"
        log(f"  [{len(rows)}/{len(jobs)}] cell {row['id']}: {row['status']} after {row['steps']} steps, "
            f"eval loss {row['eval_loss']}, {row['seconds']} s{where}")

    def write(done: bool) -> dict:
        finite = sum(r["status"] == "ok" for r in rows)
        report = {"cells": len(jobs), "completed": len(rows), "finite": finite, "diverged": len(rows) - finite,
                  "steps": steps, "seed": seed, "model": space.model_kwargs, "options": options,
                  "rows": sorted(rows, key=lambda r: order[r["id"]])}
        with open(out / "stability.json", "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
        with open(out / "stability.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows({k: r.get(k) for k in FIELDS} for r in report["rows"])
        with open(out / "stability.md", "w", encoding="utf-8") as handle:
            status = "" if done else f" (partial: {len(rows)} of {len(jobs)} cells completed so far)"
            handle.write(f"{finite} of {len(rows)} labelled cells trained {steps} steps without diverging{status} "
                         f"(model {space.model_kwargs}, options {options}, seed {seed}).\n\n")
            columns = ["cell", "status", "steps", "diverged at", "offending tensor", "eval loss", "benchmark loss"]
            cells = [[r["id"], r["status"], r["steps"], r["diverged_at"] or "", r["offending"] or "",
                      "" if r["eval_loss"] is None else f"{r['eval_loss']:.3f}", f"{r['benchmark_test_loss']:.3f}"]
                     for r in report["rows"]]
            handle.write(table(columns, cells) + "\n")
        return report

    order = {job["id"]: i for i, job in enumerate(jobs)}
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for future in as_completed([pool.submit(_train_one, job) for job in jobs]):
                collect(future.result())
                write(done=False)
    else:
        for job in jobs:
            collect(_train_one(job))
            write(done=False)
    return write(done=True)
