"""Train labelled NAS-Bench-NLP cells for a fixed number of steps and report every divergence.

The training-stability check: cells that the benchmark trained to a finite PTB loss must train here without
a non-finite loss or gradient (at least 19 of 20). A divergence is listed with its step and the
tensor that went non-finite first. Small model sizes keep it affordable on a 2-core CPU.

    tfnas stability --cells 20 --steps 1000 --emsize 64 --nhid 96 --batch-size 10 \
        --workers 2 --out results/training_stability
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tfnas.threads import clamp_threads


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="tfnas stability", description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="draws the cells and seeds every model")
    parser.add_argument("--emsize", type=int, default=64)
    parser.add_argument("--nhid", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=10, help="the benchmark's is 20; 10 halves the cost")
    parser.add_argument("--bptt-mode", default="variable", choices=["variable", "fixed"])
    parser.add_argument("--recurrent-weights", default="frozen", choices=["frozen", "trained"])
    parser.add_argument("--eval-max-tokens", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1, help="processes (one thread each)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.workers, _ = clamp_threads(args.workers, 1)
    import torch

    from tfnas.experiments.stability import check_stability
    from tfnas.search_space import SPACES

    torch.set_num_threads(1)
    space = SPACES.get("rnn")(model={"emsize": args.emsize, "nhid": args.nhid})
    options = {"batch_size": args.batch_size, "bptt_mode": args.bptt_mode, "recurrent_weights": args.recurrent_weights,
               "eval_max_tokens": args.eval_max_tokens}
    print(f"check_training_stability: {args.cells} labelled cells x {args.steps} steps, emsize {args.emsize} "
          f"nhid {args.nhid}, {options}", flush=True)
    report = check_stability(space, cells=args.cells, steps=args.steps, seed=args.seed, options=options,
                             out=args.out, workers=args.workers, log=lambda m: print(m, flush=True))
    print(f"check_training_stability: {report['finite']} of {report['cells']} cells stayed finite; "
          f"report: {args.out / 'stability.md'}", flush=True)
    return report

