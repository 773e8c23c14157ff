"""Scoring throughput per search.eval_batch against one-at-a-time scoring, or model build times, side by side in one run.

    tfnas bench --space rnn --metrics hidden_cov --archs 32 --eval-batch 1,8,32
    tfnas bench --space bert --metrics paper --archs 16 --device cuda --eval-batch 1,8
    tfnas bench --space rnn --archs 20 --build-time

See tfnas.experiments.bench_packs for what is timed and how.
"""
from __future__ import annotations

import argparse

from tfnas.errors import ConfigError
from tfnas.experiments.script import json_object


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tfnas bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--space", choices=["rnn", "bert"], default="rnn")
    p.add_argument("--eval-batch", default=None, help="comma-separated batch sizes, e.g. 1,8,32 (scored as search.eval_batch scores)")
    p.add_argument("--build-time", action="store_true", help="time the model builds instead of scoring")
    p.add_argument("--metrics", default="hidden_cov", help="conf/metric names, 'paper', 'zoo' or 'all' (default hidden_cov)")
    p.add_argument("--archs", type=int, default=32, help="the first N labelled architectures of the space's benchmark")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--rounds", type=int, default=3, help="with --eval-batch: rounds, each scoring every configuration once")
    p.add_argument("--count-kernels", action="store_true",
                   help="with --eval-batch: also count the operators dispatched per architecture (each a kernel launch on a GPU)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--space-json", default="{}", help="JSON keyword arguments of the space (sizes, presets)")
    p.add_argument("--out", default=None, help="also write the report to this file")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    sizes = _sizes(args.eval_batch) if args.eval_batch is not None else []
    if not sizes and not args.build_time:
        raise ConfigError("--eval-batch", "give --eval-batch SIZES or --build-time")
    if args.archs < 1 or (sizes and args.archs < max(sizes)):
        raise ConfigError("--archs", f"must be a positive integer and at least the largest --eval-batch ({max(sizes, default=1)}), got {args.archs}")
    if args.rounds < 1:
        raise ConfigError("--rounds", f"must be a positive integer, got {args.rounds}")
    space_kwargs = json_object(args.space_json, "--space-json")
    import torch

    from tfnas.build import device_option
    from tfnas.threads import clamp_threads
    from tfnas.experiments import bench_packs
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.experiments.rnn_table import metric_names
    from tfnas.search_space import SPACES

    device = device_option(args.device)
    _, args.threads = clamp_threads(1, args.threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    space = SPACES.get(args.space)(**space_kwargs)
    archs = bench_packs.labelled(space, args.archs)
    if args.build_time:
        report = bench_packs.bench_build_time(space, archs, device, args.seed)
    else:
        metrics = [build_metric(n) for n in metric_names(args.metrics, args.space)]
        report = bench_packs.bench_eval_batch(space, metrics, archs, sizes, device, args.rounds, args.seed, kernels=args.count_kernels)
    print(report)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(report + "\n", encoding="utf-8")
    return 0


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise ConfigError("--eval-batch", f"comma-separated positive integers, e.g. 1,8,32; got {text!r}")
    return sizes
