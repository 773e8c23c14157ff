"""Measured search quality at equal training cost (logic: tfnas/experiments/compare.py).

    tfnas compare --seeds 20 --budget 100 --out results/compare_strategies
    tfnas compare --spaces rnn --labels my_losses.csv --json rnn.json
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tfnas.experiments.compare import compare


def step_range(text: str) -> tuple[int, int]:
    """MIN,MAX step budgets of the replayed halving's first and last rungs."""
    try:
        low, high = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX (two step budgets, e.g. 50,400), got {text!r}") from None
    return low, high


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tfnas compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", default="rnn,bert", help="comma-separated spaces with a tabular benchmark")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100, help="proxy evaluations per search")
    parser.add_argument("--trainings", default="1,3,10", help="k: trainings (benchmark queries) per search")
    parser.add_argument("--labels", default=None, help="CSV model_id,target (+ recipe/arch or hash) replacing the benchmark's targets")
    parser.add_argument("--higher-is-better", action="store_true", help="the labels' target is better when higher")
    parser.add_argument("--pipelines", default=None, help="comma-separated subset (strategy, metric, label or train names: halving)")
    parser.add_argument("--override", action="append", default=[], help="extra Hydra override for every search (repeatable)")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default="compare_out")
    parser.add_argument("--training-curves", default=None,
                        help="comma-separated CSVs of scripts/validate_training.py (short-training losses; each applies to the "
                             "space whose benchmark column it has); adds the halving row. Architectures the shortlists reach without a curve "
                             "are listed in OUT/<space>_missing_curves.txt, with the command that records them")
    parser.add_argument("--halving-top-k", type=int, default=None,
                        help="candidates entering the halving's first rung (default: train=halving's top_k)")
    parser.add_argument("--halving-steps", type=step_range, default=None,
                        help="MIN,MAX: first and last rung budgets of the replayed halving (default: train=halving's min_steps, max_steps)")
    parser.add_argument("--halving-metric", default=None,
                        help="comma-separated metrics whose shortlists go through the replayed halving (default: the space's default metric)")
    parser.add_argument("--json", default=None, help="write the issue-13 JSON report of the (single) space here")
    args = parser.parse_args(argv)
    compare([s for s in args.spaces.split(",") if s], args.seeds, args.budget, [int(k) for k in args.trainings.split(",")],
            Path(args.out), labels=args.labels, higher_is_better=args.higher_is_better,
            cache_dir=Path(args.cache_dir) if args.cache_dir else None, pipelines=args.pipelines,
            json_path=Path(args.json) if args.json else None, extra=args.override,
            training_curves=[Path(p) for p in (args.training_curves or '').split(',') if p], halving_top_k=args.halving_top_k,
            halving_steps=args.halving_steps,
            halving_metrics=[m for m in (args.halving_metric or "").split(",") if m])

