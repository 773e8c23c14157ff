"""How far can a short training run be trusted? Rank correlation with a tabular benchmark's target, per budget.

Trains `--cells` labelled architectures of `--space` (drawn with `--seed` from the benchmark's pool)
with the same trainer and loop as `train=short` / `train=halving` through cumulative step budgets,
evaluating at each, and reports per budget Kendall's tau and Spearman's rho between the
short-training evaluation loss and the benchmark's target (NAS-Bench-NLP: 50-epoch PTB test loss;
NAS-Bench-BERT: GLUE, negated so that a positive tau means agreement), with 95% bootstrap intervals
over cells, plus successive halving replayed on the recorded losses (tfnas.experiments.training_validation).
Budgets: `--budgets 25,50,100` explicitly, or the rungs of train=halving from `--min-steps`,
`--max-steps`, `--eta`, or one budget with `--steps`.
rnn: PTB's training split is not shipped, so cells train on PTB valid and are evaluated on PTB test.
bert: ELECTRA pretraining on WikiText-2 valid, evaluated on WikiText-2 test.

    tfnas validate-training --cells 12 --min-steps 25 --max-steps 200 --eta 2 \
        --emsize 64 --nhid 96 --batch-size 10 --eval-max-tokens 10000 --out results/validate_training
    tfnas validate-training --space bert --cells 40 --min-steps 25 --max-steps 200 \
        --batch-size 8 --seq-len 64 --out results/validate_training/bert
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from tfnas.build import build
from tfnas.errors import ConfigError
from tfnas.experiments.compare import compose_config
from tfnas.experiments.training_validation import read_metric_scores, validate_budgets
from tfnas.threads import clamp_threads
from tfnas.training.plan import geometric


def budgets_from(args) -> list[int]:
    if args.budgets:
        budgets = [int(b) for b in args.budgets.split(",")]
    elif args.min_steps:
        budgets = geometric(args.min_steps, args.max_steps or args.min_steps, args.eta)
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


# Each space's training flags (argparse dest = trainer option; unset: the trainer's own default) and model
# flags with this check's defaults (-> space.model.<name>); a flag given for the other space is refused.
TRAINING_FLAGS = {"rnn": ("batch_size", "bptt", "lr", "eval_max_tokens", "bptt_mode", "recurrent_weights"),
                  "bert": ("batch_size", "seq_len", "lr")}
MODEL_FLAGS = {"rnn": {"emsize": 64, "nhid": 96, "nlayers": 3}, "bert": {}}


def space_and_options(args):
    """The space (built from its Hydra config, as search.py builds it) and the trainer options the flags give."""
    if args.space not in TRAINING_FLAGS:
        raise ConfigError("--space", f"must be one of {', '.join(TRAINING_FLAGS)}, got {args.space!r}")
    mine = {*TRAINING_FLAGS[args.space], *MODEL_FLAGS[args.space]}
    every = {k for flags in (*TRAINING_FLAGS.values(), *MODEL_FLAGS.values()) for k in flags}
    for dest in sorted(every - mine):
        if getattr(args, dest) is not None:
            raise ConfigError(f"--{dest.replace('_', '-')}", f"does not apply to --space {args.space}; drop it")
    model = [f"space.model.{k}={default if getattr(args, k) is None else getattr(args, k)}"
             for k, default in MODEL_FLAGS[args.space].items()]
    space = build(compose_config([f"space={args.space}", *model]).space, "space")
    options = {k: getattr(args, k) for k in TRAINING_FLAGS[args.space] if getattr(args, k) is not None}
    return space, options


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="tfnas validate-training", description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="rnn", help="rnn (NAS-Bench-NLP) or bert (NAS-Bench-BERT)")
    parser.add_argument("--cells", default="8", help="labelled cells to train, or 'all' (every distinct labelled network)")
    parser.add_argument("--ids", default=None, help="comma-separated benchmark ids to train instead of --cells (e.g. to recheck some)")
    parser.add_argument("--shard", default="0/1", help="K/N: train every N-th cell from the K-th (N processes share one --out)")
    parser.add_argument("--steps", type=int, default=150, help="one budget (optimizer steps per cell)")
    parser.add_argument("--budgets", default=None, help="comma-separated cumulative step budgets, e.g. 25,50,100")
    parser.add_argument("--min-steps", type=int, default=None, help="budgets = the rungs of train=halving ...")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--eta", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=None, help="also a wall-clock cap per budget")
    parser.add_argument("--emsize", type=int, default=None, help="rnn: default 64")
    parser.add_argument("--nhid", type=int, default=None, help="rnn: default 96")
    parser.add_argument("--nlayers", type=int, default=None, help="rnn: default 3")
    parser.add_argument("--batch-size", type=int, default=None, help="rnn: default 20; bert: train=halving's (16)")
    parser.add_argument("--bptt", type=int, default=None, help="rnn: default 70")
    parser.add_argument("--bptt-mode", default=None, choices=["variable", "fixed"], help="rnn: default variable")
    parser.add_argument("--recurrent-weights", default=None, choices=["frozen", "trained"], help="rnn: default frozen")
    parser.add_argument("--seq-len", type=int, default=None, help="bert: tokens per sequence (default train=halving's, 128)")
    parser.add_argument("--lr", type=float, default=None, help="rnn: default 1e-3; bert: train=halving's (5e-4)")
    parser.add_argument("--eval-max-tokens", type=int, default=None, help="rnn: default the whole PTB test split")
    parser.add_argument("--seed", type=int, default=0, help="draws the cells and seeds every model")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap draws for the intervals")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help="directory for checkpoints, curves and the report")
    parser.add_argument("--metrics-csv", type=Path, default=None,
                        help="a metrics CSV of the pool (e.g. results/bert/bert_metrics_fast.csv): the report adds each metric's tau on the same cells")
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)
    budgets = budgets_from(args)
    cells = ids_from(args.ids) if args.ids else cells_from(args.cells)
    shard = shard_from(args.shard)
    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="validate_training_"))
    space, options = space_and_options(args)
    scores = read_metric_scores(args.metrics_csv) if args.metrics_csv else None
    print(f"validate_training: {args.space}, {args.ids or args.cells} cells (shard {args.shard}), budgets {budgets} steps, "
          f"model {getattr(space, 'model_kwargs', {})}, {options}", flush=True)
    report = validate_budgets(space, cells=cells, budgets=budgets, seed=args.seed, options=options, out=out,
                              minutes=args.minutes, device=args.device, eta=args.eta, draws=args.bootstrap, shard=shard,
                              log=lambda m: print(m, flush=True), metric_scores=scores)
    for b in report["budgets"]:
        print(f"validate_training: {b['steps']} steps: Kendall tau {b['kendall_tau']:.3f} "
              f"[{b['tau_ci95'][0]:.3f}, {b['tau_ci95'][1]:.3f}], Spearman rho {b['spearman_rho']:.3f} "
              f"({b['failed']} failed)", flush=True)
    stem = "validate_training" if shard[1] == 1 else f"validate_training.shard-{shard[0]}-of-{shard[1]}"
    print(f"validate_training: report {out / (stem + '.md')}", flush=True)
    return report

