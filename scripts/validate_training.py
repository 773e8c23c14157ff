"""How far can a short training run be trusted? Rank correlation with NAS-Bench-NLP's 50-epoch PTB loss.

Trains `--cells` labelled NAS-Bench-NLP cells (drawn with `--seed` from the benchmark's pool of
275) with the same loop as `train=short` for a fixed budget, then reports Kendall's tau and
Spearman's rho between the short-training evaluation loss and the benchmark's test loss.
PTB's training split is not shipped: cells train on PTB valid and are evaluated on PTB test;
the benchmark trained on PTB train for 50 epochs with a 10,000-word vocabulary at full size.
A cell whose short training diverges counts as the worst (infinite loss), as train=short ranks it.

    PYTHONPATH=. python scripts/validate_training.py --cells 8 --steps 150 --emsize 64 --nhid 96
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402
from scipy.stats import kendalltau, spearmanr  # noqa: E402

from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace  # noqa: E402
from tfnas.training import Budget, train_candidate  # noqa: E402
from tfnas.search_spaces.nas_bench_nlp.trainer import RNNLanguageModelTrainer  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=8, help="labelled cells to train")
    parser.add_argument("--steps", type=int, default=150, help="optimizer steps per cell")
    parser.add_argument("--minutes", type=float, default=None, help="or a wall-clock budget per cell")
    parser.add_argument("--emsize", type=int, default=64)
    parser.add_argument("--nhid", type=int, default=96)
    parser.add_argument("--nlayers", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=70)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-max-tokens", type=int, default=None, help="default: the whole PTB test split")
    parser.add_argument("--seed", type=int, default=0, help="draws the cells and seeds every model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help="directory for checkpoints, curves and the report")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="validate_training_"))
    out.mkdir(parents=True, exist_ok=True)
    space = NasBenchNLPSpace(model={"emsize": args.emsize, "nhid": args.nhid, "nlayers": args.nlayers})
    bench = space.benchmark()
    pool = bench.pool()
    picks = np.random.default_rng(args.seed).choice(len(pool), size=min(args.cells, len(pool)), replace=False)
    options = {"batch_size": args.batch_size, "bptt": args.bptt, "lr": args.lr, "eval_max_tokens": args.eval_max_tokens}
    budget = Budget(args.steps, args.minutes)
    rows = []
    print(f"validate_training: {len(picks)} cells, budget {args.steps} steps / {args.minutes} min, "
          f"emsize {args.emsize} nhid {args.nhid} batch {args.batch_size} bptt {args.bptt}; "
          "trained on PTB valid, evaluated on PTB test", flush=True)
    bar = tqdm(picks, desc="cells", unit="cell", disable=None)  # a bar with an ETA on a terminal only
    for n, index in enumerate(bar, 1):
        cell_id, recipe = pool[int(index)]
        started = time.perf_counter()
        trainer = RNNLanguageModelTrainer(space, recipe, seed=args.seed, device=torch.device(args.device), options=options)
        result = train_candidate(trainer, budget, out / cell_id, fingerprint={"id": cell_id, **options, **vars(args) | {"out": None}},
                                 progress=False, desc=cell_id)
        short = result.values.get("eval_loss", math.inf) if result.status == "ok" else math.inf
        bench_loss = bench.query_id(cell_id)["test_loss"]
        rows.append({"id": cell_id, "hidden_tuple_size": recipe.hidden_tuple_size, "nodes": len(recipe),
                     "short_eval_loss": short, "benchmark_test_loss": bench_loss, "status": result.status,
                     "steps": result.steps, "seconds": round(time.perf_counter() - started, 1)})
        bar.write(f"  [{n}/{len(picks)}] cell {cell_id}: short {short:.4f}  benchmark {bench_loss:.4f}  "
                  f"({result.status}, {result.steps} steps, {rows[-1]['seconds']} s)")
    short = [r["short_eval_loss"] for r in rows]
    target = [r["benchmark_test_loss"] for r in rows]
    finite_short = [s if math.isfinite(s) else 1e9 for s in short]  # diverged = worst
    tau, tau_p = kendalltau(finite_short, target)
    rho, rho_p = spearmanr(finite_short, target)
    report = {"cells": len(rows), "failed": sum(r["status"] != "ok" for r in rows), "kendall_tau": tau, "kendall_p": tau_p,
              "spearman_rho": rho, "spearman_p": rho_p, "settings": {k: v for k, v in vars(args).items() if k != "out"},
              "split_note": "trained on PTB valid, evaluated on PTB test (PTB train is not shipped)", "rows": rows}
    with open(out / "validate_training.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, default=str)
    with open(out / "validate_training.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"validate_training: Kendall tau {tau:.3f} (p {tau_p:.3g}), Spearman rho {rho:.3f} (p {rho_p:.3g}) "
          f"over {len(rows)} cells ({report['failed']} failed); report: {out}", flush=True)
    return report


if __name__ == "__main__":
    main()
