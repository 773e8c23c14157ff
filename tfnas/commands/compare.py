"""Measured search quality: every pipeline on a compute axis (default), or at equal training cost (--trainings).

Compute axis (tfnas/experiments/compare_compute.py): each pipeline is charged in training steps (a
short-training rung its steps, a full training --full-steps, a candidate continued to a full training
the steps it lacks) and sizes itself to each of --compute-budgets (in full trainings) without reading
any label; rungs are replayed on recorded learning curves (--training-curves: validate_training.csv-
shaped files, from tfnas validate-training or any tool; by default the ones the space ships).

    tfnas compare --spaces rnn --training-curves results/validate_training/all_cells/validate_training.csv \\
        --seeds 100 --compute-budgets 1,1.5,2,3,5 --out results/compare_compute --json rnn.json
    tfnas compare --spaces rnn --labels my_losses.csv --training-curves my_curves.csv --full-steps 74600 --json out.json

Equal cost (tfnas/experiments/compare.py): --trainings 1,3,10 benchmark trainings per search.

    tfnas compare --trainings 1,3,10 --seeds 20 --budget 100 --out results/compare_strategies
"""
from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

from tfnas.errors import ConfigError


def step_range(text: str) -> tuple[int, int]:
    """MIN,MAX step budgets of the replayed halving's first and last rungs."""
    try:
        low, high = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX (two step budgets, e.g. 50,400), got {text!r}") from None
    return low, high


def budgets_from(text: str) -> list[float]:
    try:
        budgets = [float(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise ConfigError("--compute-budgets", f"must be comma-separated numbers of full trainings, e.g. 1,1.5,2,3,5; got {text!r}") from None
    if not budgets or any(not math.isfinite(b) or b < 1 for b in budgets) or budgets != sorted(set(budgets)):
        raise ConfigError("--compute-budgets", f"must be increasing numbers of full trainings, each >= 1, got {text!r}")
    return budgets


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tfnas compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spaces", default=None, help="comma-separated spaces with a tabular benchmark (default: rnn on the compute "
                   "axis, whose curves ship with tfnas; rnn,bert with --trainings)")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--budget", type=int, default=100, help="proxy evaluations per search (not charged on the compute axis)")
    p.add_argument("--compute-budgets", default="1,1.5,2,3,5", help="budgets in full trainings (compute axis)")
    p.add_argument("--full-steps", type=int, default=None,
                   help="steps of one full training (default: the space's config, compare.full_steps; rnn 33200)")
    p.add_argument("--trainings", default=None, help="k: trainings (benchmark queries) per search: the equal-cost comparison")
    p.add_argument("--labels", default=None, help="CSV model_id,target (+ recipe/arch or hash) replacing the benchmark's targets")
    p.add_argument("--higher-is-better", action="store_true", help="the labels' target is better when higher")
    p.add_argument("--pipelines", default=None, help="comma-separated subset (compute axis: row names or kinds; "
                   "equal cost: strategy, metric, label or train names)")
    p.add_argument("--override", action="append", default=[], help="extra Hydra override for every search (repeatable)")
    p.add_argument("--cache-dir", default=None, help="where computed metric values are cached (default: .cache/compare)")
    p.add_argument("--out", default="compare_out")
    p.add_argument("--training-curves", default=None,
                   help="comma-separated validate_training.csv-shaped files (id, loss_<steps>, status_<steps>; each applies to the "
                        "space whose benchmark column it has, one without any to every space); default: the curves the space ships "
                        "(rnn: 215 labelled cells, 25-400 steps on PTB)")
    p.add_argument("--halving-top-k", type=int, default=None, help="equal cost: entrants of the halving row (default: train=halving's)")
    p.add_argument("--halving-steps", type=step_range, default=None, help="equal cost: MIN,MAX rungs of the halving row")
    p.add_argument("--halving-metric", default=None, help="equal cost: metrics whose rankings go through halving")
    p.add_argument("--json", default=None, help="compute axis: write the report of the (single) space here")
    return p


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    spaces = [s for s in (args.spaces or ("rnn,bert" if args.trainings is not None else "rnn")).split(",") if s]
    curves = [Path(p) for p in (args.training_curves or "").split(",") if p]
    cache = Path(args.cache_dir) if args.cache_dir else None
    if args.seeds < 1 or args.budget < 1:
        raise ConfigError("--seeds" if args.seeds < 1 else "--budget", "must be a positive integer")
    if args.trainings is not None:
        from tfnas.experiments.compare import compare

        if args.json:
            raise ConfigError("--json", "writes the compute-axis report; drop --trainings (equal-cost tables go to --out)")
        compare(spaces, args.seeds, args.budget, [int(k) for k in args.trainings.split(",")], Path(args.out), labels=args.labels,
                higher_is_better=args.higher_is_better, cache_dir=cache, pipelines=args.pipelines, extra=args.override,
                training_curves=curves, halving_top_k=args.halving_top_k, halving_steps=args.halving_steps,
                halving_metrics=[m for m in (args.halving_metric or "").split(",") if m])
        return
    from tfnas.experiments.compare_compute import run_compute

    budgets = budgets_from(args.compute_budgets)
    if args.json and len(spaces) != 1:
        raise ConfigError("--spaces", f"--json writes one space's report: pass exactly one space (e.g. --spaces rnn), got {','.join(spaces)!r}")
    if args.full_steps is not None and args.full_steps < 1:
        raise ConfigError("--full-steps", f"must be a positive number of steps, got {args.full_steps}")
    command = "tfnas compare " + " ".join(shlex.quote(a) for a in (sys.argv[2:] if argv is None else argv))
    for name in spaces:
        run_compute(name, Path(args.out), curves, budgets, args.seeds, args.budget, full_steps=args.full_steps, labels=args.labels,
                    higher_is_better=args.higher_is_better, cache_dir=cache, pipelines=args.pipelines,
                    json_path=Path(args.json) if args.json else None, extra=args.override, command=command)
