"""Seconds per architecture of the whole BERT metric suite, full (128 x 512) vs fast presets, the
fraction of large-GEMM throughput reached, and how well each fast preset ranks like the full one.

    tfnas bench --space bert --archs 50 --out bench_bert
    tfnas bench --space bert --archs 3 --presets full,32x128   # quick look

Writes <out>/<preset>.csv (id, seconds, gflop, then one column per metric; streamed, resumable:
rerunning skips ids already there) and <out>/summary.json; prints a table. Spearman per metric
is computed over the architectures scored by every preset. On a shared machine absolute times
drift: the GEMM reference is measured in the same run, before and after, and ratios are reported.
"""
from __future__ import annotations

import argparse

from tfnas.threads import clamp_threads


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tfnas bench --space bert", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", type=int, default=50, help="first N benchmark architectures")
    parser.add_argument("--backward-target", default="ones", choices=("ones", "random"),
                        help="the space's backward_target (ones: the paper's; random: real gradients)")
    parser.add_argument("--offset", type=int, default=0, help="skip the first K of those (to split work over processes)")
    parser.add_argument("--no-summary", action="store_true", help="score only; summarise in a later run")
    parser.add_argument("--presets", default="full,fast", help="comma list: full, fast, or BxT such as 16x128")
    parser.add_argument("--out", default="bench_bert", help="output folder")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1: on a machine shared by other jobs, one thread per process is "
        "2-3x faster than a contended pool; 0 keeps torch's default)",
    )
    parser.add_argument("--metrics", default="paper", help='"paper", "zoo", "all" or a comma list of conf/metric names')
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)
    from tfnas.experiments.bench_bert import bench_bert

    bench_bert(args)

