"""How far can a short training run be trusted? Rank correlation with NAS-Bench-NLP's 50-epoch PTB loss, per budget.

Trains `--cells` labelled NAS-Bench-NLP cells (drawn with `--seed` from the benchmark's pool of
275) with the same trainer and loop as `train=short` / `train=halving` through cumulative step
budgets, evaluating at each, and reports per budget Kendall's tau and Spearman's rho between the
short-training evaluation loss and the benchmark's test loss, with 95% bootstrap intervals over
cells, plus successive halving replayed on the recorded losses (tfnas.experiments.training_validation).
Budgets: `--budgets 25,50,100` explicitly, or the rungs of train=halving from `--min-steps`,
`--max-steps`, `--eta`, or one budget with `--steps`.
PTB's training split is not shipped: cells train on PTB valid and are evaluated on PTB test.

    python scripts/validate_training.py --cells 12 --min-steps 25 --max-steps 200 --eta 2 \
        --emsize 64 --nhid 96 --batch-size 10 --eval-max-tokens 10000 --out results/validate_training
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

from tfnas.errors import ConfigError
from tfnas.experiments.script import run_script
from tfnas.experiments.training_validation import validate_budgets
from tfnas.training.halving import plan_rungs


def budgets_from(args) -> list[int]:
    if args.budgets:
        budgets = [int(b) for b in args.budgets.split(",")]
    elif args.min_steps:
        budgets = [b for b, _ in plan_rungs(1, args.min_steps, args.max_steps or args.min_steps, args.eta)]
    else:
        budgets = [args.steps]
    if any(b < 1 for b in budgets) or budgets != sorted(set(budgets)):
        raise ConfigError("--budgets", f"must be increasing positive step counts, got {budgets}")
    return budgets


def cells_from(text: str) -> int | None:
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise ConfigError("--cells", f"must be a positive number of cells or 'all', got {text!r}")
    return int(text)


def ids_from(text: str) -> list[str]:
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if not ids or len(set(ids)) != len(ids):
        raise ConfigError("--ids", f"must be distinct comma-separated benchmark ids (e.g. 1006326,1009703), got {text!r}")
    return ids


def shard_from(text: str) -> tuple[int, int]:
    parts = text.split("/")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 0 <= int(parts[0]) < int(parts[1]):
        raise ConfigError("--shard", f"must be K/N with 0 <= K < N (e.g. 0/2 and 1/2 for two processes), got {text!r}")
    return int(parts[0]), int(parts[1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", default="8", help="labelled cells to train, or 'all' (every distinct labelled network)")
    parser.add_argument("--ids", default=None, help="comma-separated benchmark ids to train instead of --cells (e.g. to recheck some)")
    parser.add_argument("--shard", default="0/1", help="K/N: train every N-th cell from the K-th (N processes share one --out)")
    parser.add_argument("--steps", type=int, default=150, help="one budget (optimizer steps per cell)")
    parser.add_argument("--budgets", default=None, help="comma-separated cumulative step budgets, e.g. 25,50,100")
    parser.add_argument("--min-steps", type=int, default=None, help="budgets = the rungs of train=halving ...")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--eta", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=None, help="also a wall-clock cap per budget")
    parser.add_argument("--emsize", type=int, default=64)
    parser.add_argument("--nhid", type=int, default=96)
    parser.add_argument("--nlayers", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=70)
    parser.add_argument("--bptt-mode", default="variable", choices=["variable", "fixed"])
    parser.add_argument("--recurrent-weights", default="frozen", choices=["frozen", "trained"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-max-tokens", type=int, default=None, help="default: the whole PTB test split")
    parser.add_argument("--seed", type=int, default=0, help="draws the cells and seeds every model")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap draws for the intervals")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help="directory for checkpoints, curves and the report")
    args = parser.parse_args(argv)
    budgets = budgets_from(args)
    cells = ids_from(args.ids) if args.ids else cells_from(args.cells)
    shard = shard_from(args.shard)
    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="validate_training_"))
    space = NasBenchNLPSpace(model={"emsize": args.emsize, "nhid": args.nhid, "nlayers": args.nlayers})
    options = {"batch_size": args.batch_size, "bptt": args.bptt, "lr": args.lr, "eval_max_tokens": args.eval_max_tokens,
               "bptt_mode": args.bptt_mode, "recurrent_weights": args.recurrent_weights}
    print(f"validate_training: {args.ids or args.cells} cells (shard {args.shard}), budgets {budgets} steps, emsize {args.emsize} nhid {args.nhid}, "
          f"{options}; trained on PTB valid, evaluated on PTB test", flush=True)
    report = validate_budgets(space, cells=cells, budgets=budgets, seed=args.seed, options=options, out=out,
                              minutes=args.minutes, device=args.device, eta=args.eta, draws=args.bootstrap, shard=shard,
                              log=lambda m: print(m, flush=True))
    for b in report["budgets"]:
        print(f"validate_training: {b['steps']} steps: Kendall tau {b['kendall_tau']:.3f} "
              f"[{b['tau_ci95'][0]:.3f}, {b['tau_ci95'][1]:.3f}], Spearman rho {b['spearman_rho']:.3f} "
              f"({b['failed']} failed)", flush=True)
    stem = "validate_training" if shard[1] == 1 else f"validate_training.shard-{shard[0]}-of-{shard[1]}"
    print(f"validate_training: report {out / (stem + '.md')}", flush=True)
    return report


if __name__ == "__main__":
    run_script(main)
