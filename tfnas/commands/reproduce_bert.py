"""Reproduce the paper's NAS-Bench-BERT table: every BERT metric on the benchmark's 500
architectures, rank correlation with GLUE beside the published values, the depth/width ordinal
baseline, the qualitative pruning rule, and figures.

    tfnas reproduce bert                      # fast preset, all 500
    tfnas reproduce bert --limit 50 --out bert50.csv
    tfnas reproduce bert --full               # the paper's 128 x 512 batch
    tfnas reproduce bert --metrics zoo --out results/bert/zoo_metrics_fast.csv

Rows are streamed to --out (`id`, one column per metric, `undefined`, `seconds`) as each
architecture finishes; rerunning with the same --out skips the ids already there (resumable;
tfnas.experiments.pool_scoring). The correlation table goes to <out stem>_table.csv and the figures
to <out stem>_figures/ (PNG) (tfnas.experiments.bert_table). Published values:
BERT_results_activation.csv (computed by the paper's code at hidden 256 / feed-forward 1024
whatever the architecture; ours build each architecture as described).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfnas.threads import clamp_threads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tfnas reproduce bert", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's 128 x 512 batch instead of the fast preset")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N benchmark architectures")
    parser.add_argument("--out", default=None, help="CSV of metric values (default results/bert_metrics_<preset>.csv)")
    parser.add_argument("--metrics", default="paper",
                        help='"paper" (the paper\'s suite), "zoo" (the zero-cost proxies), "all", or a comma list of conf/metric names')
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine; 0: default)")
    parser.add_argument("--no-score", action="store_true", help="only analyse an existing --out")
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)

    import torch

    from tfnas.experiments.bert_table import analyse
    from tfnas.experiments.pool_scoring import score_pool
    from tfnas.experiments.rnn_table import build_metric, metric_names
    from tfnas.search_space import SPACES

    if args.threads:
        torch.set_num_threads(args.threads)
    preset = "full" if args.full else "fast"
    out = Path(args.out or f"results/bert_metrics_{preset}.csv")
    space = SPACES.get("bert")(preset=preset)
    names = metric_names(args.metrics, "bert")
    if not args.no_score:
        pool = space.benchmark().pool()[: args.limit]

        def progress(i, total, arch_id, seconds, undefined):
            flag = f" undefined: {','.join(undefined)}" if undefined else ""
            if not sys.stdout.isatty():  # one line per architecture in logs; a terminal gets the bar
                print(f"[{i}/{total}] id {arch_id}: {seconds:.2f}s{flag}", flush=True)

        score_pool("bert", {"preset": preset}, names, [(i, space.to_json(a)) for i, a in pool], out, "id",
                   threads=args.threads, seed=args.seed, device=args.device, progress=progress)
    analyse(space, out, [build_metric(n) for n in names])
    return 0

