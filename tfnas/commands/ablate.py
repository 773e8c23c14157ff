"""Ablations of the RNN metrics, as the paper ran them but done right.

    tfnas ablate --metrics hidden_cov,jacobian_cosine --out runs/ablation.csv

For 10 architectures (the paper's ablation models where recipes.json has them, then the first
labelled ones), scores each metric on 10 NON-overlapping minibatches (windows k*T..(k+1)*T of
the batchified test split, seed 0) and with 10 initialisation seeds (window 0). Reports per
metric and per factor the coefficient of variation (std / |mean| over the 10 repeats, median
over architectures) and the between/within ratio (variance of the architecture means over the
mean within-architecture variance: > 1 means the metric separates architectures more than the
batch or seed moves it). Undefined values are flagged and counted, and left out of the statistics.
"""
from __future__ import annotations

import argparse

from tfnas.experiments.ablation import PAPER_MODELS, run_ablation, variation  # noqa: F401  (variation: tests)
from tfnas.threads import clamp_threads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tfnas ablate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", default="all")
    parser.add_argument("--archs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", required=True, help="CSV of raw scores (model_id, factor, index, metrics...)")
    parser.add_argument("--space", default="{}", help="JSON overrides of the rnn space")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)

    print(run_ablation(args))
    return 0

