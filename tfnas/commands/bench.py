"""Seconds per architecture of each metric, of the paper's whole suite and of the zero-cost proxy zoo,
side by side in one run, with the GEMM throughput and load average of the machine in the same run.

    tfnas bench --space rnn --archs 20
    tfnas bench --space rnn --archs 5 --metrics hidden_cov --threads 1
    tfnas bench --space bert --archs 50 --presets full,fast

RNN (tfnas.experiments.bench): for each of the first --archs labelled architectures (full benchmark
size by default), times each metric of --metrics alone and each group of --groups in one shared
probe (default: the paper's suite, the zoo, the zoo without grasp), and reports medians and the
per-architecture ratio of each group to the first. BERT: tfnas.commands.bench_bert. The study's reads:
`tfnas bench study-reads`. Scoring throughput per search.eval_batch and model build times (either space):
`tfnas bench --eval-batch 1,8,32`, `tfnas bench --build-time` (tfnas.commands.bench_packs). Training speed
against a cuDNN-style LSTM: `tfnas bench train` (tfnas.commands.bench_train).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfnas.experiments.script import json_object
from tfnas.threads import clamp_threads


DEFAULT_GROUPS = "paper=paper;zoo=zoo;zoo_without_grasp=epe_nas,fisher,flops,grad_norm,l2_norm,plain,snip,zen,zico"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "study-reads":
        from tfnas.commands.bench_study_reads import main as study_reads

        return study_reads(argv[1:])
    if argv and argv[0] == "train":
        from tfnas.commands.bench_train import main as bench_train

        return bench_train(argv[1:])
    if any(a in ("--build-time", "--eval-batch") or a.startswith("--eval-batch=") for a in argv):
        from tfnas.commands.bench_packs import main as bench_packs

        return bench_packs(argv)
    chooser = argparse.ArgumentParser(prog="tfnas bench", add_help=False)
    chooser.add_argument("--space", choices=["rnn", "bert"], default="rnn")
    chosen, rest = chooser.parse_known_args(argv)
    if chosen.space == "bert":  # the BERT benchmark has its own options (presets, backward target)
        from tfnas.commands.bench_bert import main as bench_bert

        return bench_bert(rest)
    parser = argparse.ArgumentParser(prog="tfnas bench", description=__doc__.split("\n\n")[0], parents=[chooser])
    parser.add_argument("--archs", type=int, default=20)
    parser.add_argument("--metrics", default="", help="metrics timed one by one (conf/metric names, 'paper', 'zoo' or 'all')")
    parser.add_argument("--groups", default=DEFAULT_GROUPS,
                        help="';'-separated NAME=METRICS groups timed in one shared probe each (first: the reference)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gemm-size", type=int, default=2048)
    parser.add_argument("--space-json", default="{}", help="JSON overrides of the rnn space")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    parser.add_argument("--load", type=int, default=0,
                        help="N > 0: time the metrics of --suite per architecture idle and beside N busy processes, in "
                             "this run (torch threads chosen as search.threads=null chooses them)")
    parser.add_argument("--suite", default="hidden_cov", help="with --load: the metrics timed together in one probe")
    parser.add_argument("--load-fixed-threads", default="",
                        help="with --load: also time these fixed thread counts under load (comma-separated, e.g. 2)")
    args = parser.parse_args(argv)
    _, args.threads = clamp_threads(1, args.threads)
    if args.load > 0:
        from tfnas.experiments.load import bench_load

        fixed = tuple(int(t) for t in args.load_fixed_threads.split(",") if t.strip())
        return _emit(bench_load(args.archs, args.suite, args.load, fixed), args.out)


    from tfnas.experiments.bench import bench_rnn
    from tfnas.experiments.rnn_table import metric_names

    singles = metric_names(args.metrics) if args.metrics else []
    groups = {}
    for part in filter(None, args.groups.split(";")):
        name, _, spec = part.partition("=")
        groups[name] = metric_names(spec)
    report = bench_rnn(args.archs, singles, groups, args.threads, args.gemm_size, json_object(args.space_json, "--space-json"))
    return _emit(report, args.out)


def _emit(report: str, out: str | None) -> int:
    print(report)
    if out:
        Path(out).write_text(report + "\n", encoding="utf-8")
    return 0

