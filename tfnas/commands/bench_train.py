"""Training steps per second of the RNN trainer (eager and compiled time step) against an nn.LSTM language model of
the same sizes, side by side in one run.

    tfnas bench train --space rnn --device cuda --steps 50
    tfnas bench train --space rnn --steps 5 --rounds 2 --space-json '{"model": {"emsize": 64, "nhid": 96}}'

See tfnas.experiments.bench_train for what is timed and how.
"""
from __future__ import annotations

import argparse

from tfnas.errors import ConfigError
from tfnas.experiments.script import json_object


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tfnas bench train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", choices=["rnn"], default="rnn", help="the space whose trainer is timed (rnn)")
    parser.add_argument("--arch", default="1000001", help="a NAS-Bench-NLP recipe id (default 1000001: the LSTM cell)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per configuration and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (compiling happens there)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--space-json", default="{}", help="JSON keyword arguments of the space (model sizes)")
    parser.add_argument("--train-json", default="{}", help="JSON train.rnn options (batch_size, bptt, ...)")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    for field, value in (("--steps", args.steps), ("--rounds", args.rounds)):
        if value < 1:
            raise ConfigError(field, f"must be a positive integer, got {value}")
    if args.warmup < 1:
        raise ConfigError("--warmup", f"at least 1 (the first step builds caches and compiles), got {args.warmup}")
    kwargs = {field: json_object(text, field)
              for field, text in (("--space-json", args.space_json), ("--train-json", args.train_json))}
    if "compile" in kwargs["--train-json"]:
        raise ConfigError("--train-json", "compile is what the bench varies; leave it out")
    import torch

    from tfnas.build import device_option
    from tfnas.threads import clamp_threads
    from tfnas.experiments.bench_train import bench_train
    from tfnas.search_space import SPACES

    device = device_option(args.device)
    _, args.threads = clamp_threads(1, args.threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    from tfnas.experiments.rnn_table import load_recipes

    space = SPACES.get(args.space)(**kwargs["--space-json"])
    recipes = load_recipes()
    if not args.arch.isdigit() or int(args.arch) not in recipes:
        raise ConfigError("--arch", f"no NAS-Bench-NLP recipe {args.arch!r}; e.g. 1000001 (the LSTM cell)")
    space.trainer_class().check_data(space, kwargs["--train-json"])
    report = bench_train(space, recipes[int(args.arch)], device, args.steps, args.rounds, args.warmup, kwargs["--train-json"])
    print(report)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(report + "\n", encoding="utf-8")
    return 0
