"""How much strategy=ensemble's result depends on its settings, on held-out seeds and on halves of the pool.

    tfnas sensitivity --seeds 20 --out results/compare_strategies
(logic: tfnas/experiments/sensitivity.py)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tfnas.experiments.sensitivity import sensitivity


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tfnas sensitivity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", default="rnn,bert")
    parser.add_argument("--seeds", type=int, default=20, help="runs seeds [N, 2N): not those of compare_strategies")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--trainings", default="1,3,10")
    parser.add_argument("--labels", default=None)
    parser.add_argument("--higher-is-better", action="store_true")
    parser.add_argument("--out", default="compare_out")
    args = parser.parse_args(argv)
    sensitivity([s for s in args.spaces.split(",") if s], args.seeds, args.budget, [int(k) for k in args.trainings.split(",")],
                Path(args.out), labels=args.labels, higher_is_better=args.higher_is_better)

